package shell

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
)

var modified = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// siblingsEval answers every GET with two siblings of users/alice, the
// second a concurrent delete... and SHOW TABLES with users.
func siblingsEval() *fakeEval {
	return &fakeEval{answer: tablesAnswer([]client.Table{usersTable}, func(req client.QueryRequest) (*client.QueryResponse, error) {
		return rows(
			client.Row{PK: "alice", Value: json.RawMessage(`{"name":"Alice","city":"Lyon"}`), Sibling: 1, Siblings: 3, Context: "CTX1", Modified: modified},
			client.Row{PK: "alice", Value: json.RawMessage(`{"name":"Alice","city":"Nice","age":31}`), Sibling: 2, Siblings: 3, Context: "CTX1", Modified: modified},
			client.Row{PK: "alice", Deleted: true, Sibling: 3, Siblings: 3, Context: "CTX1", Modified: modified},
		), nil
	})}
}

const siblingsHint = `users/alice has 3 siblings. To resolve them, PUT the merged item; the shell sends this read's context for you:
  PUT INTO users KEY ('alice') VALUE {...} CONTEXT 'CTX1'
`

func TestRenderSiblingsAsTable(t *testing.T) {
	out, err := runScript(t, siblingsEval(), "GET FROM users KEY ('alice');")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, ` id    | sibling       | name  | city | age
-------+---------------+-------+------+-----
 alice | 1/3           | Alice | Lyon |
 alice | 2/3           | Alice | Nice | 31
 alice | 3/3 (deleted) |       |      |
(3 rows)
`+siblingsHint)
}

func TestRenderExpanded(t *testing.T) {
	out, err := runScript(t, siblingsEval(), "\\expand on\nGET FROM users KEY ('alice');")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, `Expanded display is on.
-[ RECORD 1 ]------------
id       | alice
sibling  | 1/3
name     | Alice
city     | Lyon
age      | 
modified | 2024-05-01T12:00:00Z
context  | CTX1
-[ RECORD 2 ]------------
id       | alice
sibling  | 2/3
name     | Alice
city     | Nice
age      | 31
modified | 2024-05-01T12:00:00Z
context  | CTX1
-[ RECORD 3 ]------------
id       | alice
sibling  | 3/3 (deleted)
name     | 
city     | 
age      | 
modified | 2024-05-01T12:00:00Z
context  | CTX1
(3 rows)
`+siblingsHint)
}

func TestRenderCSV(t *testing.T) {
	var out, errs syncBuffer
	_, err := runScript(t, siblingsEval(), "GET FROM users KEY ('alice');", func(c *Config) {
		c.Format, c.Out, c.Err = FormatCSV, &out, &errs
	})
	if err != nil {
		t.Fatal(err)
	}
	// Data on Out, notes on Err: the CSV stays machine-readable.
	wantOutput(t, out.String(), "id,sibling,name,city,age\nalice,1/3,Alice,Lyon,\nalice,2/3,Alice,Nice,31\nalice,3/3 (deleted),,,\n")
	wantOutput(t, errs.String(), siblingsHint)
}

func TestRenderJSON(t *testing.T) {
	var out, errs syncBuffer
	_, err := runScript(t, siblingsEval(), "\\format json\nGET FROM users KEY ('alice');", func(c *Config) {
		c.Out, c.Err = &out, &errs
	})
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out.String(), `{"pk":"alice","value":{"name":"Alice","city":"Lyon"},"modified":"2024-05-01T12:00:00Z","sibling":1,"siblings":3,"context":"CTX1"}
{"pk":"alice","value":{"name":"Alice","city":"Nice","age":31},"modified":"2024-05-01T12:00:00Z","sibling":2,"siblings":3,"context":"CTX1"}
{"pk":"alice","deleted":true,"modified":"2024-05-01T12:00:00Z","sibling":3,"siblings":3,"context":"CTX1"}
`)
	wantOutput(t, errs.String(), "Output format is json.\n"+siblingsHint)
}

func TestRenderProjectionAndSortKey(t *testing.T) {
	events := client.Table{Name: "events", PartitionKey: "id", SortKey: "ts", N: 3, R: 2, W: 2}
	f := &fakeEval{answer: tablesAnswer([]client.Table{events}, func(req client.QueryRequest) (*client.QueryResponse, error) {
		return &client.QueryResponse{Results: []client.Result{{Kind: client.KindRows, Columns: []string{"kind", "user.name"},
			Rows: []client.Row{
				// The gateway keys a projection by the path as written; a
				// nested object works too.
				{PK: "e1", SK: "2024-01-01", Value: json.RawMessage(`{"kind":"login","user.name":"Ann"}`), Sibling: 1, Siblings: 1},
				{PK: "e1", SK: "2024-01-02", Value: json.RawMessage(`{"kind":"a\nb","user":{"name":{"first":"Bo"}}}`), Sibling: 1, Siblings: 1},
			}}}}, nil
	})}
	out, err := runScript(t, f, "SELECT kind, user.name FROM events WHERE id = 'e1';")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, ` id | ts         | kind  | user.name
----+------------+-------+----------------
 e1 | 2024-01-01 | login | Ann
 e1 | 2024-01-02 | a\nb  | {"first":"Bo"}
(2 rows)
`)
}

