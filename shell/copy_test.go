package shell

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
)

func TestCopyToPagesThroughTheTable(t *testing.T) {
	pages := map[string]client.Result{
		"": {Kind: client.KindRows, Next: "c1", Rows: []client.Row{
			{PK: "a", Value: json.RawMessage(`{"n":1,"html":"<b>"}`), Sibling: 1, Siblings: 1, Context: "x"},
		}},
		"c1": {Kind: client.KindRows, Next: "c2", Rows: []client.Row{
			{PK: "b", SK: "s", Value: json.RawMessage(`{"n":2}`), Sibling: 1, Siblings: 3, Context: "y"},
			{PK: "b", SK: "s", Value: json.RawMessage(`{"n":3}`), Sibling: 2, Siblings: 3, Context: "y"},
			{PK: "b", SK: "s", Deleted: true, Sibling: 3, Siblings: 3, Context: "y"},
		}},
		"c2": {Kind: client.KindRows},
	}
	f := &fakeEval{answer: tablesAnswer(nil, func(req client.QueryRequest) (*client.QueryResponse, error) {
		if req.Statement != "SELECT * FROM users ALLOW SCAN" || req.R != 1 {
			t.Errorf("COPY sent %+v", req)
		}
		return &client.QueryResponse{Results: []client.Result{pages[req.Cursor]}}, nil
	})}
	file := filepath.Join(t.TempDir(), "out.jsonl")
	out, err := runScript(t, f, "CONSISTENCY r = 1;\nCOPY users TO '"+file+"';")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out, "Consistency is now r = 1, w = the table's.\nExported 2 items (4 versions) to "+file+".\n")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, string(data), `{"pk":"a","value":{"n":1,"html":"<b>"}}
{"pk":"b","sk":"s","value":{"n":2},"sibling":1,"siblings":3}
{"pk":"b","sk":"s","value":{"n":3},"sibling":2,"siblings":3}
{"pk":"b","sk":"s","deleted":true,"sibling":3,"siblings":3}
`)
	// Exported contexts are not remembered: COPY is not a read to resolve.
	if n := len(f.sent()); n != 3 {
		t.Errorf("%d requests, want 3 pages", n)
	}
}

// copyTables are the tables the COPY FROM tests import into.
var copyTables = []client.Table{usersTable, {Name: "t", PartitionKey: "id"}, {Name: "ev", PartitionKey: "pk", SortKey: "ts"}}

func TestCopyFromBatchesPuts(t *testing.T) {
	var batches []string
	f := &fakeEval{answer: tablesAnswer(copyTables, func(req client.QueryRequest) (*client.QueryResponse, error) {
		batches = append(batches, req.Statement)
		n := strings.Count(req.Statement, "PUT INTO")
		res := make([]client.Result, n)
		for i := range res {
			res[i] = client.Result{Kind: client.KindOK, Affected: 1}
		}
		return &client.QueryResponse{Results: res}, nil
	})}
	var lines []string
	for i := range 150 {
		lines = append(lines, `{"pk":"k`+strings.Repeat("x", i%3)+`","value":{"i":`+strings.Repeat("1", 1+i%2)+`}}`)
	}
	lines = append(lines, "", `{"pk":"d","deleted":true,"sibling":2,"siblings":2}`, `{"pk":"it's","sk":"s","value":{ "a" : "--;" },"sibling":1,"siblings":2}`)
	file := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runScript(t, f, "COPY users FROM '"+file+"';")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	wantOutput(t, out, "Imported 151 rows from "+file+" into users. Skipped 1 deleted version.\n")
	if len(batches) != 2 {
		t.Fatalf("%d batches, want 2", len(batches))
	}
	last := batches[1]
	if !strings.HasSuffix(last, `PUT INTO users KEY ('it''s', 's') VALUE {"a":"--;"}`) {
		t.Errorf("last batch ends %q", last[max(0, len(last)-80):])
	}
	if strings.Contains(strings.Join(batches, ""), "CONTEXT") {
		t.Error("imports must be blind writes")
	}
}

func TestCopyToAMissingDirectorySaysWhere(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	out, err := runScript(t, &fakeEval{}, "COPY t TO '"+filepath.Join(dir, "out.jsonl")+"';")
	want := "COPY t TO " + filepath.Join(dir, "out.jsonl") + ": cannot create a file in " + dir + ": no such file or directory"
	if !errors.Is(err, ErrFailed) || !strings.Contains(out, want) || strings.Contains(out, ".tmp") {
		t.Errorf("Run = %v, output %q; want %q", err, out, want)
	}
}

func TestCopyFromReportsTheBadLine(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ content, want string }{
		{"{\"pk\":\"a\",\"value\":{}}\n\nnot json\n", "line 3: neither a COPY line"},
		{`{"pk":"a","value":{},"extra":1}`, `line 1: neither a COPY line ({"pk":…,"value":{…}}) nor an item with the table's partition key "id": json: unknown field "extra"`},
		{`{"id":5,"x":1}`, `line 1: "id" is 5: the table's partition key must be a string`},
		{`{"id":"","x":1}`, `line 1: partition key must not be empty`},
		{`{"id":"a","x":1,"x":2}`, `line 1: invalid JSON item: attribute "x" appears twice in one object`},
		{`{"id":"a","x":[` + strings.Repeat("[", 100) + strings.Repeat("]", 101) + `}`, `line 1: invalid JSON item: objects and arrays nest more than 100 deep`},
		{`{"value":{}}`, `line 1: missing "pk"`},
		{`{"pk":"a"}`, `line 1: missing "value"`},
		{`{"pk":"a","value":[1]}`, `line 1: "value": an item must be a JSON object`},
		{`{"pk":"","value":{}}`, "line 1: partition key must not be empty"},
		{`{"pk":"a","value":{}} {"pk":"b"}`, "line 1: more than one JSON value on the line"},
		{"{\"pk\":\"a\",\"value\":{}}\n{\"pk\":\"b\xff\",\"value\":{}}", "line 2: byte 0xff at offset 8 is not UTF-8"},
		{`{"pk":"a","value":{},"pk":"b"}`, `line 1: "pk" is given twice`},
		{`{"pk":"a","value":{"x":1},"Value":{"x":2}}`, `line 1: "Value" is given twice`},
	} {
		file := filepath.Join(dir, "in.jsonl")
		if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runScript(t, &fakeEval{answer: tablesAnswer(copyTables, nil)}, "COPY t FROM '"+file+"';")
		if !errors.Is(err, ErrFailed) || !strings.Contains(out, "COPY t FROM "+file+": "+tc.want) || !strings.HasSuffix(out, "(nothing imported)\n") {
			t.Errorf("%q: Run = %v, output %q; want %q", tc.content, err, out, tc.want)
		}
	}
}

