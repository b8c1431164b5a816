package shell

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/query"
)

// remoteError is a statement error from the gateway, with the text that
// was sent (which its line and column refer to).
type remoteError struct {
	sent string
	qe   *client.QueryError
}

func (e *remoteError) Error() string { return e.qe.Message }

// report prints a failed statement's error: positioned errors (local
// syntax errors and the gateway's) show the statement with a caret under
// the bad position. In a script, line numbers count from the script's
// start.
func (s *Shell) report(st stmtText, err error) {
	var (
		qe *query.Error
		re *remoteError
		ue *url.Error
	)
	switch {
	case errors.As(err, &qe) && qe.Pos.Line > 0:
		s.reportAt(st, st.text, qe.Pos.Line, qe.Pos.Column, qe.Msg)
	case errors.As(err, &re) && re.qe.Line > 0:
		s.reportAt(st, re.sent, re.qe.Line, re.qe.Column, positionless(re.qe.Message))
	case errors.As(err, &re) && positionPrefix(re.qe.Message) != nil:
		// The gateway names the position only in its message (errors
		// found when binding a SELECT to the table's keys).
		p := positionPrefix(re.qe.Message)
		s.reportAt(st, re.sent, p[0], p[1], positionless(re.qe.Message))
	case errors.As(err, &re):
		s.errorf("error%s: %s", s.where(st), describeQueryError(re.qe))
	case errors.Is(err, context.DeadlineExceeded):
		s.errorf("error%s: the gateway did not answer in time", s.where(st))
	case errors.As(err, &ue):
		s.errorf("error%s: cannot reach the gateway at %s: %v", s.where(st), gatewayOf(ue.URL), ue.Err)
	default:
		s.errorf("error%s: %v", s.where(st), err)
	}
}

// reportAt prints "error: line L, column C: msg" and the caret display.
func (s *Shell) reportAt(st stmtText, src string, line, col int, msg string) {
	shown := line
	if !s.cfg.Interactive && st.line > 0 {
		shown = st.line + line - 1
	}
	s.errorf("error%s: line %d, column %d: %s", s.source(), shown, col, msg)
	s.errorf("%s", caret(src, line, col))
}

// where names a statement's place in a script, for errors without a
// position.
func (s *Shell) where(st stmtText) string {
	if s.cfg.Interactive || st.line == 0 {
		return s.source()
	}
	return fmt.Sprintf("%s: line %d", s.source(), st.line)
}

func (s *Shell) source() string {
	if s.cfg.Source == "" || s.cfg.Interactive {
		return ""
	}
	return " in " + s.cfg.Source
}

// gatewayOf cuts a request URL down to the gateway's address.
func gatewayOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

// describeQueryError renders a gateway error; the message is meant for
// people, the code is added when it says something the message does not.
func describeQueryError(qe *client.QueryError) string {
	if qe.Message == "" {
		return qe.Code
	}
	return qe.Message
}

// positionPrefix reads the "line L, column C: " a message starts with.
func positionPrefix(msg string) []int {
	var line, col int
	var rest string
	if n, _ := fmt.Sscanf(msg, "line %d, column %d:%s", &line, &col, &rest); n < 2 || line < 1 || col < 1 {
		return nil
	}
	return []int{line, col}
}

// positionless drops the "line L, column C: " that a gateway message may
// repeat from the parser's error.
func positionless(msg string) string {
	if strings.HasPrefix(msg, "line ") {
		if _, rest, ok := strings.Cut(msg, ": "); ok && strings.Contains(msg[:len(msg)-len(rest)], "column") {
			return rest
		}
	}
	return msg
}

// caretContext is how many source lines are shown up to the bad one.
const caretContext = 3

// caret renders the source lines up to line (1-based), indented, and a
// caret under column col (1-based, in characters). Tabs are kept in the
// padding and wide characters counted double, so the caret lines up on a
// terminal.
func caret(src string, line, col int) string {
	lines := strings.Split(src, "\n")
	line = min(max(line, 1), len(lines))
	var b strings.Builder
	for i := max(0, line-caretContext); i < line; i++ {
		b.WriteString("  " + lines[i] + "\n")
	}
	b.WriteString("  ")
	runes := []rune(lines[line-1])
	for i := 0; i < col-1; i++ {
		switch {
		case i >= len(runes):
			b.WriteByte(' ')
		case runes[i] == '\t':
			b.WriteByte('\t')
		default:
			b.WriteString(strings.Repeat(" ", max(text.RuneWidth(runes[i]), 0)))
		}
	}
	b.WriteByte('^')
	return b.String()
}
