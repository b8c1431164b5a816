package shell

import (
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
)

func TestConsistencyAndTracingAreSent(t *testing.T) {
	f := &fakeEval{}
	out, err := runScript(t, f, `
CONSISTENCY;
CONSISTENCY r = 1, w = 3;
GET FROM t KEY ('a');
consistency w = 1;
TRACING ON;
GET FROM t KEY ('a');
TRACING OFF;
\consistency default
GET FROM t KEY ('a');
`)
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, `Consistency is r = the table's, w = the table's.
Consistency is now r = 1, w = 3.
OK
Consistency is now r = 1, w = 1.
Tracing is on.
OK
Tracing is off.
Consistency is now r = the table's, w = the table's.
OK
`)
	var got []client.QueryRequest
	for _, r := range f.reqs {
		if r.Statement != "SHOW TABLES" {
			got = append(got, r)
		}
	}
	want := []client.QueryRequest{
		{Statement: "GET FROM t KEY ('a')", R: 1, W: 3},
		{Statement: "GET FROM t KEY ('a')", R: 1, W: 1, Trace: true},
		{Statement: "GET FROM t KEY ('a')"},
	}
	if len(got) != len(want) {
		t.Fatalf("requests %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestMetaCommands(t *testing.T) {
	f := &fakeEval{answer: tablesAnswer([]client.Table{usersTable}, nil)}
	out, err := runScript(t, f, `\format csv
\format
\format xml
\expand
\expand off
\timing on
PUT INTO t KEY ('a') VALUE {};
\timing off
\x on
\nope
\describe
\forget
help
\help put
\help \timing
\help FROB
exit
GET FROM never KEY ('run');
`, continueOnError)
	if err != ErrFailed {
		t.Errorf("Run = %v, want ErrFailed", err)
	}
	wantOutput(t, out, `Output format is csv.
Output format is csv.
error: line 3: unknown format "xml": table, json or csv
Expanded display is on.
Expanded display is off.
Timing is on.
OK
Time: 1.500 ms (gateway 0.000 ms)
Timing is off.
Expanded display is on.
error: line 10: unknown command \nope; \help lists the commands
error: line 11: usage: \describe TABLE
Forgot the contexts of 0 items.
`+generalHelp()+statementTopics["PUT"]+`
\timing [on|off]
    show how long each statement took
error: line 16: no help on "FROB"; try \help for the list
`)
	if strings.Contains(strings.Join(f.sent(), "\n"), "never") {
		t.Error("statements after exit were run")
	}
}

func TestHelpCoversEveryStatement(t *testing.T) {
	// Every statement keyword the grammar starts with has help.
	_, cands := complete("", "", nil)
	if len(cands) < 12 {
		t.Fatalf("statement starters: %v", cands)
	}
	for _, c := range cands {
		if _, ok := statementHelp(strings.TrimSpace(c)); !ok {
			t.Errorf("no \\help for %s", c)
		}
	}
}
