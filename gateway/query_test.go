package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/storagenode"
)

func q(t *testing.T, cl *client.Client, stmt string) *client.QueryResponse {
	t.Helper()
	res, err := cl.Query(context.Background(), client.QueryRequest{Statement: stmt})
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return res
}

func TestQueryStatements(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateways: 2})
	ctx := context.Background()
	g0, g1 := c.Client(0), c.Client(1)
	res := q(t, g0, `CREATE TABLE users (id PARTITION KEY) WITH n = 3, r = 2, w = 2;
		CREATE TABLE IF NOT EXISTS users (id PARTITION KEY);
		PUT INTO users KEY ('alice') VALUE {"name": "Alice", "tags": ["a", 1, true, null], "addr": {"city": "Paris"}};
		SHOW TABLES; DESCRIBE users`)
	if len(res.Results) != 5 || res.Results[0].Message != "table users created" || res.Results[1].Message != "table users already exists" ||
		res.Results[2].Affected != 1 || res.Results[2].Context == "" || len(res.Results[3].Tables) != 1 || res.Results[4].Table.PartitionKey != "id" {
		t.Fatalf("results: %+v", res.Results)
	}
	// The other gateway sees the table at once.
	res = q(t, g1, `GET FROM users KEY ('alice') WITH r = 3; SELECT name, addr.city FROM users WHERE id = 'alice'`)
	if rows := res.Results[0].Rows; len(rows) != 1 || !strings.Contains(string(rows[0].Value), `"Paris"`) || rows[0].Siblings != 1 {
		t.Fatalf("GET rows: %+v", rows)
	}
	if rows := res.Results[1].Rows; len(rows) != 1 || string(rows[0].Value) != `{"addr.city":"Paris","name":"Alice"}` {
		t.Fatalf("projected rows: %+v", res.Results[1].Rows)
	}
	// Siblings: two PUTs with the same context give two rows with one
	// context that resolves them.
	tok := res.Results[0].Rows[0].Context
	q(t, g0, fmt.Sprintf(`PUT INTO users KEY ('alice') VALUE {"v":1} CONTEXT '%s'`, tok))
	q(t, g1, fmt.Sprintf(`PUT INTO users KEY ('alice') VALUE {"v":2} CONTEXT '%s'`, tok))
	rows := q(t, g0, `GET FROM users KEY ('alice')`).Results[0].Rows
	if len(rows) != 2 || rows[0].Siblings != 2 || rows[0].Context != rows[1].Context {
		t.Fatalf("sibling rows: %+v", rows)
	}
	q(t, g0, fmt.Sprintf(`PUT INTO users KEY ('alice') VALUE {"v":3} CONTEXT '%s'`, rows[0].Context))
	if rows := q(t, g0, `GET FROM users KEY ('alice') WITH r = 3`).Results[0].Rows; len(rows) != 1 || string(rows[0].Value) != `{"v":3}` {
		t.Fatalf("after resolving: %+v", rows)
	}
	ctxTok := q(t, g0, `GET FROM users KEY ('alice')`).Results[0].Rows[0].Context
	q(t, g0, fmt.Sprintf(`DELETE FROM users KEY ('alice') CONTEXT '%s'`, ctxTok))
	if rows := q(t, g1, `GET FROM users KEY ('alice')`).Results[0].Rows; len(rows) != 0 {
		t.Fatalf("after DELETE: %+v", rows)
	}
	// Errors: position, statement index, the results before the error kept.
	res, err := g0.Query(ctx, client.QueryRequest{Statement: "SHOW TABLES;\nGET FROM users KEYS ('a')"})
	var qe *client.QueryError
	if !errorsAs(err, &qe) || qe.Line != 2 || qe.Column != 16 || qe.Statement != 1 || len(res.Results) != 0 {
		t.Fatalf("parse error: %+v %+v", qe, res)
	}
	res, err = g0.Query(ctx, client.QueryRequest{Statement: "SHOW TABLES; GET FROM nosuch KEY ('a'); SHOW TABLES"})
	if !errorsAs(err, &qe) || qe.Code != "not_found" || qe.Statement != 1 || len(res.Results) != 1 {
		t.Fatalf("missing table: %+v %+v", qe, res)
	}
	for stmt, want := range map[string]string{
		"CREATE TABLE users (id PARTITION KEY)":      "table_exists",
		"DROP TABLE nosuch":                          "not_found",
		"SELECT * FROM users":                        "ALLOW SCAN",
		"SELECT * FROM users WHERE name = 'x'":       "not the partition key",
		"CONSISTENCY r=1":                            "shell command",
		"PUT INTO users KEY ('a', 'b') VALUE {}":     "has no sort key",
		"GET FROM users KEY ('a') WITH r = 4":        "the table's n is 3",
		"PUT INTO users KEY ('a') VALUE {\"a\": 1,}": "invalid JSON",
	} {
		_, err := g0.Query(ctx, client.QueryRequest{Statement: stmt})
		if !errorsAs(err, &qe) || (qe.Code != want && !strings.Contains(qe.Message, want)) {
			t.Errorf("%s: %v, want %q", stmt, err, want)
		}
	}
	q(t, g0, `DROP TABLE users; DROP TABLE IF EXISTS users`)
	if _, err := g1.Query(ctx, client.QueryRequest{Statement: `GET FROM users KEY ('alice')`}); !errorsAs(err, &qe) || qe.Code != "not_found" {
		t.Fatalf("dropped table on the other gateway: %v", err)
	}
	// A table of the same name is a new table: the old items do not come back.
	q(t, g1, `CREATE TABLE users (id PARTITION KEY)`)
	if rows := q(t, g0, `SELECT * FROM users WHERE id = 'alice'`).Results[0].Rows; len(rows) != 0 {
		t.Fatalf("recreated table shows %+v", rows)
	}
}

