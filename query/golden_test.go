package query

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.txt with the current output")

// Golden files hold cases of the form
//
//	# comment
//	<command> [args]
//	<input, any number of lines>
//	----
//	<output, up to the next blank line>
//
// Commands: "parse" prints each statement's String or the error with a caret
// under the error's position; "bind <pk> [<sk>]" parses one SELECT and binds
// it to those key names; "split" prints Split's statements, rest and
// Complete. In inputs, <<x*N>> expands to N copies of x, for limit tests.

type goldenCase struct {
	comments []string // lines before the command
	command  string
	input    string
	output   string
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cases := readGolden(t, file)
			for i := range cases {
				c := &cases[i]
				got := runGolden(t, c.command, expandInput(c.input))
				if *rewrite {
					c.output = got
					continue
				}
				if got != c.output {
					t.Errorf("%s: %s\n%s\n----\ngot:\n%s\nwant:\n%s", file, c.command, c.input, got, c.output)
				}
			}
			if *rewrite {
				writeGolden(t, file, cases)
			}
		})
	}
}

func readGolden(t testing.TB, file string) []goldenCase {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var cases []goldenCase
	for i := 0; i < len(lines); {
		var c goldenCase
		for ; i < len(lines) && (lines[i] == "" || strings.HasPrefix(lines[i], "#")); i++ {
			c.comments = append(c.comments, lines[i])
		}
		if i == len(lines) {
			break
		}
		c.command = lines[i]
		var in []string
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			in = append(in, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s: case %q has no ---- line", file, c.command)
		}
		var out []string
		for i++; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.input, c.output = strings.Join(in, "\n"), strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return cases
}

func writeGolden(t *testing.T, file string, cases []goldenCase) {
	var b strings.Builder
	for i, c := range cases {
		comments := c.comments
		if i > 0 && (len(comments) == 0 || comments[0] != "") {
			comments = append([]string{""}, comments...)
		}
		for _, l := range comments {
			b.WriteString(l + "\n")
		}
		fmt.Fprintf(&b, "%s\n%s\n----\n%s\n", c.command, c.input, c.output)
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

var repeatMacro = regexp.MustCompile(`<<(.+?)\*(\d+)>>`)

func expandInput(s string) string {
	return repeatMacro.ReplaceAllStringFunc(s, func(m string) string {
		sub := repeatMacro.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return strings.Repeat(sub[1], n)
	})
}

func runGolden(t *testing.T, command, input string) string {
	fields := strings.Fields(command)
	switch fields[0] {
	case "parse":
		stmts, err := Parse(input)
		if err != nil {
			return renderError(input, err)
		}
		var out []string
		for _, s := range stmts {
			out = append(out, s.String())
		}
		return strings.Join(out, "\n")
	case "bind":
		s, err := ParseOne(input)
		if err != nil {
			return renderError(input, err)
		}
		sel, ok := s.(*Select)
		if !ok {
			t.Fatalf("bind needs a SELECT, got %s", s)
		}
		sk := ""
		if len(fields) > 2 {
			sk = fields[2]
		}
		if err := sel.Bind(fields[1], sk); err != nil {
			return renderError(input, err)
		}
		return sel.String()
	case "split":
		stmts, rest := Split(input)
		var out []string
		for _, s := range stmts {
			out = append(out, "stmt "+strconv.Quote(s))
		}
		out = append(out, "rest "+strconv.Quote(rest), fmt.Sprintf("complete %v", Complete(input)))
		return strings.Join(out, "\n")
	}
	t.Fatalf("unknown command %q", command)
	return ""
}

// renderError prints the error and, for readable lines, the line with a
// caret under the column, so positions can be checked by eye.
func renderError(input string, err error) string {
	out := "error: " + err.Error()
	qe, ok := err.(*Error)
	if !ok {
		return "non-*Error " + out
	}
	lines := strings.Split(input, "\n")
	if qe.Pos.Line < 1 || qe.Pos.Line > len(lines) {
		return out
	}
	line := lines[qe.Pos.Line-1]
	if utf8.RuneCountInString(line) > 100 || strings.ContainsAny(line, "\t\r") {
		return out
	}
	return out + "\n  " + line + "\n  " + strings.Repeat(" ", qe.Pos.Column-1) + "^"
}
