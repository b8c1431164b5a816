package shell

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
)

func TestScriptSplitsStatements(t *testing.T) {
	f := &fakeEval{}
	_, err := runScript(t, f, `-- comments; and blank lines are skipped

PUT INTO t KEY ('a;b')
  VALUE {"s": "x; y"}; GET FROM t KEY ('a'); -- trailing
;;
GET FROM t
  KEY ('last')`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PUT INTO t KEY ('a;b')\n  VALUE {\"s\": \"x; y\"}",
		"GET FROM t KEY ('a')",
		// The last statement of a script may omit its ';'.
		"GET FROM t\n  KEY ('last')",
	}
	if got := f.sent(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sent %q, want %q", got, want)
	}
}

func TestLocateStatementLines(t *testing.T) {
	text := "-- GET FROM t\n;\nGET FROM t;\n\n  GET FROM t; GET FROM t\n;"
	stmts := []string{"GET FROM t", "GET FROM t", "GET FROM t"}
	got := locate(text, stmts, 10)
	want := []int{12, 14, 14}
	for i := range want {
		if got[i].line != want[i] {
			t.Errorf("statement %d on line %d, want %d", i, got[i].line, want[i])
		}
	}
}

func TestScriptStopsAtFirstError(t *testing.T) {
	failing := func(req client.QueryRequest) (*client.QueryResponse, error) {
		if strings.Contains(req.Statement, "'bad'") {
			qe := &client.QueryError{Code: "not_found", Message: "table t does not exist"}
			return &client.QueryResponse{Error: qe}, qe
		}
		return ok(""), nil
	}
	f := &fakeEval{answer: tablesAnswer(nil, failing)}
	out, err := runScript(t, f, "GET FROM t KEY ('a');\nGET FROM t KEY ('bad');\nGET FROM t KEY ('c');\n")
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run = %v, want ErrFailed", err)
	}
	wantOutput(t, out, "OK\nerror: line 2: table t does not exist\n")

	f = &fakeEval{answer: tablesAnswer(nil, failing)}
	out, err = runScript(t, f, "GET FROM t KEY ('a');\nGET FROM t KEY ('bad');\nGET FROM t KEY ('c');\n", continueOnError)
	if !errors.Is(err, ErrFailed) {
		t.Errorf("with ContinueOnError, Run = %v, want ErrFailed at the end", err)
	}
	wantOutput(t, out, "OK\nerror: line 2: table t does not exist\nOK\n")
}

func TestInterruptCancelsRunningStatement(t *testing.T) {
	intr := make(chan os.Signal, 1)
	started := make(chan struct{})
	f := &fakeEval{answer: tablesAnswer(nil, func(req client.QueryRequest) (*client.QueryResponse, error) {
		return nil, errors.New("unreachable")
	})}
	f.answer = func(ctx context.Context, req client.QueryRequest) (*client.QueryResponse, error) {
		close(started)
		<-ctx.Done() // a statement that never answers
		return nil, ctx.Err()
	}
	go func() {
		<-started
		intr <- os.Interrupt
	}()
	out, err := runScript(t, f, "GET FROM t KEY ('slow');\nGET FROM t KEY ('never');\n", withInterrupts(intr))
	if !errors.Is(err, ErrInterrupted) {
		t.Errorf("Run = %v, want ErrInterrupted", err)
	}
	wantOutput(t, out, "cancelled\n")
	if len(f.reqs) != 1 {
		t.Errorf("%d requests after Ctrl-C, want 1", len(f.reqs))
	}
}

func TestStaleInterruptIsIgnored(t *testing.T) {
	intr := make(chan os.Signal, 1)
	intr <- os.Interrupt // pressed while nothing ran
	out, err := runScript(t, &fakeEval{}, "GET FROM t KEY ('a');", withInterrupts(intr))
	if err != nil || out != "OK\n" {
		t.Errorf("Run = %v, output %q", err, out)
	}
}

func TestIsBlank(t *testing.T) {
	for s, want := range map[string]bool{
		"":                 true,
		" \n\t":            true,
		"-- c\n":           true,
		"-- c":             true,
		"GET":              false,
		"'unterminated; ":  false,
		"-- c\nx":          false,
		"{\"open\": 1 ; ":  false,
		"  -- a\n  -- b\n": true,
	} {
		if got := isBlank(s); got != want {
			t.Errorf("isBlank(%q) = %v", s, got)
		}
	}
}