// Every range form over a composite key returns exactly the expected items
// in order, across pages.
func TestQueryRanges(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	q(t, cl, `CREATE TABLE ev (dev PARTITION KEY, ts SORT KEY)`)
	type item struct{ pk, sk string }
	var all []item
	var stmts []string
	for p := range 10 {
		for i := range 100 {
			it := item{fmt.Sprintf("d%d", p), fmt.Sprintf("t%03d", (i*37)%100)}
			all = append(all, it)
			stmts = append(stmts, fmt.Sprintf(`PUT INTO ev KEY ('%s', '%s') VALUE {"p":%d,"i":%d}`, it.pk, it.sk, p, i))
		}
	}
	for i := 0; i < len(stmts); i += 100 {
		q(t, cl, strings.Join(stmts[i:i+100], ";\n"))
	}
	skOf := func(n int) string { return fmt.Sprintf("t%03d", n) }
	var sks []string
	for i := range 100 {
		sks = append(sks, skOf(i))
	}
	between := func(lo, hi string) []string {
		var out []string
		for _, s := range sks {
			if s >= lo && s <= hi {
				out = append(out, s)
			}
		}
		return out
	}
	rev := func(s []string) []string { s = slices.Clone(s); slices.Reverse(s); return s }
	cases := []struct {
		where string
		want  []string
	}{
		{"", sks},
		{" AND ts = 't042'", []string{"t042"}},
		{" AND ts < 't010'", between("", "t009")},
		{" AND ts <= 't010'", between("", "t010")},
		{" AND ts > 't090'", between("t091", "t999")},
		{" AND ts >= 't090'", between("t090", "t999")},
		{" AND ts BETWEEN 't020' AND 't029'", between("t020", "t029")},
		{" AND ts BEGINS WITH 't05'", between("t050", "t059")},
		{" AND ts = 'nope'", nil},
	}
	for _, tc := range cases {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{0, 7} {
				stmt := "SELECT * FROM ev WHERE dev = 'd3'" + tc.where
				if desc {
					stmt += " ORDER BY ts DESC"
				}
				if limit > 0 {
					stmt += fmt.Sprintf(" LIMIT %d", limit)
				}
				var got []string
				cursor, pages := "", 0
				for {
					res, err := cl.Query(ctx, client.QueryRequest{Statement: stmt, Cursor: cursor})
					if err != nil {
						t.Fatalf("%s: %v", stmt, err)
					}
					r := res.Results[0]
					if limit > 0 && len(r.Rows) > limit {
						t.Fatalf("%s: page of %d rows", stmt, len(r.Rows))
					}
					for _, row := range r.Rows {
						if row.PK != "d3" {
							t.Fatalf("%s: row of partition %s", stmt, row.PK)
						}
						got = append(got, row.SK)
					}
					pages++
					if cursor = r.Next; cursor == "" {
						break
					}
				}
				want := tc.want
				if desc {
					want = rev(want)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s: got %d items %v, want %d %v", stmt, len(got), got, len(want), want)
				}
				if limit > 0 && len(want) > limit && pages < (len(want)+limit-1)/limit {
					t.Fatalf("%s: %d pages for %d items", stmt, pages, len(want))
				}
			}
		}
	}
	// A guarded scan pages through the whole table exactly once.
	seen := map[item]int{}
	cursor := ""
	for {
		res, err := cl.Query(ctx, client.QueryRequest{Statement: "SELECT * FROM ev ALLOW SCAN LIMIT 150", Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range res.Results[0].Rows {
			seen[item{row.PK, row.SK}]++
		}
		if cursor = res.Results[0].Next; cursor == "" {
			break
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("scan saw %d distinct items, want %d", len(seen), len(all))
	}
	for it, n := range seen {
		if n != 1 {
			t.Fatalf("scan returned %v %d times", it, n)
		}
	}
	// A cursor works only with its own statement.
	res := q(t, cl, "SELECT * FROM ev WHERE dev = 'd1' LIMIT 5")
	if _, err := cl.Query(ctx, client.QueryRequest{Statement: "SELECT * FROM ev WHERE dev = 'd2' LIMIT 5", Cursor: res.Results[0].Next}); err == nil {
		t.Fatal("a cursor of another partition key was accepted")
	}
}

// A table scan at a slow request rate ends its pages early, with a
// cursor, instead of outlasting the client's timeout; the pages together
// hold every item once.
func TestSlowScanPagesEndEarly(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateway: func(cfg *gateway.Config) { cfg.ScanPageTime = 200 * time.Millisecond }})
	ctx := context.Background()
	nk, err := c.Admin(0).CreateTenant(ctx, "slow", client.Quotas{RequestsPerSecond: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.ClientWithKey(0, nk.APIKey)
	q(t, cl, "CREATE TABLE t (id PARTITION KEY)")
	for i := range 30 {
		q(t, cl, fmt.Sprintf(`PUT INTO t KEY ('k%d') VALUE {}`, i))
	}
	// 100 partitions a second: a whole scan takes 2.5 s of tokens.
	if _, err := c.Admin(0).SetQuotas(ctx, nk.Tenant.ID, client.Quotas{RequestsPerSecond: 100, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	pages, cursor := 0, ""
	for {
		res, err := cl.Query(ctx, client.QueryRequest{Statement: "SELECT * FROM t ALLOW SCAN", Cursor: cursor})
		var qe *client.QueryError
		if errors.As(err, &qe) && qe.RetryAfter > 0 {
			time.Sleep(qe.RetryAfter) // the scan took the tokens the next page asks for
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, row := range res.Results[0].Rows {
			seen[row.PK]++
		}
		if cursor = res.Results[0].Next; cursor == "" {
			break
		}
	}
	for pk, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", pk, n)
		}
	}
	// A page holds up to 1000 items: more than one page is the time bound.
	if len(seen) != 30 || pages < 2 {
		t.Fatalf("scan: %d items in %d pages, want 30 in pages ended early", len(seen), pages)
	}
	t.Logf("30 items in %d pages", pages)
}

// The same concurrent writes leave siblings in a 'siblings' table and one
// version (the newest) in an 'lww' table.
func TestConflictPolicies(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateways: 2})
	g0, g1 := c.Client(0), c.Client(1)
	q(t, g0, `CREATE TABLE s (id PARTITION KEY); CREATE TABLE l (id PARTITION KEY) WITH conflict = 'lww'`)
	for _, tb := range []string{"s", "l"} {
		tok := q(t, g0, fmt.Sprintf(`PUT INTO %s KEY ('k') VALUE {"v":0}`, tb)).Results[0].Context
		q(t, g0, fmt.Sprintf(`PUT INTO %s KEY ('k') VALUE {"v":"a"} CONTEXT '%s'`, tb, tok))
		time.Sleep(5 * time.Millisecond) // the lww winner is the later write
		q(t, g1, fmt.Sprintf(`PUT INTO %s KEY ('k') VALUE {"v":"b"} CONTEXT '%s'`, tb, tok))
	}
	if rows := q(t, g1, `GET FROM s KEY ('k') WITH r = 3`).Results[0].Rows; len(rows) != 2 {
		t.Fatalf("siblings table: %d rows, want 2", len(rows))
	}
	rows := q(t, g1, `GET FROM l KEY ('k') WITH r = 3`).Results[0].Rows
	if len(rows) != 1 || string(rows[0].Value) != `{"v":"b"}` {
		t.Fatalf("lww table: %+v, want only the newest write", rows)
	}
}

// Expired items are not returned, and are eventually removed from disk.
func TestTTL(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Node: func(cfg *storagenode.Config) { cfg.Engine.ExpiredGrace = 0 }})
	cl := c.Client(0)
	q(t, cl, `CREATE TABLE s (id PARTITION KEY) WITH ttl = 3600;
		PUT INTO s KEY ('short') VALUE {"v":1} TTL 1;
		PUT INTO s KEY ('long') VALUE {"v":2}`)
	key := c.ItemKey(c.TenantID, "s", "short", "")
	if rows := q(t, cl, `GET FROM s KEY ('short')`).Results[0].Rows; len(rows) != 1 {
		t.Fatalf("before expiry: %+v", rows)
	}
	testcluster.WaitFor(t, 5*time.Second, "the item to expire", func() bool {
		return len(q(t, cl, `GET FROM s KEY ('short')`).Results[0].Rows) == 0
	})
	if rows := q(t, cl, `GET FROM s KEY ('long')`).Results[0].Rows; len(rows) != 1 {
		t.Fatalf("the table's default TTL of an hour expired an item: %+v", rows)
	}
	testcluster.WaitFor(t, 5*time.Second, "the expired item to leave every replica", func() bool {
		for _, n := range c.NodeIDs {
			if s, err := c.ReadReplica(n, key); err != nil || len(s) != 0 {
				return false
			}
		}
		return true
	})
}

