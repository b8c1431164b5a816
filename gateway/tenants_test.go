package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/tenants"
)

// Two tenants with a table of the same name and the same keys never see
// each other's items or tables; another tenant's table is a 404, never a
// 403, so its existence does not leak.
func TestTenantsAreIsolated(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	_, keyB := c.NewTenant("bravo")
	a, b := c.Client(0), c.ClientWithKey(0, keyB)
	for _, cl := range []*client.Client{a, b} {
		mustCreate(t, cl, client.Table{Name: "users", PartitionKey: "id"})
	}
	mustCreate(t, a, client.Table{Name: "only-a", PartitionKey: "id"})
	for i := range 20 {
		k := client.Key{PK: fmt.Sprintf("k%d", i)}
		if _, err := a.Put(ctx, "users", k, []byte(fmt.Sprintf(`{"owner":"a","i":%d}`, i)), client.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Put(ctx, "users", k, []byte(fmt.Sprintf(`{"owner":"b","i":%d}`, i)), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		k := client.Key{PK: fmt.Sprintf("k%d", i)}
		for who, cl := range map[string]*client.Client{"a": a, "b": b} {
			it, err := cl.Get(ctx, "users", k, client.Options{R: 3})
			if err != nil {
				t.Fatal(err)
			}
			if got := values(it); len(got) != 1 || got[0] != fmt.Sprintf(`{"owner":"%s","i":%d}`, who, i) {
				t.Fatalf("tenant %s reads %v for k%d", who, got, i)
			}
		}
	}
	ta, _ := a.ListTables(ctx)
	tb, _ := b.ListTables(ctx)
	if len(ta) != 2 || len(tb) != 1 || tb[0].Name != "users" {
		t.Fatalf("tables: a=%v b=%v", ta, tb)
	}
	for _, op := range []func() error{
		func() error { _, err := b.DescribeTable(ctx, "only-a"); return err },
		func() error { _, err := b.Get(ctx, "only-a", client.Key{PK: "k1"}, client.Options{}); return err },
		func() error {
			_, err := b.Put(ctx, "only-a", client.Key{PK: "k1"}, []byte(`{}`), client.Options{})
			return err
		},
		func() error { return b.DropTable(ctx, "only-a") },
	} {
		if err := op(); !client.IsStatus(err, http.StatusNotFound) {
			t.Fatalf("another tenant's table: %v, want 404", err)
		}
	}
}

// Names and keys built to confuse an encoder (separator bytes, NUL, very
// long, Unicode look-alikes, path segments, encoded slashes) written by one
// tenant never reach another tenant's items.
func TestCraftedKeysNeverCrossTenants(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	idB, keyB := c.NewTenant("bravo")
	a, b := c.Client(0), c.ClientWithKey(0, keyB)
	mustCreate(t, a, client.Table{Name: "t", PartitionKey: "id", SortKey: "s"})
	mustCreate(t, b, client.Table{Name: "t", PartitionKey: "id", SortKey: "s"})
	victim := []client.Key{{PK: "alice", SK: "1"}, {PK: "x", SK: "y"}, {PK: idB, SK: "t"}, {PK: "a/b", SK: "c"}}
	for i, k := range victim {
		if _, err := b.Put(ctx, "t", k, []byte(fmt.Sprintf(`{"b":%d}`, i)), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	crafted := []client.Key{
		{PK: "alice\x00", SK: "1"}, {PK: "alice", SK: "1\x00"}, {PK: "\x00", SK: "\x00"},
		{PK: "\x01\x05alice", SK: "1"}, {PK: idB + "\x01t", SK: "x"}, {PK: "\xff\xff", SK: "\xff"},
		{PK: "аlice", SK: "1"}, // Cyrillic а
		{PK: "alice\u200b", SK: "1"}, {PK: "..", SK: ".."}, {PK: "../" + idB, SK: "t"},
		{PK: "a%2Fb", SK: "c"}, {PK: "a/b/c", SK: "d"}, {PK: strings.Repeat("k", 2048), SK: strings.Repeat("s", 2048)},
		{PK: "x", SK: "y/../y"},
	}
	for _, k := range crafted {
		if _, err := a.Put(ctx, "t", k, []byte(`{"attacker":true}`), client.Options{}); err != nil && !client.IsStatus(err, 400) && !client.IsStatus(err, 404) {
			t.Fatalf("crafted key %q/%q: %v", k.PK, k.SK, err)
		}
	}
	// Crafted table names are refused before anything is stored.
	for _, name := range []string{"t\x00", "../t", "t.x", "t%2Fx", "тable"} {
		status, _, err := a.Raw(ctx, "PUT", "/v1/tables/"+url.PathEscape(name)+"/items/k/s", nil, []byte(`{"attacker":true}`))
		if err != nil || status != 400 {
			t.Errorf("table name %q: status %d %v, want 400", name, status, err)
		}
	}
	for i, k := range victim {
		it, err := b.Get(ctx, "t", k, client.Options{R: 3})
		if err != nil {
			t.Fatalf("victim key %q/%q: %v", k.PK, k.SK, err)
		}
		if got := values(it); len(got) != 1 || got[0] != fmt.Sprintf(`{"b":%d}`, i) {
			t.Fatalf("victim key %q/%q reads %v after the crafted writes", k.PK, k.SK, got)
		}
	}
	// And the attacker reads its own crafted keys back, each one distinct.
	for _, k := range crafted[:3] {
		if it, err := a.Get(ctx, "t", k, client.Options{}); err != nil || len(it.Items) != 1 {
			t.Fatalf("crafted key %q/%q read back: %v %v", k.PK, k.SK, it, err)
		}
	}
}

func TestAuthentication(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	anon := client.New(c.Gateways[0].URL, nil)
	cases := []struct {
		name   string
		cl     *client.Client
		call   func(*client.Client) error
		status int
	}{
		{"no key", anon, func(cl *client.Client) error { _, err := cl.ListTables(ctx); return err }, 401},
		{"malformed key", anon.WithAPIKey("secret"), func(cl *client.Client) error { _, err := cl.ListTables(ctx); return err }, 401},
		{"unknown key", anon.WithAPIKey(tenants.NewSecret()), func(cl *client.Client) error { _, err := cl.ListTables(ctx); return err }, 401},
		{"tenant on admin API", c.Client(0), func(cl *client.Client) error { _, err := cl.ListTenants(ctx); return err }, 403},
		{"admin on data API", c.Admin(0), func(cl *client.Client) error { _, err := cl.ListTables(ctx); return err }, 403},
		{"no key on admin API", anon, func(cl *client.Client) error { _, err := cl.ListTenants(ctx); return err }, 401},
	}
	for _, tc := range cases {
		if err := tc.call(tc.cl); !client.IsStatus(err, tc.status) {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.status)
		}
	}
}

// A revoked key is refused by every gateway within seconds, and a deleted
// tenant's data is unreachable at once and reclaimed later.
func TestRevocationAndTenantDeletion(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateways: 2, Gateway: func(cfg *gateway.Config) {
		cfg.PurgeGrace, cfg.PurgeInterval = 0, 200*time.Millisecond
	}})
	ctx := context.Background()
	id, key := c.NewTenant("victim")
	mustCreate(t, c.ClientWithKey(0, key), client.Table{Name: "t", PartitionKey: "id"})
	for i := range 10 {
		if _, err := c.ClientWithKey(1, key).Put(ctx, "t", client.Key{PK: fmt.Sprintf("k%d", i)}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	// A second key; revoke it through gateway 0, use it on gateway 1.
	nk, err := c.Admin(0).CreateKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	g1 := c.ClientWithKey(1, nk.APIKey)
	if _, err := g1.ListTables(ctx); err != nil {
		t.Fatalf("fresh key: %v", err)
	}
	if err := c.Admin(0).RevokeKey(ctx, id, nk.KeyID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	testcluster.WaitFor(t, 5*time.Second, "the revoked key to be refused by the second gateway", func() bool {
		_, err := g1.ListTables(ctx)
		return client.IsStatus(err, 401)
	})
	t.Logf("revoked key refused by the second gateway after %v", time.Since(start))
	keys, err := c.Admin(1).ListKeys(ctx, id)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	// The first key still works until the tenant is deleted.
	if _, err := c.ClientWithKey(1, key).Get(ctx, "t", client.Key{PK: "k1"}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	itemKey := c.ItemKey(id, "t", "k1", "")
	if err := c.Admin(0).DeleteTenant(ctx, id); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := c.ClientWithKey(i, key).Get(ctx, "t", client.Key{PK: "k1"}, client.Options{}); !client.IsStatus(err, 401) {
			t.Fatalf("gateway %d right after deletion: %v, want 401", i, err)
		}
	}
	// Reclaimed later: the items are gone from every replica.
	testcluster.WaitFor(t, 10*time.Second, "the deleted tenant's items to be purged", func() bool {
		for _, n := range c.NodeIDs {
			if s, err := c.ReadReplica(n, itemKey); err != nil || len(s) != 0 {
				return false
			}
		}
		return true
	})
}

func TestQuotas(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateway: func(cfg *gateway.Config) { cfg.UsageInterval = 100 * time.Millisecond }})
	ctx := context.Background()
	nk, err := c.Admin(0).CreateTenant(ctx, "small", client.Quotas{RequestsPerSecond: 5, Burst: 5, Tables: 1, StoredBytes: 20 << 10})
	if err != nil {
		t.Fatal(err)
	}
	small := c.ClientWithKey(0, nk.APIKey)
	mustCreate(t, small, client.Table{Name: "t", PartitionKey: "id"})
	_, err = small.CreateTable(ctx, client.Table{Name: "u", PartitionKey: "id"})
	var e *client.Error
	if !errorsAs(err, &e) || e.Status != 403 || e.Code != "quota_exceeded" || !strings.Contains(e.Message, "table quota") {
		t.Fatalf("second table over a quota of 1: %v", err)
	}
	if tables, _ := c.Admin(0).ListTenants(ctx); len(tables) != 2 {
		t.Fatalf("tenants: %v", tables)
	}
	// Request rate: the burst passes, then 429 with Retry-After, while the
	// other tenant is served.
	var limited *client.Error
	for i := 0; i < 20 && limited == nil; i++ {
		_, err := small.ListTables(ctx)
		errorsAs(err, &limited)
	}
	if limited == nil || limited.Status != 429 {
		t.Fatalf("20 requests at a quota of 5/s: no 429 (%v)", limited)
	}
	// The body's wait, to the millisecond: at 5/s a token comes within 200 ms.
	if limited.RetryAfter <= 0 || limited.RetryAfter > 200*time.Millisecond {
		t.Errorf("429's wait: %v, want (0, 200ms] from retry_after_ms", limited.RetryAfter)
	}
	status, _, _ := small.Raw(ctx, "GET", "/v1/tables", nil, nil)
	resp, err := http.DefaultClient.Do(mustReq(t, c.Gateways[0].URL+"/v1/tables", nk.APIKey))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status != 429 || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("rate limited answer: %d %d Retry-After=%q", status, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if _, err := c.Client(0).ListTables(ctx); err != nil {
		t.Fatalf("the other tenant while one is limited: %v", err)
	}
	// Stored bytes: once usage passes the quota, writes are refused with a
	// message naming the quota, and nothing of the refused write is stored.
	if _, err := c.Admin(0).SetQuotas(ctx, nk.Tenant.ID, client.Quotas{RequestsPerSecond: 1000, Burst: 1000}); err != nil {
		t.Fatal(err)
	}
	big := []byte(`{"v":"` + strings.Repeat("x", 8<<10) + `"}`)
	var refused error
	for i := 0; i < 50 && (refused == nil || client.IsStatus(refused, 429)); i++ {
		_, refused = small.Put(ctx, "t", client.Key{PK: fmt.Sprintf("k%d", i)}, big, client.Options{})
		time.Sleep(50 * time.Millisecond) // lets the usage poll (every 100ms) catch up
	}
	if !errorsAs(refused, &e) || e.Status != 403 || !strings.Contains(e.Message, "stored bytes quota") {
		t.Fatalf("writes past the stored bytes quota: %v", refused)
	}
	if _, err := small.Put(ctx, "t", client.Key{PK: "refused"}, []byte(`{"v":1}`), client.Options{}); !client.IsStatus(err, 403) {
		t.Fatalf("write over quota: %v", err)
	}
	if _, err := small.Get(ctx, "t", client.Key{PK: "refused"}, client.Options{R: 3}); !client.IsStatus(err, 404) {
		t.Fatalf("a refused write was stored: %v", err)
	}
}

// Between two reports of the nodes' usage, a gateway counts what it
// wrote itself: a tenant writing fast stops at its quota, not at whatever
// it wrote until the next report (here an hour away).
func TestStoredBytesQuotaBetweenReports(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateway: func(cfg *gateway.Config) { cfg.UsageInterval = time.Hour }})
	ctx := context.Background()
	nk, err := c.Admin(0).CreateTenant(ctx, "small", client.Quotas{RequestsPerSecond: 1000, Burst: 1000, Tables: 1, StoredBytes: 20 << 10})
	if err != nil {
		t.Fatal(err)
	}
	small := c.ClientWithKey(0, nk.APIKey)
	mustCreate(t, small, client.Table{Name: "t", PartitionKey: "id"})
	big := []byte(`{"v":"` + strings.Repeat("x", 8<<10) + `"}`)
	taken := 0
	var refused error
	for i := 0; i < 20 && refused == nil; i++ {
		if _, refused = small.Put(ctx, "t", client.Key{PK: fmt.Sprintf("k%d", i)}, big, client.Options{}); refused == nil {
			taken++
		}
	}
	// 8 KiB items against 20 KiB: the third passes at 16 KiB and more,
	// the fourth finds 24 KiB and more.
	var e *client.Error
	if taken != 3 || !errorsAs(refused, &e) || e.Status != 403 || !strings.Contains(e.Message, "stored bytes quota") {
		t.Fatalf("%d writes of 8 KiB taken against a quota of 20 KiB, then %v; want 3, then the quota", taken, refused)
	}
	// Deletes are not counted back before a report says what they freed.
	if _, err := small.Delete(ctx, "t", client.Key{PK: "k0"}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := small.Put(ctx, "t", client.Key{PK: "k9"}, big, client.Options{}); !client.IsStatus(err, 403) {
		t.Fatalf("write over quota after a delete, before a report: %v", err)
	}
}

// Two gateways creating one tenant name at the same moment: never both
// kept, and every request that was refused says so.
func TestTenantNameRace(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateways: 2})
	ctx := context.Background()
	const names = 20
	created, bothRefused := 0, 0
	for i := 0; i < names; i++ {
		name := fmt.Sprintf("race%d", i)
		var ids [2]string
		errs := atOnce(func(g int) error {
			nk, err := c.Admin(g).CreateTenant(ctx, name, client.Quotas{})
			if err == nil {
				ids[g] = nk.Tenant.ID
			}
			return err
		})
		ok := 0
		for g, err := range errs {
			switch {
			case err == nil:
				ok++
			case !client.IsStatus(err, 409):
				t.Fatalf("create %s: %v, want success or 409", name, err)
			case ids[1-g] != "" && !strings.Contains(err.Error(), "tenant "+ids[1-g]+" has the name"):
				t.Errorf("create %s: %v, want the tenant kept (%s) named", name, err, ids[1-g])
			}
		}
		created += ok
		if ok == 0 {
			bothRefused++
		}
		if ok > 1 {
			t.Errorf("%s: both gateways created it", name)
		}
	}
	ts, err := c.Admin(0).ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, tn := range ts {
		seen[tn.Name]++
	}
	for i := 0; i < names; i++ {
		if n := seen[fmt.Sprintf("race%d", i)]; n > 1 {
			t.Errorf("race%d: %d tenants of that name", i, n)
		}
	}
	t.Logf("%d names created by one of two gateways at once, %d refused by both (then free: created again below)", created, bothRefused)
	for i := 0; i < names; i++ {
		name := fmt.Sprintf("race%d", i)
		if seen[name] == 0 {
			if _, err := c.Admin(0).CreateTenant(ctx, name, client.Quotas{}); err != nil {
				t.Errorf("%s again after both were refused: %v", name, err)
			}
		}
	}
}

