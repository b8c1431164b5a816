package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
)

// pagedEval answers a SELECT with three pages of one row each.
func pagedEval(t *testing.T) *fakeEval {
	pages := map[string]client.Result{
		"":   {Kind: client.KindRows, Next: "p2", Rows: []client.Row{{PK: "a", Value: json.RawMessage(`{"n":1}`), Sibling: 1, Siblings: 1, Context: "ca"}}},
		"p2": {Kind: client.KindRows, Next: "p3", Rows: []client.Row{{PK: "b", Value: json.RawMessage(`{"n":22}`), Sibling: 1, Siblings: 1, Context: "cb"}}},
		"p3": {Kind: client.KindRows, Rows: []client.Row{{PK: "c", Value: json.RawMessage(`{"m":3}`), Sibling: 1, Siblings: 1, Context: "cc"}}},
	}
	return &fakeEval{answer: tablesAnswer([]client.Table{usersTable}, func(req client.QueryRequest) (*client.QueryResponse, error) {
		if strings.HasPrefix(req.Statement, "PUT") {
			return ok(""), nil
		}
		if stmt := strings.Join(strings.Fields(req.Statement), " "); strings.TrimSuffix(stmt, " LIMIT 1") != "SELECT * FROM users ALLOW SCAN" {
			t.Errorf("page request %+v", req)
		}
		return &client.QueryResponse{Results: []client.Result{pages[req.Cursor]}}, nil
	})}
}

func TestScriptFetchesEveryPage(t *testing.T) {
	f := pagedEval(t)
	out, err := runScript(t, f, "SELECT * FROM users ALLOW SCAN;\nPUT INTO users KEY ('c') VALUE {};")
	if err != nil {
		t.Fatal(err)
	}
	// One table for all pages; every row's context is remembered.
	wantOutput(t, out, ` id | n  | m
----+----+---
 a  | 1  |
 b  | 22 |
 c  |    | 3
(3 rows)
(using the context of your last read of users/c)
OK
`)
}

// A SELECT with LIMIT shows its first page only, in a script or a
// terminal: the gateway's LIMIT sizes a page, the shell's counts items.
func TestLimitShowsFirstPageOnly(t *testing.T) {
	const want = ` id | n
----+---
 a  | 1
(1 row)
(LIMIT 1 reached: there may be more rows)
`
	out, err := runScript(t, pagedEval(t), "SELECT * FROM users ALLOW SCAN LIMIT 1;")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, want)
	out, r, err := runInteractive(t, pagedEval(t), "SELECT * FROM users ALLOW SCAN LIMIT 1;")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, "ringtable shell. Statements end with ';'. \\help for help, \\quit or Ctrl-D to leave.\n"+want)
	if got := strings.Join(r.prompts, "|"); got != primaryPrompt+"|"+primaryPrompt {
		t.Errorf("prompts %q: want no pager prompt", r.prompts)
	}
}

// A page can hold fewer items than the LIMIT (a table scan's page ends
// early on a sparse table): the shell fills the LIMIT from the next
// pages, counting items, not their siblings' rows.
func TestLimitFillsShortPages(t *testing.T) {
	row := func(pk string, sib, sibs int) client.Row {
		return client.Row{PK: pk, Value: json.RawMessage(`{"n":1}`), Sibling: sib, Siblings: sibs, Context: "c" + pk}
	}
	pages := map[string]client.Result{
		"":   {Kind: client.KindRows, Next: "p2"},
		"p2": {Kind: client.KindRows, Next: "p3", Rows: []client.Row{row("a", 1, 1), row("b", 1, 2), row("b", 2, 2)}},
		"p3": {Kind: client.KindRows, Rows: []client.Row{row("c", 1, 1)}},
	}
	for _, c := range []struct {
		limit int
		want  string // the keys shown, one per row
		more  bool
	}{
		{1, "a", true},
		{2, "abb", true},
		{3, "abbc", false},
		{9, "abbc", false},
	} {
		var asked []string
		f := &fakeEval{answer: tablesAnswer([]client.Table{usersTable}, func(req client.QueryRequest) (*client.QueryResponse, error) {
			asked = append(asked, req.Cursor)
			return &client.QueryResponse{Results: []client.Result{pages[req.Cursor]}}, nil
		})}
		out, err := runScript(t, f, fmt.Sprintf("\\format csv\nSELECT * FROM users ALLOW SCAN LIMIT %d;", c.limit))
		if err != nil {
			t.Fatal(err)
		}
		var keys string
		for _, l := range strings.Split(out, "\n") {
			if k, _, ok := strings.Cut(l, ","); ok && k != "id" && !strings.Contains(l, " ") {
				keys += k
			}
		}
		if more := strings.Contains(out, fmt.Sprintf("(LIMIT %d reached", c.limit)); keys != c.want || more != c.more {
			t.Errorf("LIMIT %d: rows of %q (pages %q), more noted %v; want %q, %v\n%s", c.limit, keys, asked, more, c.want, c.more, out)
		}
	}
}

