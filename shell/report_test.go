package shell

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
)

func TestCaret(t *testing.T) {
	for _, tc := range []struct {
		src       string
		line, col int
		want      string
	}{
		{"GET FROM t KEY 'a'", 1, 16, "  GET FROM t KEY 'a'\n                 ^"},
		{"GET FROM t\n  KEY ('a') foo", 2, 13, "  GET FROM t\n    KEY ('a') foo\n              ^"},
		// Tabs stay tabs under the line; wide characters count double.
		{"\tGET FROM t KEY ('é', '日本') x", 1, 29, "  \tGET FROM t KEY ('é', '日本') x\n  \t" + strings.Repeat(" ", 29) + "^"},
		// Past the end of the line (an unexpected end of input).
		{"GET FROM t", 1, 11, "  GET FROM t\n            ^"},
		// Only the last lines up to the bad one are shown.
		{"a\nb\nc\nd\ne", 4, 1, "  b\n  c\n  d\n  ^"},
		// A position beyond the text is clamped.
		{"x", 9, 2, "  x\n   ^"},
	} {
		if got := caret(tc.src, tc.line, tc.col); got != tc.want {
			t.Errorf("caret(%q, %d, %d):\n%s\nwant:\n%s", tc.src, tc.line, tc.col, got, tc.want)
		}
	}
}

func TestLocalParseErrorInScript(t *testing.T) {
	f := &fakeEval{}
	out, err := runScript(t, f, "SHOW TABLES;\n-- a comment\nGET FROM t\n  KEY ('a') WITH q = 1;\nSHOW TABLES;\n", func(c *Config) { c.Source = "script.rtql" })
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run = %v, want ErrFailed", err)
	}
	// The line number counts from the script's start; nothing after the
	// error runs, and the bad statement never reaches the gateway.
	wantOutput(t, out, `OK
error in script.rtql: line 4, column 18: unknown WITH option "q"; allowed: r
  GET FROM t
    KEY ('a') WITH q = 1
                   ^
`)
	if n := len(f.reqs); n != 1 {
		t.Errorf("%d requests, want 1 (the first SHOW TABLES)", n)
	}
}

func TestGatewayErrorWithPosition(t *testing.T) {
	f := &fakeEval{answer: tablesAnswer(nil, func(req client.QueryRequest) (*client.QueryResponse, error) {
		qe := &client.QueryError{Code: "bad_request", Message: "line 2, column 7: ts is not the sort key of table t (the sort key is at)", Line: 2, Column: 7}
		return &client.QueryResponse{Error: qe}, qe
	})}
	out, err := runScript(t, f, "\n\nSELECT * FROM t\nWHERE ts = 'x';\n", continueOnError)
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run = %v", err)
	}
	wantOutput(t, out, `error: line 4, column 7: ts is not the sort key of table t (the sort key is at)
  SELECT * FROM t
  WHERE ts = 'x'
        ^
`)
}

func TestGatewayErrorWithoutPosition(t *testing.T) {
	f := &fakeEval{answer: tablesAnswer(nil, func(req client.QueryRequest) (*client.QueryResponse, error) {
		qe := &client.QueryError{Code: "quorum_not_met", Message: "1 of the 2 required replicas answered"}
		return &client.QueryResponse{Error: qe}, qe
	})}
	out, _ := runScript(t, f, "GET FROM t KEY ('a');\nGET FROM t KEY ('b');", continueOnError)
	wantOutput(t, out, "error: line 1: 1 of the 2 required replicas answered\nerror: line 2: 1 of the 2 required replicas answered\n")
}

func TestInteractiveErrorsUseStatementLines(t *testing.T) {
	s := &Shell{cfg: Config{Interactive: true}}
	var out syncBuffer
	s.cfg.Err = &out
	s.report(stmtText{text: "GET FROM t\nKEY (x)", line: 40}, &remoteError{sent: "GET FROM t\nKEY (x)", qe: &client.QueryError{Message: "expected string but found 'x'", Line: 2, Column: 6}})
	wantOutput(t, out.String(), "error: line 2, column 6: expected string but found 'x'\n  GET FROM t\n  KEY (x)\n       ^\n")
}

func TestUnreachableGateway(t *testing.T) {
	f := &fakeEval{answer: func(context.Context, client.QueryRequest) (*client.QueryResponse, error) {
		return nil, &url.Error{Op: "Post", URL: "http://10.0.0.9:8080/v1/query", Err: errors.New("connection refused")}
	}}
	out, _ := runScript(t, f, "SHOW TABLES;")
	wantOutput(t, out, "error: line 1: cannot reach the gateway at http://10.0.0.9:8080: connection refused\n")
}
