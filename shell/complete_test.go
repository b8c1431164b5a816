package shell

import (
	"slices"
	"testing"
)

func TestCompleteCandidates(t *testing.T) {
	tables := []string{"events", "users", "users_archive"}
	for _, tc := range []struct {
		pending, before string
		word            string
		want            []string
	}{
		// Statement starters, in the case typed.
		{"", "SEL", "SEL", []string{"SELECT "}},
		{"", "sel", "sel", []string{"select "}},
		{"", "Sh", "Sh", []string{"Show "}},
		{"", "D", "D", []string{"DROP", "DESCRIBE", "DELETE"}},
		// Table names after FROM, INTO, TABLE, DESCRIBE, WATCH, COPY.
		{"", "GET FROM us", "us", []string{"users", "users_archive"}},
		{"", "GET FROM ev", "ev", []string{"events "}},
		{"", "put into e", "e", []string{"events "}},
		{"", "WATCH ", "", tables},
		{"", "COPY u", "u", []string{"users", "users_archive"}},
		{"", "DROP TABLE IF EXISTS e", "e", []string{"events "}},
		// What the grammar expects next.
		{"", "GET FROM users ", "", []string{"KEY "}},
		{"", "get from users k", "k", []string{"key "}},
		{"", "PUT INTO users KEY ('a') ", "", []string{"VALUE "}},
		{"", "TRACING O", "O", []string{"ON", "OFF"}},
		{"", "SELECT * FROM users WHERE id = 'x' AND ts B", "B", []string{"BETWEEN", "BEGINS WITH"}},
		// Nothing to offer where a string or a file name goes.
		{"", "GET FROM users KEY (", "", nil},
		{"", "COPY users TO ", "", nil},
		// The statement began on an earlier line.
		{"SELECT *\n", "FROM u", "u", []string{"users", "users_archive"}},
		{"GET FROM users\n", "K", "K", []string{"KEY "}},
		// Only the statement after the last ';' counts.
		{"", "SHOW TABLES; GET FROM e", "e", []string{"events "}},
		// Meta commands and their arguments.
		{"", `\fo`, `\fo`, []string{`\format`, `\forget`}},
		{"", `\fom`, `\fom`, nil},
		{"", `\fr`, `\fr`, nil},
		{"", `\ti`, `\ti`, []string{`\timing `}},
		{"", `\t`, `\t`, []string{`\tables`, `\timing`}},
		{"", `\format j`, "j", []string{"json "}},
		{"", `\expand `, "", []string{"on", "off"}},
		{"", `\describe us`, "us", []string{"users", "users_archive"}},
		{"", `\help se`, "se", []string{"select "}},
	} {
		word, got := complete(tc.pending, tc.before, tables)
		if word != tc.word || !slices.Equal(got, tc.want) {
			t.Errorf("complete(%q, %q) = %q %q, want %q %q", tc.pending, tc.before, word, got, tc.word, tc.want)
		}
	}
}

func TestCompleterGivesRemainders(t *testing.T) {
	sh, err := New(Config{In: nil, Out: nil, Err: nil}, &fakeEval{})
	if err == nil || sh != nil {
		t.Fatal("New accepted a Config without In, Out and Err")
	}
	cfg := DefaultConfig()
	sh, err = New(cfg, &fakeEval{})
	if err != nil {
		t.Fatal(err)
	}
	sh.setTables(nil)
	sh.tableCreated(&usersTable)
	c := &completer{s: sh}
	got, n := c.Do([]rune("GET FROM us"), len("GET FROM us"))
	if n != 2 || len(got) != 1 || string(got[0]) != "ers " {
		t.Errorf("Do = %q, %d", got, n)
	}
	sh.setPending("SELECT * FROM users\n")
	got, n = c.Do([]rune("WHERE id = 'x' ALL"), len("WHERE id = 'x' ALL"))
	if n != 3 || len(got) != 1 || string(got[0]) != "OW " {
		t.Errorf("Do after pending = %q, %d", got, n)
	}
	sh.tableDropped("users")
	if names := sh.tableNames(); len(names) != 0 {
		t.Errorf("tables after drop: %v", names)
	}
}
