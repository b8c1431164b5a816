package shell

import (
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
)

func TestTraceRendering(t *testing.T) {
	f := &fakeEval{answer: tablesAnswer(nil, func(req client.QueryRequest) (*client.QueryResponse, error) {
		r := rows()
		r.Results[0].Trace = []client.TraceEvent{
			{AtMillis: 0.05, Node: "n1", Event: "send get"},
			{AtMillis: 0.06, Node: "n2", Event: "send get"},
			{AtMillis: 0.07, Node: "n3", Event: "send get"},
			{AtMillis: 1.2, Node: "n2", Event: "reply", Detail: "ok, 1 versions"},
			{AtMillis: 1.5, Node: "n1", Event: "reply", Detail: "ok, 2 versions"},
			{AtMillis: 1.6, Event: "result", Detail: "answered by [n2 n1]"},
			{AtMillis: 1.7, Node: "n2", Event: "read repair"},
			{AtMillis: 1000, Node: "n3", Event: "timeout"},
			{AtMillis: 1001, Node: "n4", Event: "fallback", Detail: "for n3"},
		}
		return r, nil
	})}
	out, err := runScript(t, f, "TRACING ON;\nGET FROM t KEY ('a');")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, `Tracing is on.
(0 rows)
Trace:
 at ms    | node | event       | detail
----------+------+-------------+---------------------
 0.050    | n1   | send get    |
 0.060    | n2   | send get    |
 0.070    | n3   | send get    |
 1.200    | n2   | reply       | ok, 1 versions
 1.500    | n1   | reply       | ok, 2 versions
 1.600    |      | result      | answered by [n2 n1]
 1.700    | n2   | read repair |
 1000.000 | n3   | timeout     |
 1001.000 | n4   | fallback    | for n3
  round 1: asked n1, n2, n3; answered n2 at 1.200 ms (ok, 1 versions), n1 at 1.500 ms (ok, 2 versions); result: answered by [n2 n1]
  round 2: failed n3 (timeout); fallbacks n4 (for n3); repaired n2
`)
}
