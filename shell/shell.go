package shell

import (
	"fmt"
	"io"
	"sync"

	"github.com/ringtable/ringtable/gateway/client"
)

// Shell is one session: its settings, the contexts it has seen and the
// tables it knows. Create it with New and drive it with Run.
type Shell struct {
	cfg  Config
	eval Evaluator

	// Session settings, changed by meta commands and shell statements.
	format  Format
	expand  bool
	timing  bool
	tracing bool
	r, w    int // CONSISTENCY; 0 means the table's

	contexts *contextMemory
	reader   lineReader // nil until Run
	failed   bool       // a statement failed (for ErrFailed)

	// mu guards what the completer reads from readline's goroutine.
	mu struct {
		sync.Mutex
		tables  map[string]client.Table // by name, from SHOW TABLES
		fetched bool                    // tables is current
		pending string                  // unfinished statement text before the current line
	}
}

// New returns a session that runs statements with eval.
func New(cfg Config, eval Evaluator) (*Shell, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if eval == nil {
		return nil, fmt.Errorf("shell: no Evaluator")
	}
	s := &Shell{cfg: cfg, eval: eval, format: cfg.Format, contexts: newContextMemory(cfg.ContextMemory)}
	s.mu.tables = map[string]client.Table{}
	return s, nil
}

// printf writes to Out; output errors (a closed pipe) are not the
// statement's fault and surface when the script ends.
func (s *Shell) printf(format string, args ...any) { fmt.Fprintf(s.cfg.Out, format, args...) }

// notef writes an informational note: to Out with table output, to Err
// with json and csv so that machine-readable output stays clean.
func (s *Shell) notef(format string, args ...any) {
	w := s.cfg.Out
	if s.format != FormatTable {
		w = s.cfg.Err
	}
	fmt.Fprintf(w, format+"\n", args...)
}

// errorf reports a failure to Err.
func (s *Shell) errorf(format string, args ...any) { fmt.Fprintf(s.cfg.Err, format+"\n", args...) }

func (s *Shell) out() io.Writer { return s.cfg.Out }