// A later page refused by the tenant's request rate (the scan before it
// took the tokens) is asked for again, not reported as the statement's
// failure.
func TestLaterPageWaitsOutTheRate(t *testing.T) {
	inner := pagedEval(t)
	refused := 0
	f := &fakeEval{answer: func(ctx context.Context, req client.QueryRequest) (*client.QueryResponse, error) {
		if req.Cursor == "p2" && refused == 0 {
			refused++
			return &client.QueryResponse{}, &client.QueryError{Code: "rate_limited", Message: "request rate quota exceeded: retry after 1ms", RetryAfter: time.Millisecond}
		}
		return inner.answer(ctx, req)
	}}
	out, err := runScript(t, f, "SELECT * FROM users ALLOW SCAN;")
	if err != nil || refused != 1 || !strings.Contains(out, "(3 rows)") {
		t.Fatalf("%d refusals, %v\n%s", refused, err, out)
	}
}

// scriptedReader is a lineReader for tests of interactive behaviour.
type scriptedReader struct {
	lines   []string // errLine stands for Ctrl-C
	prompts []string
}

const ctrlC = "\x03"

func (r *scriptedReader) readLine(prompt string) (string, error) {
	r.prompts = append(r.prompts, prompt)
	if len(r.lines) == 0 {
		return "", io.EOF
	}
	line := r.lines[0]
	r.lines = r.lines[1:]
	if line == ctrlC {
		return "", errLineInterrupted
	}
	return line, nil
}

func (r *scriptedReader) history(bool) {}
func (r *scriptedReader) close() error { return nil }

func runInteractive(t *testing.T, eval Evaluator, lines ...string) (string, *scriptedReader, error) {
	t.Helper()
	var out syncBuffer
	cfg := DefaultConfig()
	cfg.In, cfg.Out, cfg.Err, cfg.Interactive = strings.NewReader(""), &out, &out, true
	sh, err := New(cfg, eval)
	if err != nil {
		t.Fatal(err)
	}
	r := &scriptedReader{lines: lines}
	sh.reader = r
	err = sh.Run(context.Background())
	return out.String(), r, err
}

func TestInteractivePagesOnRequest(t *testing.T) {
	f := pagedEval(t)
	out, r, err := runInteractive(t, f, "SELECT * FROM users", "ALLOW SCAN;", "", "q", "SELECT * FROM users ALLOW SCAN;", "", "")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, `ringtable shell. Statements end with ';'. \help for help, \quit or Ctrl-D to leave.
 id | n
----+---
 a  | 1
 id | n
----+----
 b  | 22
(stopped; more rows remain)
 id | n
----+---
 a  | 1
 id | n
----+----
 b  | 22
 id | m
----+---
 c  | 3
(3 rows)
`)
	more := "-- more -- (Enter for the next page, q to stop) "
	want := []string{primaryPrompt, continuationPrompt, more, more, primaryPrompt, more, more, primaryPrompt}
	if strings.Join(r.prompts, "|") != strings.Join(want, "|") {
		t.Errorf("prompts %q\nwant %q", r.prompts, want)
	}
}

func TestInteractiveCtrlCDropsTheStatementAndErrorsDoNotStop(t *testing.T) {
	f := &fakeEval{}
	out, r, err := runInteractive(t, f, "GET FROM t", ctrlC, "GET FROM bad KEY (;", "GET FROM t KEY ('ok');", "\\q", "GET FROM t KEY ('never');")
	if err != nil {
		t.Fatalf("Run = %v: an interactive session ends well", err)
	}
	if got := f.sent(); len(got) != 1 || got[0] != "GET FROM t KEY ('ok')" {
		t.Errorf("sent %q", got)
	}
	if !strings.Contains(out, "error: line 1, column 19: expected string but found end of input") || !strings.HasSuffix(out, "OK\n") {
		t.Errorf("output:\n%s", out)
	}
	want := []string{primaryPrompt, continuationPrompt, primaryPrompt, primaryPrompt, primaryPrompt}
	if strings.Join(r.prompts, "|") != strings.Join(want, "|") {
		t.Errorf("prompts %q\nwant %q", r.prompts, want)
	}
}

// An attribute that repeats its row's key is shown once, as the key column;
// one that says another key (an item stored before the gateway refused
// such items) keeps its own column.
func TestKeyAttributeColumn(t *testing.T) {
	rows := []client.Row{
		{PK: "a", Value: json.RawMessage(`{"id":"a","n":1}`), Sibling: 1, Siblings: 1},
		{PK: "b", Value: json.RawMessage(`{"n":2}`), Sibling: 1, Siblings: 1},
	}
	answer := func(rows []client.Row) *fakeEval {
		return &fakeEval{answer: tablesAnswer([]client.Table{usersTable}, func(client.QueryRequest) (*client.QueryResponse, error) {
			return &client.QueryResponse{Results: []client.Result{{Kind: client.KindRows, Rows: rows}}}, nil
		})}
	}
	out, err := runScript(t, answer(rows), "SELECT * FROM users ALLOW SCAN;")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, ` id | n
----+---
 a  | 1
 b  | 2
(2 rows)
`)
	rows[1].Value = json.RawMessage(`{"id":"c","n":2}`)
	out, err = runScript(t, answer(rows), "SELECT * FROM users ALLOW SCAN;")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, ` id | id | n
----+----+---
 a  | a  | 1
 b  | c  | 2
(2 rows)
`)
}
