package shell

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
)

// contextEval answers GETs with one row whose context names the key
// ("read:<table>/<pk>/<sk>"), PUTs and DELETEs with "write<n>".
func contextEval() *fakeEval {
	writes := 0
	return &fakeEval{answer: tablesAnswer(nil, func(req client.QueryRequest) (*client.QueryResponse, error) {
		st := req.Statement
		switch {
		case strings.HasPrefix(st, "GET FROM missing"):
			return rows(), nil
		case strings.HasPrefix(st, "GET"):
			var table, pk, sk string
			fields := strings.FieldsFunc(st, func(r rune) bool { return strings.ContainsRune(" ('),", r) })
			table, pk = fields[2], fields[4]
			if len(fields) > 5 && fields[5] != ";" {
				sk = fields[5]
			}
			return rows(client.Row{PK: pk, SK: sk, Value: json.RawMessage(`{}`), Sibling: 1, Siblings: 1, Context: "read:" + table + "/" + pk + "/" + sk}), nil
		case strings.HasPrefix(st, "PUT"), strings.HasPrefix(st, "DELETE"):
			writes++
			return &client.QueryResponse{Results: []client.Result{{Kind: client.KindOK, Affected: 1, Context: fmt.Sprintf("write%d", writes)}}}, nil
		}
		return ok(""), nil
	})}
}