func TestRenderUnknownTableUsesPkSk(t *testing.T) {
	f := &fakeEval{answer: tablesAnswer(nil, func(req client.QueryRequest) (*client.QueryResponse, error) {
		return rows(client.Row{PK: "k", SK: "s", Value: json.RawMessage(`{"n":1.50,"b":true,"z":null,"l":[1, 2]}`), Sibling: 1, Siblings: 1}), nil
	})}
	out, err := runScript(t, f, "GET FROM gone KEY ('k', 's');")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, ` pk | sk | n    | b    | z    | l
----+----+------+------+------+-------
 k  | s  | 1.50 | true | null | [1,2]
(1 row)
`)
}

func TestRenderTablesDescribeAndOK(t *testing.T) {
	created := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	events := client.Table{Name: "events", PartitionKey: "id", SortKey: "ts", N: 5, R: 1, W: 5, Conflict: "lww", TTL: 3600, MaxSiblings: 100, SiblingWarn: 25, Created: created}
	f := &fakeEval{answer: func(_ context.Context, req client.QueryRequest) (*client.QueryResponse, error) {
		switch req.Statement {
		case "SHOW TABLES":
			return &client.QueryResponse{Results: []client.Result{{Kind: client.KindTables, Tables: []client.Table{events, usersTable}}}}, nil
		case "DESCRIBE events":
			return &client.QueryResponse{Results: []client.Result{{Kind: client.KindTable, Table: &events}}}, nil
		}
		if strings.HasPrefix(req.Statement, "CREATE") {
			return ok("table t created"), nil
		}
		return ok(""), nil
	}}
	out, err := runScript(t, f, "SHOW TABLES;\n\\describe events\nCREATE TABLE t (k PARTITION KEY);\nPUT INTO t KEY ('a') VALUE {};\n\\format json\n\\tables\n")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, ` name   | partition key | sort key | n | r | w | conflict | ttl
--------+---------------+----------+---+---+---+----------+--------
 events | id            | ts       | 5 | 1 | 5 | lww      | 1h0m0s
 users  | id            |          | 3 | 2 | 2 | siblings |
(2 tables)
CREATE TABLE events (id PARTITION KEY, ts SORT KEY) WITH n = 5, r = 1, w = 5, conflict = 'lww', ttl = 3600, max_siblings = 100, sibling_warn = 25;
-- created 2024-02-03T04:05:06Z
table t created
OK
Output format is json.
{"name":"events","partition_key":"id","sort_key":"ts","n":5,"r":1,"w":5,"conflict":"lww","ttl":3600,"max_siblings":100,"sibling_warn":25,"created":"2024-02-03T04:05:06Z"}
{"name":"users","partition_key":"id","n":3,"r":2,"w":2,"conflict":"siblings"}
`)
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`:         "plain",
		`"tab\there"`:     `tab\there`,
		`12.50`:           "12.50",
		`{ "a" : [ 1 ] }`: `{"a":[1]}`,
		``:                "",
		// Nothing from the data acts on the terminal.
		`"\u001b]0;title\u0007x\u001b[2J"`:  `\x1b]0;title\x07x\x1b[2J`,
		`"nul\u0000 del\u007f csi\u009b é"`: `nul\x00 del\x7f csi\u009b é`,
		"{\"a\":\"\\u009b31m\x7f\"}":        `{"a":"\u009b31m\x7f"}`,
		`{"a":"\u001b"}`:                    `{"a":"\u001b"}`,
	} {
		if got := cell(json.RawMessage(in)); got != want {
			t.Errorf("cell(%s) = %q, want %q", in, got, want)
		}
	}
}

// Keys, attribute names and the sibling hint come from the data too.
func TestRowsAreShownPrintable(t *testing.T) {
	f := &fakeEval{answer: tablesAnswer([]client.Table{usersTable}, func(req client.QueryRequest) (*client.QueryResponse, error) {
		return rows(
			client.Row{PK: "a\x1b[2Jb", Value: json.RawMessage(`{"n\u009b":"\u001b]0;t\u0007"}`), Sibling: 1, Siblings: 2, Context: "c"},
			client.Row{PK: "a\x1b[2Jb", Value: json.RawMessage(`{"n\u009b":2}`), Sibling: 2, Siblings: 2, Context: "c"},
		), nil
	})}
	out, err := runScript(t, f, "SELECT * FROM users WHERE id = 'x';")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && isControl(r) }) {
		t.Errorf("output holds control characters:\n%q", out)
	}
	for _, want := range []string{`a\x1b[2Jb`, `n\u009b`, `\x1b]0;t\x07`, `users/a\x1b[2Jb has 2 siblings`, `KEY ('a\x1b[2Jb')`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
