package query

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		stmts []string
		rest  string
		done  bool
	}{
		{"quote with ;", "GET FROM t KEY ('a;b');", []string{"GET FROM t KEY ('a;b')"}, "", true},
		{"doubled quote", "GET FROM t KEY ('it''s;');x", []string{"GET FROM t KEY ('it''s;')"}, "x", false},
		{"json with ; and braces in strings", `PUT INTO t KEY ('a') VALUE {"a": "};{", "b": {"c": "\"}"}};`,
			[]string{`PUT INTO t KEY ('a') VALUE {"a": "};{", "b": {"c": "\"}"}}`}, "", true},
		{"comment with ;", "SHOW TABLES -- not; yet\n;", []string{"SHOW TABLES -- not; yet"}, "", true},
		{"comment after the end", "SHOW TABLES; -- done;", []string{"SHOW TABLES"}, " -- done;", true},
		{"open string", "GET FROM t KEY ('a;", nil, "GET FROM t KEY ('a;", false},
		{"open json", `PUT INTO t KEY ('a') VALUE {"a": {};`, nil, `PUT INTO t KEY ('a') VALUE {"a": {};`, false},
		{"open json string", `PUT INTO t KEY ('a') VALUE {"a}": 1`, nil, `PUT INTO t KEY ('a') VALUE {"a}": 1`, false},
		{"open after complete", "SHOW TABLES;\nGET FROM t KEY ('x", []string{"SHOW TABLES"}, "\nGET FROM t KEY ('x", false},
		{"only semicolons", ";;", nil, "", false},
		{"empty", "", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stmts, rest := Split(tt.in)
			if !reflect.DeepEqual(stmts, tt.stmts) || rest != tt.rest {
				t.Errorf("Split(%q) = %q, %q; want %q, %q", tt.in, stmts, rest, tt.stmts, tt.rest)
			}
			if got := Complete(tt.in); got != tt.done {
				t.Errorf("Complete(%q) = %v", tt.in, got)
			}
		})
	}
}

// TestSplitLikeAShell feeds a script line by line, as the shell does, and
// checks that the statements it would send equal what Parse sees in the
// whole script.
func TestSplitLikeAShell(t *testing.T) {
	script := `-- setup; the shell ignores this
CREATE TABLE t (id PARTITION KEY,
                ts SORT KEY)
  WITH n = 3;
PUT INTO t KEY ('a', '1') VALUE {
  "text": "semi; colon and } brace",
  "list": [1, 2, {"x": ";"}]
}; GET FROM t
KEY ('a', '1');
SELECT * FROM t WHERE id = 'it''s; here'
  AND ts BETWEEN '1' AND '9'; -- trailing comment
`
	var sent []string
	buf := ""
	for _, line := range strings.SplitAfter(script, "\n") {
		buf += line
		stmts, rest := Split(buf)
		sent = append(sent, stmts...)
		buf = rest
	}
	if !blank(buf) {
		t.Fatalf("left over: %q", buf)
	}
	want, err := Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != len(want) {
		t.Fatalf("shell sent %d statements %q, Parse found %d", len(sent), sent, len(want))
	}
	for i, s := range sent {
		got, err := ParseOne(s)
		if err != nil {
			t.Fatalf("statement %d %q: %v", i, s, err)
		}
		if got.String() != want[i].String() {
			t.Errorf("statement %d: %s, want %s", i, got, want[i])
		}
	}
}
