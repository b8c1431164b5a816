package query

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks the parser's promises on arbitrary input: no panic,
// errors positioned inside the input and consistent with it, canonical text
// that round-trips, and Split agreeing with Parse on statement boundaries.
// Seeds are testdata/fuzz/FuzzParse plus every golden-file input.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, file := range files {
		for _, c := range readGolden(f, file) {
			if in := expandInput(c.input); len(in) < 4096 { // limit tests stay in the golden files
				f.Add(in)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		if _, rest := Split(src); !strings.HasSuffix(src, rest) {
			t.Fatalf("Split(%q) rest %q is not a suffix of the input", src, rest)
		}
		_ = Complete(src)
		stmts, err := Parse(src)
		if err != nil {
			checkError(t, src, err)
			return
		}
		var canon []string
		for _, s := range stmts {
			text := s.String()
			again, err := ParseOne(text)
			if err != nil {
				t.Fatalf("canonical text of %q does not parse: %q: %v", src, text, err)
			}
			if again.String() != text {
				t.Fatalf("round trip of %q changed\n%q\nto\n%q", src, text, again.String())
			}
			if p := s.Pos(); p.Offset < 0 || p.Offset >= len(src) || p != startPos.advance(src[:p.Offset]) {
				t.Fatalf("statement %q at %#v is not where it starts in %q", text, p, src)
			}
			canon = append(canon, text)
		}
		// Split must cut where Parse does.
		parts, rest := Split(src)
		if !blank(rest) {
			parts = append(parts, rest)
		}
		var viaSplit []string
		for _, p := range parts {
			ss, err := Parse(p)
			if err != nil {
				t.Fatalf("Split part %q of %q does not parse: %v", p, src, err)
			}
			for _, s := range ss {
				viaSplit = append(viaSplit, s.String())
			}
		}
		if strings.Join(viaSplit, ";") != strings.Join(canon, ";") {
			t.Fatalf("Split(%q) gives %q, Parse gives %q", src, viaSplit, canon)
		}
	})
}

func checkError(t *testing.T, src string, err error) {
	t.Helper()
	qe, ok := err.(*Error)
	if !ok {
		t.Fatalf("Parse(%q) returned %T, not *Error: %v", src, err, err)
	}
	p := qe.Pos
	if p.Line < 1 || p.Column < 1 || p.Offset < 0 || p.Offset > len(src) {
		t.Fatalf("Parse(%q): error position %#v out of range: %v", src, p, err)
	}
	if want := startPos.advance(src[:p.Offset]); p != want && len(src) <= MaxStatementSize {
		t.Fatalf("Parse(%q): error at %#v but its offset is at %#v: %v", src, p, want, err)
	}
	if qe.Msg == "" {
		t.Fatalf("Parse(%q): empty message", src)
	}
}
