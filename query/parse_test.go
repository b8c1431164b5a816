package query

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// clearPos zeroes every position so expectations can be written without
// them; positions have their own tests.
func clearPos(s Statement) Statement {
	v := reflect.ValueOf(s).Elem()
	v.FieldByName("At").Set(reflect.ValueOf(Position{}))
	if sel, ok := s.(*Select); ok {
		sel.OrderAt = Position{}
		if sel.PK != nil {
			sel.PK.At = Position{}
		}
		if sel.SK != nil {
			sel.SK.At = Position{}
		}
	}
	return s
}

func TestParseStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Statement
	}{
		{"create minimal", "CREATE TABLE users (id PARTITION KEY)", []Statement{
			&CreateTable{Table: "users", PartitionKey: "id", N: 3, R: 2, W: 2, Conflict: ConflictSiblings},
		}},
		{"create full", "CREATE TABLE IF NOT EXISTS events (ts SORT KEY, id PARTITION KEY) WITH n = 5, r = 1, w = 5, conflict = 'lww', ttl = 3600, strict = true", []Statement{
			&CreateTable{Table: "events", IfNotExists: true, PartitionKey: "id", SortKey: "ts", N: 5, R: 1, W: 5,
				Conflict: ConflictLWW, TTL: time.Hour, Strict: true},
		}},
		{"create lower case, defaults follow n", "create table t (k partition key) with N = 1 conflict = siblings strict = FALSE", []Statement{
			&CreateTable{Table: "t", PartitionKey: "k", N: 1, R: 1, W: 1, Conflict: ConflictSiblings},
		}},
		{"create n=7 quorum", "CREATE TABLE t (k PARTITION KEY) WITH n = 7", []Statement{
			&CreateTable{Table: "t", PartitionKey: "k", N: 7, R: 4, W: 4, Conflict: ConflictSiblings},
		}},
		{"hyphenated names", "DROP TABLE my-table-2", []Statement{&DropTable{Table: "my-table-2"}}},
		{"quoted keyword name", `DROP TABLE IF EXISTS "select"`, []Statement{&DropTable{Table: "select", IfExists: true}}},
		{"show", "show tables", []Statement{&ShowTables{}}},
		{"describe", "DESCRIBE t", []Statement{&Describe{Table: "t"}}},
		{"describe table", "Describe Table t", []Statement{&Describe{Table: "t"}}},
		{"put", `PUT INTO t KEY ('alice') VALUE {"any": ["json", 1, true, null], "n": {"x": "a\"}"}}`, []Statement{
			&Put{Table: "t", Key: Key{Partition: "alice"}, Value: json.RawMessage(`{"any":["json",1,true,null],"n":{"x":"a\"}"}}`)},
		}},
		{"put all clauses", "PUT INTO t KEY ('it''s', 's') VALUE {} CONTEXT 'tok' TTL 60 WITH w = 3", []Statement{
			&Put{Table: "t", Key: Key{Partition: "it's", Sort: "s"}, Value: json.RawMessage(`{}`),
				Context: "tok", TTL: time.Minute, HasTTL: true, W: 3},
		}},
		{"put ttl 0", "PUT INTO t KEY ('a') VALUE {} TTL 0", []Statement{
			&Put{Table: "t", Key: Key{Partition: "a"}, Value: json.RawMessage(`{}`), HasTTL: true},
		}},
		{"get", "GET FROM t KEY ('a', 'b') WITH r = 1", []Statement{
			&Get{Table: "t", Key: Key{Partition: "a", Sort: "b"}, R: 1},
		}},
		{"delete", "DELETE FROM t KEY ('a') CONTEXT 'c' WITH w = 2", []Statement{
			&Delete{Table: "t", Key: Key{Partition: "a"}, Context: "c", W: 2},
		}},
		{"select star", "SELECT * FROM t WHERE id = 'x'", []Statement{
			&Select{Table: "t", PK: &Cond{Column: "id", Value: "x"}},
		}},
		{"select paths", "SELECT a, b.c, x.y.z FROM t WHERE id = 'x' AND ts >= 'y' ORDER BY ts DESC LIMIT 10 WITH r = 1", []Statement{
			&Select{Table: "t", Columns: []Path{{"a"}, {"b", "c"}, {"x", "y", "z"}},
				PK: &Cond{Column: "id", Value: "x"}, SK: &SortCond{Column: "ts", Op: OpGe, Value: "y"},
				OrderBy: "ts", Desc: true, Limit: 10, R: 1},
		}},
		{"select between", "SELECT * FROM t WHERE id = 'x' AND ts BETWEEN 'a' AND 'b' ORDER BY ts ASC", []Statement{
			&Select{Table: "t", PK: &Cond{Column: "id", Value: "x"},
				SK: &SortCond{Column: "ts", Op: OpBetween, Value: "a", Value2: "b"}, OrderBy: "ts"},
		}},
		{"select begins with", "SELECT * FROM t WHERE id = 'x' AND ts BEGINS WITH 'p'", []Statement{
			&Select{Table: "t", PK: &Cond{Column: "id", Value: "x"}, SK: &SortCond{Column: "ts", Op: OpBeginsWith, Value: "p"}},
		}},
		{"select range first", "SELECT * FROM t WHERE ts < 'y' AND id = 'x'", []Statement{
			&Select{Table: "t", PK: &Cond{Column: "id", Value: "x"}, SK: &SortCond{Column: "ts", Op: OpLt, Value: "y"}},
		}},
		{"select ops", "SELECT * FROM t WHERE id = 'x' AND ts > 'y'; SELECT * FROM t WHERE id = 'x' AND ts <= 'y'; SELECT * FROM t WHERE id = 'x' AND ts = 'y'", []Statement{
			&Select{Table: "t", PK: &Cond{Column: "id", Value: "x"}, SK: &SortCond{Column: "ts", Op: OpGt, Value: "y"}},
			&Select{Table: "t", PK: &Cond{Column: "id", Value: "x"}, SK: &SortCond{Column: "ts", Op: OpLe, Value: "y"}},
			&Select{Table: "t", PK: &Cond{Column: "id", Value: "x"}, SK: &SortCond{Column: "ts", Op: OpEq, Value: "y"}},
		}},
		{"scan", "SELECT * FROM t ALLOW SCAN LIMIT 100", []Statement{
			&Select{Table: "t", AllowScan: true, Limit: 100},
		}},
		{"shell statements", "CONSISTENCY r=1 w=3; CONSISTENCY w=2; CONSISTENCY; TRACING ON; tracing off; WATCH t; COPY t TO 'out.jsonl'; COPY t FROM 'in.jsonl'", []Statement{
			&Consistency{R: 1, W: 3}, &Consistency{W: 2}, &Consistency{},
			&Tracing{On: true}, &Tracing{}, &Watch{Table: "t"},
			&Copy{Table: "t", Dir: CopyTo, File: "out.jsonl"}, &Copy{Table: "t", Dir: CopyFrom, File: "in.jsonl"},
		}},
		{"comments, multi-line, empty statements", "-- list them\nSHOW TABLES; -- again;\n;;\nGET FROM t -- the table\n  KEY ('a;b') ;", []Statement{
			&ShowTables{}, &Get{Table: "t", Key: Key{Partition: "a;b"}},
		}},
		{"comment after hyphen name", "WATCH my-t--comment", []Statement{&Watch{Table: "my-t"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			for _, s := range got {
				clearPos(s)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
				for i := range min(len(got), len(tt.want)) {
					t.Logf("  %d: got %s\n     want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestPositions(t *testing.T) {
	src := "SHOW TABLES;\n  -- comment\n  GET FROM t\n    KEY ('a') ; \n\tWATCH t"
	stmts, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []Position{{0, 1, 1}, {28, 3, 3}, {57, 5, 2}}
	for i, s := range stmts {
		if s.Pos() != want[i] {
			t.Errorf("statement %d (%s) at %#v, want %#v", i, s, s.Pos(), want[i])
		}
		if got := src[s.Pos().Offset:]; !strings.HasPrefix(got, strings.Fields(s.String())[0]) {
			t.Errorf("offset of statement %d points at %q", i, got)
		}
	}

	// Errors in the third statement of a multi-line input point into it,
	// with columns counted in characters, not bytes.
	_, err = Parse("SHOW TABLES;\nGET FROM t KEY ('é');\nPUT INTO t KEY ('ü') VALUES {}")
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if want := (Position{Offset: 58, Line: 3, Column: 22}); qe.Pos != want {
		t.Errorf("error at %#v, want %#v (%v)", qe.Pos, want, qe)
	}
	if qe.Msg != "expected VALUE but found 'VALUES'" || !reflect.DeepEqual(qe.Expected, []string{"VALUE"}) {
		t.Errorf("got %q, expected %q", qe.Msg, qe.Expected)
	}
}

func TestParseOne(t *testing.T) {
	s, err := ParseOne("GET FROM t KEY ('a');")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*Get); !ok {
		t.Fatalf("got %T", s)
	}
	_, err = ParseOne("SHOW TABLES; SHOW TABLES")
	if err == nil || err.Error() != "line 1, column 14: expected a single statement, but another one starts here" {
		t.Fatalf("got %v", err)
	}
	if _, err = ParseOne("-- nothing\n"); err == nil {
		t.Fatal("an input without a statement parsed")
	}
}

func TestShellOnly(t *testing.T) {
	stmts, err := Parse("CONSISTENCY r = 1; TRACING ON; WATCH t; COPY t TO 'f'; SHOW TABLES; GET FROM t KEY ('a')")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range stmts {
		if got, want := ShellOnly(s), i < 4; got != want {
			t.Errorf("ShellOnly(%s) = %v", s, got)
		}
	}
}

func TestBind(t *testing.T) {
	tests := []struct {
		in, pk, sk string
		want       string // String after Bind, or the error
	}{
		{"SELECT * FROM t WHERE id = 'x'", "id", "", "SELECT * FROM t WHERE id = 'x'"},
		{"SELECT * FROM t WHERE ts = 'y' AND id = 'x'", "id", "ts", "SELECT * FROM t WHERE id = 'x' AND ts = 'y'"},
		{"SELECT * FROM t WHERE id = 'x' ORDER BY ts DESC", "id", "ts", "SELECT * FROM t WHERE id = 'x' ORDER BY ts DESC"},
		{"SELECT * FROM t ALLOW SCAN", "id", "ts", "SELECT * FROM t ALLOW SCAN"},
		{"SELECT * FROM t WHERE name = 'x'", "id", "", `line 1, column 23: name is not the partition key of table t; a query needs WHERE id = '...'`},
		{"SELECT * FROM t WHERE id = 'x' AND ts > 'a'", "id", "", `line 1, column 36: table t has no sort key; only WHERE id = '...' is allowed`},
		{"SELECT * FROM t WHERE id = 'x' AND at > 'a'", "id", "ts", `line 1, column 36: at is not the sort key of table t (the sort key is ts)`},
		{"SELECT * FROM t WHERE id = 'x' ORDER BY at", "id", "ts", `line 1, column 41: ORDER BY at: items can only be ordered by the sort key ts`},
		{"SELECT * FROM t WHERE id = 'x' ORDER BY at", "id", "", `line 1, column 41: table t has no sort key to ORDER BY`},
	}
	for _, tt := range tests {
		s, err := ParseOne(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		sel := s.(*Select)
		err = sel.Bind(tt.pk, tt.sk)
		got := sel.String()
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Bind(%q, %q) on %s\n got %s\nwant %s", tt.pk, tt.sk, tt.in, got, tt.want)
		}
	}
}

// TestParseConcurrently backs the doc's promise that the package may be
// used from many goroutines; run it with -race.
func TestParseConcurrently(t *testing.T) {
	inputs := []string{
		"SELECT a.b FROM t WHERE id = 'x' AND ts BETWEEN 'a' AND 'b'",
		"PUT INTO t KEY ('a') VALUE {\"a\": [1, {\"b\": null}]}",
		"GET FROM t KEY ('a') WITH x = 1", // error path, with expected sets
		"CREATE TABLE t (id PARTITION KEY) WITH n = 5",
	}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		want[i] = render(Parse(in))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := (g + i) % len(inputs)
				if got := render(Parse(inputs[k])); got != want[k] {
					t.Errorf("concurrent Parse(%q) = %s, want %s", inputs[k], got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func render(stmts []Statement, err error) string {
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, s := range stmts {
		out = append(out, s.String())
	}
	return strings.Join(out, "; ")
}
