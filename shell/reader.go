package shell

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"github.com/chzyer/readline"
)

// lineReader reads the shell's input one line at a time.
type lineReader interface {
	// readLine returns the next line without its end of line: io.EOF at
	// the end of input, errLineInterrupted when Ctrl-C discarded the line.
	readLine(prompt string) (string, error)
	// history switches recording of lines in the history on or off (off
	// while the pager asks for the next page).
	history(on bool)
	close() error
}

var errLineInterrupted = errors.New("line interrupted")

// plainReader reads a script: no prompts, no editing.
type plainReader struct{ r *bufio.Reader }

func newPlainReader(r io.Reader) *plainReader { return &plainReader{bufio.NewReaderSize(r, 64<<10)} }

func (p *plainReader) readLine(string) (string, error) {
	line, err := p.r.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil
	}
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

func (p *plainReader) history(bool) {}
func (p *plainReader) close() error { return nil }

// rlReader reads from the terminal with readline: editing, history kept
// in Config.HistoryFile, tab completion.
//
// NB: readline's own history saving runs after Readline has returned the
// line, racing with Close on \quit; lines are saved here instead, before
// readLine returns.
type rlReader struct {
	rl     *readline.Instance
	record bool
}

func newRLReader(cfg Config, c readline.AutoCompleter) (*rlReader, error) {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 primaryPrompt,
		HistoryFile:            cfg.HistoryFile,
		HistoryLimit:           cfg.HistoryLimit,
		HistorySearchFold:      true,
		DisableAutoSaveHistory: true,
		AutoComplete:           c,
		Stdin:                  readline.NewCancelableStdin(cfg.In),
		Stdout:                 cfg.Out,
		Stderr:                 cfg.Err,
		FuncGetWidth:           screenWidth,
	})
	if err != nil {
		return nil, err
	}
	return &rlReader{rl: rl, record: true}, nil
}

// screenWidth is the terminal's width, or 80 where it reports none (a
// serial line, a container's first moments): readline lays out
// completions by it, and at 0 completes nothing.
func screenWidth() int {
	if w := readline.GetScreenWidth(); w > 0 {
		return w
	}
	return 80
}

func (r *rlReader) readLine(prompt string) (string, error) {
	r.rl.SetPrompt(prompt)
	line, err := r.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errLineInterrupted
	}
	if err == nil && r.record && strings.TrimSpace(line) != "" {
		_ = r.rl.SaveHistory(line) // a history file that cannot be written is no reason to stop
	}
	return line, err
}

func (r *rlReader) history(on bool) { r.record = on }

func (r *rlReader) close() error { return r.rl.Close() }

const (
	primaryPrompt      = "ringtable> "
	continuationPrompt = "       ... "
)