// Each statement of a request counts against the tenant's request rate:
// a batch stops where the rate runs out, answering 429 with the results
// of the statements that ran and when the rest may follow; the rest did
// not run.
func TestEachStatementCountsAgainstTheRate(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	nk, err := c.Admin(0).CreateTenant(ctx, "batch", client.Quotas{RequestsPerSecond: 1, Burst: 4})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.ClientWithKey(0, nk.APIKey)
	q(t, cl, "CREATE TABLE t (id PARTITION KEY)")
	var stmts []string
	for i := range 5 {
		stmts = append(stmts, fmt.Sprintf(`PUT INTO t KEY ('k%d') VALUE {}`, i))
	}
	resp, err := cl.Query(ctx, client.QueryRequest{Statement: strings.Join(stmts, "; ")})
	var qe *client.QueryError
	if !errors.As(err, &qe) || qe.Code != "rate_limited" || qe.RetryAfter <= 0 {
		t.Fatalf("a batch over the burst: %+v, %v; want rate_limited with a wait", resp, err)
	}
	ran := qe.Statement
	if ran < 1 || ran >= len(stmts) || len(resp.Results) != ran {
		t.Fatalf("stopped at statement %d with %d results", ran, len(resp.Results))
	}
	// Read with a quota that no longer binds.
	if _, err := c.Admin(0).SetQuotas(ctx, nk.Tenant.ID, client.Quotas{RequestsPerSecond: 10000, Burst: 10000}); err != nil {
		t.Fatal(err)
	}
	for i := range stmts {
		var gerr error
		testcluster.WaitFor(t, 5*time.Second, "a read within the new quota", func() bool {
			_, gerr = cl.Get(ctx, "t", client.Key{PK: fmt.Sprintf("k%d", i)}, client.Options{R: 3})
			return !client.IsStatus(gerr, 429)
		})
		if (i < ran) != (gerr == nil) {
			t.Errorf("k%d after a batch stopped at statement %d: %v", i, ran, gerr)
		}
	}
}