func mustReq(t *testing.T, u, key string) *http.Request {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

// With two of three replicas down the system keyspace cannot reach its
// read quorum. A gateway then trusts what it had cached (the key, the
// tenant, the table) for requests the data's own quorum still allows, so
// losing replicas does not lock tenants out; a key revoked before the
// failure stays refused, and one never seen cannot be checked.
func TestCachedAuthOutlivesLostSystemQuorum(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateway: func(cfg *gateway.Config) {
		cfg.KeyTTL, cfg.CatalogTTL = 100*time.Millisecond, 100*time.Millisecond
	}})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	if _, err := cl.Put(ctx, "t", client.Key{PK: "a"}, []byte(`{"v":1}`), client.Options{W: 3}); err != nil {
		t.Fatal(err)
	}
	nk, err := c.Admin(0).CreateKey(ctx, c.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	revoked := c.ClientWithKey(0, nk.APIKey)
	if _, err := revoked.Get(ctx, "t", client.Key{PK: "a"}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Admin(0).RevokeKey(ctx, c.TenantID, nk.KeyID); err != nil {
		t.Fatal(err)
	}
	c.Stop("n2")
	c.Stop("n3")
	time.Sleep(300 * time.Millisecond) // every cached entry is past its TTL
	it, err := cl.Get(ctx, "t", client.Key{PK: "a"}, client.Options{R: 1})
	if err != nil || len(it.Items) != 1 || string(it.Items[0].Value) != `{"v":1}` {
		t.Fatalf("R=1 read with two of three nodes down: %+v, %v", it, err)
	}
	if _, err := revoked.Get(ctx, "t", client.Key{PK: "a"}, client.Options{R: 1}); err == nil {
		t.Fatal("a key revoked before the failure was accepted")
	}
	never := c.ClientWithKey(0, tenants.NewSecret())
	if _, err := never.Get(ctx, "t", client.Key{PK: "a"}, client.Options{R: 1}); err == nil {
		t.Fatal("a key never seen was accepted")
	}
}

// A tenant's name is unique while it lives; the admin API takes IDs, and a
// name given for one is a 404 that says which tenant has that name.
func TestTenantNamesAreUnique(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	admin := c.Admin(0)
	first, err := admin.CreateTenant(ctx, "acme", client.Quotas{})
	if err != nil {
		t.Fatal(err)
	}
	id := first.Tenant.ID
	_, err = admin.CreateTenant(ctx, "acme", client.Quotas{})
	if !client.IsStatus(err, 409) || !strings.Contains(err.Error(), "tenant_exists") || !strings.Contains(err.Error(), "tenant "+id+` has the name "acme"`) {
		t.Fatalf("second tenant named acme: %v, want 409 tenant_exists naming %s", err, id)
	}
	_, err = admin.SetQuotas(ctx, "acme", client.Quotas{RequestsPerSecond: 5})
	if !client.IsStatus(err, 404) || !strings.Contains(err.Error(), `"acme" is the name of tenant `+id+"; the admin API takes tenant IDs") {
		t.Fatalf("quotas of a name: %v, want a 404 that names tenant %s", err, id)
	}
	_, err = admin.SetQuotas(ctx, "nobody", client.Quotas{RequestsPerSecond: 5})
	if !client.IsStatus(err, 404) || strings.Contains(err.Error(), "is the name of") {
		t.Fatalf("quotas of an unknown ID: %v, want a plain 404", err)
	}
	// A key of a tenant that does not exist: the tenant is what is missing.
	for tenant, want := range map[string]string{
		"nobody": `tenant "nobody": not found`,
		id:       `key "k1" of tenant "` + id + `": not found`,
	} {
		if err := admin.RevokeKey(ctx, tenant, "k1"); !client.IsStatus(err, 404) || !strings.Contains(err.Error(), want) {
			t.Errorf("revoke key k1 of %s: %v, want 404 with %s", tenant, err, want)
		}
	}
	// A repair names the tenant in its query, and says the same.
	for tenant, want := range map[string]string{
		"acme":   `tenant \"acme\": not found (\"acme\" is the name of tenant ` + id,
		"nobody": `tenant \"nobody\": not found"`,
		id:       `table \"t\": not found`,
	} {
		status, body, err := admin.Raw(ctx, "POST", "/v1/admin/repair?tenant="+tenant+"&table=t", nil, nil)
		if err != nil || status != 404 || !strings.Contains(string(body), want) {
			t.Errorf("repair of tenant %s: %d %s %v, want 404 with %s", tenant, status, body, err, want)
		}
	}
	if err := admin.DeleteTenant(ctx, id); err != nil {
		t.Fatal(err)
	}
	again, err := admin.CreateTenant(ctx, "acme", client.Quotas{})
	if err != nil || again.Tenant.ID == id {
		t.Fatalf("acme after the first was deleted: %+v, %v; want a new tenant", again, err)
	}
}
