package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/vclock"
)

func mustCreate(t *testing.T, cl *client.Client, tb client.Table) {
	t.Helper()
	if _, err := cl.CreateTable(context.Background(), tb); err != nil {
		t.Fatalf("create table %s: %v", tb.Name, err)
	}
}

func values(it *client.Item) []string {
	var out []string
	for _, v := range it.Items {
		out = append(out, string(v.Value))
	}
	return out
}

// Reference: Dynamo §4.4 (data versioning). Two writes made with the same
// context through two gateways are concurrent: a read returns both, and a
// write with that read's context resolves them into one version.
func TestConcurrentWritesBecomeSiblingsAndResolve(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateways: 2})
	ctx := context.Background()
	g0, g1 := c.Client(0), c.Client(1)
	mustCreate(t, g0, client.Table{Name: "users", PartitionKey: "id"})
	k := client.Key{PK: "alice"}
	base, err := g0.Put(ctx, "users", k, []byte(`{"v":0}`), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g0.Put(ctx, "users", k, []byte(`{"v":"a"}`), client.Options{Context: base}); err != nil {
		t.Fatal(err)
	}
	if _, err := g1.Put(ctx, "users", k, []byte(`{"v":"b"}`), client.Options{Context: base}); err != nil {
		t.Fatal(err)
	}
	it, err := g1.Get(ctx, "users", k, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := values(it)
	if len(got) != 2 || !strings.Contains(strings.Join(got, " "), `{"v":"a"}`) || !strings.Contains(strings.Join(got, " "), `{"v":"b"}`) {
		t.Fatalf("siblings = %v, want the two concurrent values", got)
	}
	if _, err := g0.Put(ctx, "users", k, []byte(`{"v":"merged"}`), client.Options{Context: it.Context}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		it, err = c.Client(i).Get(ctx, "users", k, client.Options{R: 3})
		if err != nil {
			t.Fatal(err)
		}
		if got := values(it); len(got) != 1 || got[0] != `{"v":"merged"}` {
			t.Fatalf("gateway %d after resolving: %v, want one merged version", i, got)
		}
	}
}

// Reference: Dynamo §4.5. N=3, R=2, W=2 tolerates one stopped node; with
// two stopped, reads and writes fail with 503 naming the replicas that
// answered.
func TestQuorumWithStoppedNodes(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id", N: 3, R: 2, W: 2})
	c.Stop("n2")
	for i := range 20 {
		k := client.Key{PK: fmt.Sprintf("k%d", i)}
		if _, err := cl.Put(ctx, "t", k, []byte(`{"i":1}`), client.Options{}); err != nil {
			t.Fatalf("write with one node stopped: %v", err)
		}
		if _, err := cl.Get(ctx, "t", k, client.Options{}); err != nil {
			t.Fatalf("read with one node stopped: %v", err)
		}
	}
	c.Stop("n3")
	_, err := cl.Put(ctx, "t", client.Key{PK: "k0"}, []byte(`{"i":2}`), client.Options{})
	assertQuorumError(t, "write", err)
	_, err = cl.Get(ctx, "t", client.Key{PK: "k0"}, client.Options{})
	assertQuorumError(t, "read", err)

	// A client that gives up before the round does is not a 503 of the
	// service: the gateway counts it apart.
	before := requestCount(t, cl, "put", "503")
	gone, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := cl.Put(gone, "t", client.Key{PK: "k0"}, []byte(`{"i":3}`), client.Options{}); err == nil {
		t.Fatal("a write with two nodes stopped succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for requestCount(t, cl, "put", "499") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no request counted with status 499 after the client went away")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after := requestCount(t, cl, "put", "503"); after != before {
		t.Errorf("503s counted: %v before the abandoned write, %v after", before, after)
	}
}

// requestCount reads the gateway's request counter of op and status.
func requestCount(t *testing.T, cl *client.Client, op, status string) float64 {
	t.Helper()
	code, body, err := cl.Raw(context.Background(), http.MethodGet, "/metrics", nil, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	want := fmt.Sprintf(`ringtable_gateway_requests_total{op="%s",status="%s"} `, op, status)
	for line := range strings.Lines(string(body)) {
		if rest, ok := strings.CutPrefix(line, want); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	return 0
}

func assertQuorumError(t *testing.T, what string, err error) {
	t.Helper()
	var e *client.Error
	if !errorsAs(err, &e) || e.Status != http.StatusServiceUnavailable {
		t.Fatalf("%s with two nodes stopped: err = %v, want a 503", what, err)
	}
	if !strings.Contains(e.Message, "1 of 2 required replicas answered") {
		t.Fatalf("%s error message %q does not say 1 of 2 required replicas answered", what, e.Message)
	}
}

// Reference: Dynamo §4.5 (read repair). A replica that missed a write
// holds the latest version after one read.
func TestReadRepair(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	key := c.ItemKey(c.TenantID, "t", "alice", "")
	stale := c.Replicas(key, 3)[2]
	tok, err := cl.Put(ctx, "t", client.Key{PK: "alice"}, []byte(`{"v":1}`), client.Options{W: 3})
	if err != nil {
		t.Fatal(err)
	}
	c.Stop(stale)
	if _, err := cl.Put(ctx, "t", client.Key{PK: "alice"}, []byte(`{"v":2}`), client.Options{Context: tok}); err != nil {
		t.Fatal(err)
	}
	c.Start(stale)
	before, err := c.ReadReplica(stale, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 1 || string(before[0].Value) != `{"v":1}` {
		t.Fatalf("stale replica before the read holds %v, want the old version", valuesOf(before))
	}
	if _, err := cl.Get(ctx, "t", client.Key{PK: "alice"}, client.Options{R: 3}); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, 5*time.Second, "read repair of "+stale, func() bool {
		s, err := c.ReadReplica(stale, key)
		return err == nil && len(s) == 1 && string(s[0].Value) == `{"v":2}`
	})
}

func valuesOf(s vclock.Set) []string {
	var out []string
	for _, v := range s {
		out = append(out, string(v.Value))
	}
	return out
}

// Every acknowledged write survives stopping and restarting every node.
func TestRestartKeepsAcknowledgedWrites(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id", SortKey: "ts"})
	const n = 200
	for i := range n {
		k := client.Key{PK: fmt.Sprintf("p%d", i%7), SK: fmt.Sprintf("s%03d", i)}
		if _, err := cl.Put(ctx, "t", k, []byte(fmt.Sprintf(`{"i":%d}`, i)), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range c.NodeIDs {
		c.Stop(id)
	}
	for _, id := range c.NodeIDs {
		c.Start(id)
	}
	for i := range n {
		k := client.Key{PK: fmt.Sprintf("p%d", i%7), SK: fmt.Sprintf("s%03d", i)}
		it, err := cl.Get(ctx, "t", k, client.Options{R: 3})
		if err != nil {
			t.Fatalf("item %d after restart: %v", i, err)
		}
		if got := values(it); len(got) != 1 || got[0] != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("item %d after restart = %v", i, got)
		}
	}
}

func TestBadInputIsRefusedAndStoresNothing(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	big := `{"v":"` + strings.Repeat("x", 400<<10) + `"}`
	cases := []struct {
		name, method, path, ctxTok, body string
		status                           int
		msg                              string
	}{
		{"malformed JSON", "PUT", "/v1/tables/t/items/a", "", `{"v":`, 400, "invalid JSON item"},
		{"not an object", "PUT", "/v1/tables/t/items/b", "", `[1,2]`, 400, "object"},
		{"invalid context", "PUT", "/v1/tables/t/items/c", "not-a-context", `{"v":1}`, 400, "invalid context token"},
		{"oversized item", "PUT", "/v1/tables/t/items/d", "", big, 413, "400 KiB"},
		{"oversized key", "PUT", "/v1/tables/t/items/" + strings.Repeat("k", 2049), "", `{"v":1}`, 413, "limit is 2048 bytes"},
		{"unknown table", "PUT", "/v1/tables/nosuch/items/e", "", `{"v":1}`, 404, "nosuch"},
		{"bad table name", "PUT", "/v1/tables/9bad/items/f", "", `{"v":1}`, 400, "must start with a letter"},
		{"bad table create", "POST", "/v1/tables", "", `{"name":"a.b","partition_key":"id"}`, 400, "contains"},
		{"unknown field", "POST", "/v1/tables", "", `{"name":"ok","partition_key":"id","nope":1}`, 400, `unknown field "nope" (the fields are name, partition_key, sort_key, n, r, w,`},
		{"field of another type", "POST", "/v1/tables", "", `{"name":"ok","partition_key":"id","ttl":"1h"}`, 400, `field "ttl" must be a whole number, not a string`},
		{"fraction for a count", "POST", "/v1/tables", "", `{"name":"ok","partition_key":"id","n":2.5}`, 400, `field "n" must be a whole number, not 2.5`},
		{"body not an object", "POST", "/v1/tables", "", `["ok"]`, 400, "expected a JSON object, got an array"},
		{"body cut short", "POST", "/v1/tables", "", `{"name":"ok",`, 400, "it ends inside the object"},
		{"body syntax", "POST", "/v1/tables", "", `{"name" "ok"}`, 400, "malformed JSON body at byte 9: invalid character '\"' after object key"},
		{"body too long", "POST", "/v1/tables", "", `{"name":"` + strings.Repeat("x", 64<<10) + `"}`, 413, "request body is over 65536 bytes"},
		{"item that names another key", "PUT", "/v1/tables/t/items/j", "", `{"id":"k","v":1}`, 400, `attribute "id" is the table's partition key, and "k" is not this item's partition key "j"`},
		{"missing item", "GET", "/v1/tables/t/items/nope", "", "", 404, `table "t": item "nope": not found`},
		{"no such endpoint", "GET", "/v1/tablez", "", "", 404, "no endpoint at this path"},
		{"method a path does not take", "PATCH", "/v1/tables/t/items/k", "", `{"v":1}`, 405, "method not allowed: PATCH; this path takes DELETE, GET, HEAD, PUT"},
		{"bad quorum", "PUT", "/v1/tables/t/items/g?w=4", "", `{"v":1}`, 400, "between 1 and the table's n=3"},
		{"sort key on table without", "PUT", "/v1/tables/t/items/h/s", "", `{"v":1}`, 400, "has no sort key"},
		{"item not UTF-8", "PUT", "/v1/tables/t/items/i", "", "{\"v\":\"\xff\"}", 400, "line 1, column 7: invalid JSON item: byte 0xff is not UTF-8"},
		{"item nested too deep", "PUT", "/v1/tables/t/items/j", "", `{"v":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}", 400, "nest more than 100 deep"},
		{"attribute twice", "PUT", "/v1/tables/t/items/j", "", `{"v":1, "w":{"v":2}, "v":3}`, 400, "line 1, column 22: invalid JSON item: attribute \"v\" appears twice in one object"},
		{"key not UTF-8", "PUT", "/v1/tables/t/items/%FFk", "", `{"v":1}`, 400, "partition key is not UTF-8 text: byte 0xff at offset 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.ctxTok != "" {
				h.Set(client.ContextHeader, tc.ctxTok)
			}
			status, body, err := cl.Raw(ctx, tc.method, tc.path, h, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d (body %s)", status, tc.status, body)
			}
			var eb struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code == "" {
				t.Fatalf("error body %q is not {\"error\":{\"code\",\"message\"}}", body)
			}
			if !strings.Contains(eb.Error.Message, tc.msg) {
				t.Fatalf("message %q does not mention %q", eb.Error.Message, tc.msg)
			}
		})
	}
	// Whitespace does not count against the item's limit, as in a
	// statement's VALUE: an item at the limit once compacted is taken.
	atLimit := `{"v":"` + strings.Repeat("x", 400<<10-len(`{"v":""}`)) + `"}`
	padded := strings.Replace(atLimit, `"v":`, "\n  \"v\" :  "+strings.Repeat(" ", 20<<10), 1)
	if status, body, err := cl.Raw(ctx, "PUT", "/v1/tables/t/items/padded", nil, []byte(padded)); err != nil || status != 204 {
		t.Fatalf("PUT of an item at the limit with whitespace: %d %s %v", status, body, err)
	}
	if it, err := cl.Get(ctx, "t", client.Key{PK: "padded"}, client.Options{}); err != nil || len(values(it)) != 1 || values(it)[0] != atLimit {
		t.Fatalf("GET of the padded item: %v (want it stored compacted)", err)
	}
	// Nothing was stored by any of them.
	for _, pk := range []string{"a", "b", "c", "d", "g", "i", "j", "\xffk"} {
		if _, err := cl.Get(ctx, "t", client.Key{PK: pk}, client.Options{R: 3}); !client.IsStatus(err, 404) {
			t.Errorf("item %q after a refused write: err = %v, want 404", pk, err)
		}
	}
	tables, err := cl.ListTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || tables[0].Name != "t" {
		t.Errorf("tables after refused creates = %+v, want only t", tables)
	}
}
