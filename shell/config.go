package shell

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Format is how results are printed.
type Format string

const (
	FormatTable Format = "table" // aligned columns, the default
	FormatJSON  Format = "json"  // one JSON object per line (per row, table or result)
	FormatCSV   Format = "csv"   // RFC 4180, with a header per result
)

func parseFormat(s string) (Format, bool) {
	switch f := Format(s); f {
	case FormatTable, FormatJSON, FormatCSV:
		return f, true
	}
	return "", false
}

// Config is what a Shell needs from its caller; cmd/ringtable builds it from
// flags, the environment and the terminal.
type Config struct {
	// In is read line by line. When Interactive, In must be the terminal
	// (os.Stdin): readline puts file descriptor 0 into raw mode.
	In io.Reader
	// Out receives results; Err receives errors, notes and progress bars.
	Out, Err io.Writer
	// Interactive uses readline: prompts, history, completion, paging of
	// long SELECTs. Otherwise input is a script: no prompts, plain output,
	// and Run stops at the first error unless ContinueOnError.
	Interactive bool
	// HistoryFile keeps interactive history across sessions; "" keeps none.
	HistoryFile string
	// HistoryLimit bounds the history file (default 1000 entries).
	HistoryLimit int
	// Source names the script in error messages ("" for none).
	Source string
	// Echo prints each input line of a script before running it, so the
	// output reads as a transcript (psql -a).
	Echo bool
	// Format is the initial output format (default table).
	Format Format
	// ContinueOnError keeps a script running after a failed statement; Run
	// still returns ErrFailed at the end.
	ContinueOnError bool
	// Progress draws progress bars on Err (for COPY); set it when Err is a
	// terminal.
	Progress bool
	// Interrupts delivers Ctrl-C while a statement or WATCH runs (the
	// terminal is then in cooked mode, so Ctrl-C is a signal). The running
	// statement is cancelled; a script stops. nil: no interrupts.
	Interrupts <-chan os.Signal
	// Now reads the clock for \timing (default time.Now).
	Now func() time.Time
	// ContextMemory bounds the remembered (table, key) contexts (default
	// 10000; the oldest are forgotten first).
	ContextMemory int
}

// DefaultConfig returns a Config for a script on stdin.
func DefaultConfig() Config {
	return Config{
		In:            os.Stdin,
		Out:           os.Stdout,
		Err:           os.Stderr,
		Format:        FormatTable,
		HistoryLimit:  1000,  // a few months of typing, read in milliseconds
		ContextMemory: 10000, // a few MB at most, and more keys than anyone reads by hand
	}
}

// Validate checks c and fills unset optional fields with their defaults.
func (c *Config) Validate() error {
	if c.In == nil || c.Out == nil || c.Err == nil {
		return errors.New("shell: In, Out and Err must be set")
	}
	if c.Format == "" {
		c.Format = FormatTable
	}
	if _, ok := parseFormat(string(c.Format)); !ok {
		return fmt.Errorf("shell: unknown format %q (table, json or csv)", c.Format)
	}
	if c.HistoryLimit <= 0 {
		c.HistoryLimit = 1000
	}
	if c.ContextMemory <= 0 {
		c.ContextMemory = 10000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}