// Lines that are items, as other tools export them, are written under
// the key their key attributes hold; COPY's own lines stay COPY lines
// even where the table's partition key is named "pk".
func TestCopyFromTakesItems(t *testing.T) {
	var sent []string
	f := &fakeEval{answer: tablesAnswer(copyTables, func(req client.QueryRequest) (*client.QueryResponse, error) {
		sent = append(sent, req.Statement)
		return &client.QueryResponse{Results: make([]client.Result, strings.Count(req.Statement, "PUT INTO"))}, nil
	})}
	dir := t.TempDir()
	for _, tc := range []struct{ table, content, want string }{
		{"users", `{"id":"alice","name":"Alice","Name":"A."}` + "\n" + `{"pk":"bob","value":{"name":"Bob"}}`,
			`PUT INTO users KEY ('alice') VALUE {"id":"alice","name":"Alice","Name":"A."};` + "\n" + `PUT INTO users KEY ('bob') VALUE {"name":"Bob"}`},
		// A file that begins with a byte order mark, as some editors save it.
		{"t", "\ufeff" + `{"pk":"bom","value":{}}` + "\r\n" + `{"id":"crlf"}` + "\r\n",
			`PUT INTO t KEY ('bom') VALUE {};` + "\n" + `PUT INTO t KEY ('crlf') VALUE {"id":"crlf"}`},
		{"ev", `{"pk":"d1","ts":"10:00","temp":21}` + "\n" + `{"pk":"d1","sk":"11:00","value":{"temp":22}}`,
			`PUT INTO ev KEY ('d1', '10:00') VALUE {"pk":"d1","ts":"10:00","temp":21};` + "\n" + `PUT INTO ev KEY ('d1', '11:00') VALUE {"temp":22}`},
	} {
		sent = nil
		file := filepath.Join(dir, tc.table+".jsonl")
		if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := runScript(t, f, "COPY "+tc.table+" FROM '"+file+"';"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if got := strings.Join(sent, "\n"); got != tc.want {
			t.Errorf("COPY %s sent\n%s\nwant\n%s", tc.table, got, tc.want)
		}
	}
	for _, tc := range []struct{ content, want string }{
		{`{"pk":"d1","temp":21}`, `line 1: the item has no "ts", the table's sort key`},
		{`{"pk":"d1","ts":7}`, `line 1: "ts" is 7: the table's sort key must be a string`},
	} {
		file := filepath.Join(dir, "bad.jsonl")
		if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runScript(t, f, "COPY ev FROM '"+file+"';")
		if !errors.Is(err, ErrFailed) || !strings.Contains(out, "COPY ev FROM "+file+": "+tc.want+" (nothing imported)") {
			t.Errorf("%s: Run = %v, output %q; want %q", tc.content, err, out, tc.want)
		}
	}
}

func TestCopyFromAMissingTable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(file, []byte(`{"pk":"a","value":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &fakeEval{answer: tablesAnswer(copyTables, nil)}
	out, err := runScript(t, f, "COPY nosuch FROM '"+file+"';")
	want := "COPY nosuch FROM " + file + `: table "nosuch": not found (nothing imported)`
	if !errors.Is(err, ErrFailed) || !strings.Contains(out, want) || len(f.sent()) != 0 {
		t.Errorf("Run = %v, output %q, sent %q; want %q and nothing sent", err, out, f.sent(), want)
	}
}

func TestCopyFromMapsGatewayErrorToLine(t *testing.T) {
	f := &fakeEval{answer: tablesAnswer(copyTables, func(req client.QueryRequest) (*client.QueryResponse, error) {
		qe := &client.QueryError{Code: "payload_too_large", Message: "item too large", Statement: 1}
		return &client.QueryResponse{Results: []client.Result{{Kind: client.KindOK}}, Error: qe}, qe
	})}
	file := filepath.Join(t.TempDir(), "in.jsonl")
	content := "{\"pk\":\"a\",\"value\":{}}\n\n{\"pk\":\"b\",\"value\":{}}\n{\"pk\":\"c\",\"value\":{}}\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := runScript(t, f, "COPY t FROM '"+file+"';")
	want := "error: line 1: COPY t FROM " + file + ", line 3: item too large (1 row imported before it)\n"
	wantOutput(t, out, want)
}

func TestCopyMissingFile(t *testing.T) {
	out, err := runScript(t, &fakeEval{}, "COPY t FROM '/nonexistent/x.jsonl';")
	if !errors.Is(err, ErrFailed) || !strings.Contains(out, "no such file") {
		t.Errorf("Run = %v, output %q", err, out)
	}
}