// A replica's scan reply is bounded in bytes as well as items: a page of
// large items ends early with a cursor, and the pages together hold every
// item once, in order, in a partition's query and in a table scan. (With
// the default bound, a partition of 170 items of 399 KiB, 68 MB, could not
// be read at all: its reply was larger than a message may be.)
func TestLargeItemsPageByBytes(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Node: func(cfg *storagenode.Config) { cfg.ScanReplyBytes = 16 << 10 }})
	cl := c.Client(0)
	q(t, cl, "CREATE TABLE ev (dev PARTITION KEY, ts SORT KEY)")
	value := `{"blob":"` + strings.Repeat("x", 5<<10) + `"}`
	for i := range 30 {
		q(t, cl, fmt.Sprintf(`PUT INTO ev KEY ('big', 's%02d') VALUE %s`, i, value))
	}
	q(t, cl, `PUT INTO ev KEY ('small', 's') VALUE {}`)
	for _, stmt := range []string{
		"SELECT ts FROM ev WHERE dev = 'big'",
		"SELECT ts FROM ev WHERE dev = 'big' ORDER BY ts DESC",
		"SELECT dev, ts FROM ev ALLOW SCAN",
	} {
		var got []string
		pages, cursor := 0, ""
		for {
			res, err := cl.Query(context.Background(), client.QueryRequest{Statement: stmt, Cursor: cursor})
			if err != nil {
				t.Fatalf("%s, page %d: %v", stmt, pages+1, err)
			}
			pages++
			for _, r := range res.Results[0].Rows {
				got = append(got, r.PK+"/"+r.SK)
			}
			if cursor = res.Results[0].Next; cursor == "" {
				break
			}
		}
		want := 30
		if strings.Contains(stmt, "ALLOW SCAN") {
			want = 31
		}
		seen := map[string]bool{}
		for _, k := range got {
			if seen[k] {
				t.Errorf("%s: %s twice", stmt, k)
			}
			seen[k] = true
		}
		if len(seen) != want || pages < 4 {
			t.Errorf("%s: %d items in %d pages, want %d items over several pages of about 16 KiB", stmt, len(seen), pages, want)
		}
		if !strings.Contains(stmt, "ALLOW SCAN") {
			sorted := slices.IsSorted(got)
			if strings.Contains(stmt, "DESC") {
				sorted = slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) })
			}
			if !sorted {
				t.Errorf("%s: out of order: %v", stmt, got)
			}
		}
	}
}