func TestContextOfLastReadIsSentWithPutAndDelete(t *testing.T) {
	f := contextEval()
	out, err := runScript(t, f, `
GET FROM users KEY ('alice');
PUT INTO users KEY ('alice') VALUE {"v":1};
PUT INTO users KEY ('alice') VALUE {"v":2};
PUT INTO users KEY ('alice') VALUE {"v":3} CONTEXT 'mine';
PUT INTO users KEY ('alice2') VALUE {"v":1};
PUT INTO other KEY ('alice') VALUE {"v":1};
GET FROM events KEY ('e', 's1');
DELETE FROM events KEY ('e', 's1');
PUT INTO events KEY ('e', 's2') VALUE {};
PUT INTO events KEY ('e') VALUE {};
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET FROM users KEY ('alice')",
		// The context of the read, so the write supersedes what was read.
		`PUT INTO users KEY ('alice') VALUE {"v":1} CONTEXT 'read:users/alice/'`,
		// Then the context of the shell's own last write.
		`PUT INTO users KEY ('alice') VALUE {"v":2} CONTEXT 'write1'`,
		// An explicit CONTEXT always wins.
		`PUT INTO users KEY ('alice') VALUE {"v":3} CONTEXT 'mine'`,
		// Other keys and tables are blind writes: the match is exact.
		`PUT INTO users KEY ('alice2') VALUE {"v":1}`,
		`PUT INTO other KEY ('alice') VALUE {"v":1}`,
		"GET FROM events KEY ('e', 's1')",
		`DELETE FROM events KEY ('e', 's1') CONTEXT 'read:events/e/s1'`,
		`PUT INTO events KEY ('e', 's2') VALUE {}`,
		`PUT INTO events KEY ('e') VALUE {}`,
	}
	if got := f.sent(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, note := range []string{
		"(using the context of your last read of users/alice)\n",
		"(using the context of your last write of users/alice)\n",
		"(using the context of your last read of events/e/s1)\n",
	} {
		if !strings.Contains(out, note) {
			t.Errorf("output lacks %q:\n%s", note, out)
		}
	}
	if n := strings.Count(out, "(using the context"); n != 3 {
		t.Errorf("%d notes, want 3:\n%s", n, out)
	}
}

func TestContextForgottenOnEmptyReadAndDrop(t *testing.T) {
	f := contextEval()
	_, err := runScript(t, f, `
GET FROM missing KEY ('k');
PUT INTO missing KEY ('k') VALUE {};
GET FROM missing KEY ('k');
PUT INTO missing KEY ('k') VALUE {};
GET FROM users KEY ('a');
DROP TABLE users;
PUT INTO users KEY ('a') VALUE {};
GET FROM users KEY ('b');
CREATE TABLE users (id PARTITION KEY);
PUT INTO users KEY ('b') VALUE {};
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET FROM missing KEY ('k')",
		"PUT INTO missing KEY ('k') VALUE {}",
		"GET FROM missing KEY ('k')",
		// The write's context was forgotten by the read that found nothing.
		"PUT INTO missing KEY ('k') VALUE {}",
		"GET FROM users KEY ('a')",
		"DROP TABLE users",
		"PUT INTO users KEY ('a') VALUE {}",
		"GET FROM users KEY ('b')",
		"CREATE TABLE users (id PARTITION KEY)",
		"PUT INTO users KEY ('b') VALUE {}",
	}
	if got := f.sent(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestContextMemoryIsBounded(t *testing.T) {
	m := newContextMemory(3)
	for i := range 5 {
		m.remember(itemKey{"t", fmt.Sprint(i), ""}, fmt.Sprint("c", i), "read")
	}
	if m.len() != 3 {
		t.Fatalf("len %d, want 3", m.len())
	}
	for i, want := range []bool{false, false, true, true, true} {
		if _, ok := m.lookup(itemKey{"t", fmt.Sprint(i), ""}); ok != want {
			t.Errorf("key %d remembered = %v, want %v", i, ok, want)
		}
	}
	// Re-remembering a key makes it the newest: it outlives older ones.
	m.remember(itemKey{"t", "2", ""}, "again", "write")
	m.remember(itemKey{"t", "5", ""}, "c5", "read")
	if s, ok := m.lookup(itemKey{"t", "2", ""}); !ok || s.token != "again" {
		t.Errorf("key 2: %+v %v", s, ok)
	}
	if _, ok := m.lookup(itemKey{"t", "3", ""}); ok {
		t.Error("key 3 should have been forgotten first")
	}
	// An empty token forgets; forgetTable forgets a table's keys only.
	m.remember(itemKey{"t", "5", ""}, "", "write")
	if _, ok := m.lookup(itemKey{"t", "5", ""}); ok {
		t.Error("empty context should forget")
	}
	m.remember(itemKey{"u", "1", ""}, "x", "read")
	m.forgetTable("t")
	if m.len() != 1 {
		t.Errorf("len %d after forgetTable, want 1", m.len())
	}
	for i := range 100 {
		m.remember(itemKey{"u", "1", ""}, fmt.Sprint(i), "read")
	}
	if len(m.order) > 2*3+16 {
		t.Errorf("order grew to %d", len(m.order))
	}
}

// A DELETE of an item the session has not read is sent with the context
// of a read made for it; when that read finds too few replicas, the
// delete goes as typed, and says so.
func TestDeleteReadsFirst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		get    func() (*client.QueryResponse, error)
		sent   string
		saying string
	}{
		{"versions found", func() (*client.QueryResponse, error) {
			return rows(client.Row{PK: "a", Sibling: 1, Siblings: 2, Context: "both"}, client.Row{PK: "a", Sibling: 2, Siblings: 2, Context: "both"}), nil
		}, "DELETE FROM users KEY ('a') CONTEXT 'both'", "(deleting the 2 versions of users/a a read found)"},
		{"one version", func() (*client.QueryResponse, error) {
			return rows(client.Row{PK: "a", Sibling: 1, Siblings: 1, Context: "one"}), nil
		}, "DELETE FROM users KEY ('a') CONTEXT 'one'", ""},
		{"nothing there", func() (*client.QueryResponse, error) { return rows(), nil }, "DELETE FROM users KEY ('a')", ""},
		{"no read quorum", func() (*client.QueryResponse, error) {
			qe := &client.QueryError{Code: "quorum_not_met", Message: "1 of 2 replicas answered"}
			return &client.QueryResponse{Error: qe}, qe
		}, "DELETE FROM users KEY ('a')", "(could not read users/a first: deleting without a context, beside any version there)"},
	} {
		f := &fakeEval{answer: tablesAnswer(nil, func(req client.QueryRequest) (*client.QueryResponse, error) {
			if strings.HasPrefix(req.Statement, "GET") {
				return tc.get()
			}
			return ok(""), nil
		})}
		out, err := runScript(t, f, "DELETE FROM users KEY ('a');")
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		sent := f.sent()
		if len(sent) != 2 || sent[0] != "GET FROM users KEY ('a')" || sent[1] != tc.sent {
			t.Errorf("%s: sent %q, want the GET then %q", tc.name, sent, tc.sent)
		}
		if tc.saying != "" && !strings.Contains(out, tc.saying) || tc.saying == "" && strings.Contains(out, "(") {
			t.Errorf("%s: output %q, want %q", tc.name, out, tc.saying)
		}
	}
}
