package shell

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringtable/ringtable/query"
)

// metaCommand is a backslash command: it acts on the session, never on
// data, and needs no ';'.
type metaCommand struct {
	names []string // first is the canonical name
	args  string   // for \help
	help  string
	run   func(s *Shell, ctx context.Context, args []string) (quit bool, err error)
}

var metaCommands []metaCommand // set in init: run functions refer to it through \help

func init() {
	metaCommands = []metaCommand{
		{[]string{`\help`, `\h`, `\?`}, "[statement]", "show help, or the syntax of a statement", (*Shell).metaHelp},
		{[]string{`\quit`, `\q`, `\exit`}, "", "leave the shell (also Ctrl-D)", func(*Shell, context.Context, []string) (bool, error) { return true, nil }},
		{[]string{`\tables`, `\dt`}, "", "list the tables (SHOW TABLES)", (*Shell).metaTables},
		{[]string{`\describe`, `\d`}, "table", "show a table's definition (DESCRIBE)", (*Shell).metaDescribe},
		{[]string{`\format`}, "[table|json|csv]", "how results are printed", (*Shell).metaFormat},
		{[]string{`\expand`, `\x`}, "[on|off]", "one field per line, for wide items", (*Shell).metaExpand},
		{[]string{`\timing`}, "[on|off]", "show how long each statement took", (*Shell).metaTiming},
		{[]string{`\consistency`}, "default", "forget CONSISTENCY: use each table's r and w again", (*Shell).metaConsistency},
		{[]string{`\forget`}, "", "forget the contexts of earlier reads (the next PUT is blind)", (*Shell).metaForget},
	}
}

// metaNames lists every meta command name, for completion.
func metaNames() []string {
	var out []string
	for _, m := range metaCommands {
		out = append(out, m.names...)
	}
	return out
}

func findMeta(name string) *metaCommand {
	for i := range metaCommands {
		for _, n := range metaCommands[i].names {
			if strings.EqualFold(n, name) {
				return &metaCommands[i]
			}
		}
	}
	return nil
}

// meta runs one meta command line.
func (s *Shell) meta(ctx context.Context, line string) (quit bool, err error) {
	fields := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
	if len(fields) == 0 {
		return false, nil
	}
	m := findMeta(fields[0])
	if m == nil {
		return false, fmt.Errorf("unknown command %s; \\help lists the commands", fields[0])
	}
	return m.run(s, ctx, fields[1:])
}

func (s *Shell) metaHelp(_ context.Context, args []string) (bool, error) {
	if len(args) == 0 {
		s.printf("%s", generalHelp())
		return false, nil
	}
	topic := strings.ToUpper(strings.Join(args, " "))
	if h, ok := statementHelp(topic); ok {
		s.printf("%s", h)
		return false, nil
	}
	if m := findMeta(args[0]); m != nil {
		s.printf("%s %s\n    %s\n", m.names[0], m.args, m.help)
		return false, nil
	}
	return false, fmt.Errorf("no help on %q; try \\help for the list", strings.Join(args, " "))
}

func (s *Shell) metaTables(ctx context.Context, _ []string) (bool, error) {
	st := &query.ShowTables{}
	return false, s.send(ctx, st, st.String())
}

func (s *Shell) metaDescribe(ctx context.Context, args []string) (bool, error) {
	if len(args) != 1 {
		return false, errors.New(`usage: \describe TABLE`)
	}
	st := &query.Describe{Table: unquoteName(args[0])}
	return false, s.send(ctx, st, st.String())
}

func (s *Shell) metaFormat(_ context.Context, args []string) (bool, error) {
	if len(args) == 1 {
		f, ok := parseFormat(strings.ToLower(args[0]))
		if !ok {
			return false, fmt.Errorf("unknown format %q: table, json or csv", args[0])
		}
		s.format = f
	} else if len(args) > 1 {
		return false, errors.New(`usage: \format table|json|csv`)
	}
	s.notef("Output format is %s.", s.format)
	return false, nil
}

func (s *Shell) metaExpand(_ context.Context, args []string) (bool, error) {
	err := toggle(&s.expand, args, `\expand`)
	if err == nil {
		s.notef("Expanded display is %s.", onOff(s.expand))
	}
	return false, err
}

func (s *Shell) metaTiming(_ context.Context, args []string) (bool, error) {
	err := toggle(&s.timing, args, `\timing`)
	if err == nil {
		s.notef("Timing is %s.", onOff(s.timing))
	}
	return false, err
}

func (s *Shell) metaConsistency(_ context.Context, args []string) (bool, error) {
	if len(args) != 1 || !strings.EqualFold(args[0], "default") {
		return false, errors.New(`usage: \consistency default (CONSISTENCY r = 1, w = 3 sets them)`)
	}
	s.r, s.w = 0, 0
	s.notef("Consistency is now r = %s, w = %s.", quorum(s.r), quorum(s.w))
	return false, nil
}

func (s *Shell) metaForget(context.Context, []string) (bool, error) {
	n := s.contexts.len()
	s.contexts = newContextMemory(s.cfg.ContextMemory)
	s.notef("Forgot the contexts of %s.", plural(n, "item"))
	return false, nil
}

// toggle sets *v from on|off; with no argument it flips it.
func toggle(v *bool, args []string, name string) error {
	switch {
	case len(args) == 0:
		*v = !*v
	case len(args) == 1 && strings.EqualFold(args[0], "on"):
		*v = true
	case len(args) == 1 && strings.EqualFold(args[0], "off"):
		*v = false
	default:
		return fmt.Errorf("usage: %s [on|off]", name)
	}
	return nil
}

// unquoteName accepts a table name written bare or in double quotes.
func unquoteName(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}
