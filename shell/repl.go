package shell

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/ringtable/ringtable/query"
)

// stmtText is one statement as the user wrote it (without its ';') and
// the input line it starts on (1-based).
type stmtText struct {
	text string
	line int
}

// Run reads and runs statements until the input ends, \quit, or (in a
// script) the first failure. It returns nil, ErrFailed, ErrInterrupted, or
// an input error.
func (s *Shell) Run(ctx context.Context) error {
	r := s.reader // set beforehand only by tests
	if r == nil {
		var err error
		if r, err = s.openReader(); err != nil {
			return err
		}
		s.reader = r
	}
	defer r.close()
	if s.cfg.Interactive {
		if err := s.refreshTables(ctx); err != nil {
			s.errorf("warning: the gateway did not answer (%v); statements will be tried anyway", err)
		}
		s.printf("ringtable shell. Statements end with ';'. \\help for help, \\quit or Ctrl-D to leave.\n")
	}

	var (
		pending strings.Builder // unfinished statement text
		start   int             // input line where pending starts
		lineNo  int
	)
	reset := func() {
		pending.Reset()
		s.setPending("")
	}
	for {
		if s.cfg.Interactive && !s.tablesFetched() {
			_ = s.refreshTables(ctx) // for completion, after CREATE IF NOT EXISTS
		}
		prompt := primaryPrompt
		if pending.Len() > 0 {
			prompt = continuationPrompt
		}
		line, err := r.readLine(prompt)
		switch {
		case errors.Is(err, errLineInterrupted):
			reset()
			continue
		case err == io.EOF:
			// A script's last statement may omit its ';'.
			if !s.cfg.Interactive && !isBlank(pending.String()) {
				if stop := s.runStatement(ctx, stmtText{strings.TrimSpace(pending.String()), start + leadingLines(pending.String())}); stop != nil {
					return stop
				}
			}
			return s.result()
		case err != nil:
			return err
		}
		lineNo++
		if s.cfg.Echo && !s.cfg.Interactive {
			s.printf("%s\n", line)
		}
		if pending.Len() == 0 {
			start = lineNo
			if quit, handled, stop := s.shellCommand(ctx, line, lineNo); handled {
				if quit || stop != nil {
					return stop
				}
				continue
			}
			if isBlank(line) {
				continue
			}
		}
		pending.WriteString(line)
		pending.WriteByte('\n')
		text := pending.String()
		stmts, rest := query.Split(text)
		for _, st := range locate(text, stmts, start) {
			if stop := s.runStatement(ctx, st); stop != nil {
				return stop
			}
		}
		if isBlank(rest) {
			reset()
			continue
		}
		start += strings.Count(text[:len(text)-len(rest)], "\n")
		pending.Reset()
		pending.WriteString(rest)
		s.setPending(rest)
	}
}

// shellCommand handles a line typed at the primary prompt that is not a
// statement: a meta command or a bare help, quit or exit.
func (s *Shell) shellCommand(ctx context.Context, line string, lineNo int) (quit, handled bool, stop error) {
	trimmed := strings.TrimSpace(line)
	word := strings.ToLower(strings.TrimSuffix(trimmed, ";"))
	switch {
	case strings.HasPrefix(trimmed, `\`):
	case word == "quit" || word == "exit":
		return true, true, s.result()
	case word == "help" || strings.HasPrefix(word, "help "):
		trimmed = `\` + strings.TrimSuffix(trimmed, ";")
	default:
		return false, false, nil
	}
	var q bool
	stop = s.run(ctx, stmtText{text: trimmed, line: lineNo}, func(ctx context.Context) (err error) {
		q, err = s.meta(ctx, trimmed)
		return err
	})
	if q && stop == nil {
		stop = s.result()
	}
	return q, true, stop
}

// runStatement runs one statement under Ctrl-C and reports its failure. A
// non-nil result ends Run.
func (s *Shell) runStatement(ctx context.Context, st stmtText) error {
	return s.run(ctx, st, func(ctx context.Context) error { return s.execute(ctx, st) })
}

// run runs fn (a statement or meta command) so that Ctrl-C cancels it,
// and reports its error. A non-nil result ends Run.
func (s *Shell) run(ctx context.Context, st stmtText, fn func(context.Context) error) error {
	ctx, stop := s.interruptible(ctx)
	err := fn(ctx)
	interrupted := stop()
	switch {
	case errors.Is(err, errStopped):
		return nil // WATCH ends with Ctrl-C
	case interrupted:
		s.errorf("cancelled")
		if !s.cfg.Interactive {
			return ErrInterrupted
		}
		return nil
	case err == nil:
		return nil
	}
	s.report(st, err)
	s.failed = true
	if !s.cfg.Interactive && !s.cfg.ContinueOnError {
		return ErrFailed
	}
	return nil
}

func (s *Shell) result() error {
	if s.failed && !s.cfg.Interactive {
		return ErrFailed
	}
	return nil
}

func (s *Shell) openReader() (lineReader, error) {
	if !s.cfg.Interactive {
		return newPlainReader(s.cfg.In), nil
	}
	return newRLReader(s.cfg, &completer{s: s})
}

// locate finds where each statement Split returned starts in text, for
// line numbers in error messages: at the first occurrence of its text
// after the previous statement that Split itself would cut there.
func locate(text string, stmts []string, firstLine int) []stmtText {
	out := make([]stmtText, 0, len(stmts))
	from := 0
	for _, st := range stmts {
		at := -1
		for i := from; i <= len(text); {
			j := strings.Index(text[i:], st)
			if j < 0 {
				break
			}
			// The occurrence must be where Split's statement starts, not
			// inside a comment or an earlier statement's string.
			if _, rest := query.Split(text[from : i+j+len(st)]); strings.TrimSpace(rest) == st {
				at = i + j
				break
			}
			i += j + 1
		}
		line := firstLine
		if at >= 0 {
			line += strings.Count(text[:at], "\n")
			from = at + len(st)
		}
		out = append(out, stmtText{text: st, line: line})
	}
	return out
}

// isBlank reports whether s holds only whitespace and complete comments.
func isBlank(s string) bool {
	if strings.TrimSpace(s) == "" {
		return true
	}
	stmts, rest := query.Split(s + "\n;")
	return len(stmts) == 0 && rest == ""
}

// leadingLines counts the blank lines before s's first non-space byte.
func leadingLines(s string) int {
	return strings.Count(s[:len(s)-len(strings.TrimLeft(s, " \t\r\n"))], "\n")
}

// setPending tells the completer what was typed before the current line.
func (s *Shell) setPending(text string) {
	s.mu.Lock()
	s.mu.pending = text
	s.mu.Unlock()
}
