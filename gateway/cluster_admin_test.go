package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/storagenode"
	"github.com/ringtable/ringtable/tenants"
)

// An admin request for one node tells a node ID that nothing answers to
// (404, with the members) from a member that is down (503), instead of an
// internal error.
func TestAdminRequestForANodeThatDoesNotAnswer(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	admin := c.Admin(0)
	c.Stop("n2")
	for _, tc := range []struct {
		method, path string
		status       int
		code, msg    string
	}{
		{"GET", "/v1/admin/status?node=n1", 200, "", ""},
		{"GET", "/v1/admin/status?node=n9", 404, "not_found", "node n9: not found: no node of that ID answers (members: n1, n2, n3)"},
		{"POST", "/v1/admin/nodes/n9/join", 404, "not_found", "node n9: not found: no node of that ID answers"},
		{"GET", "/v1/admin/status?node=n2", 503, "unavailable", "node n2: unavailable: a member (active) that does not answer; it is down or cut off"},
		{"POST", "/v1/admin/nodes/n2/leave?force=true", 503, "unavailable", "node n2: unavailable: a member"},
	} {
		status, body, err := admin.Raw(ctx, tc.method, tc.path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != tc.status {
			t.Errorf("%s %s: status %d, want %d (body %s)", tc.method, tc.path, status, tc.status, body)
			continue
		}
		if tc.code == "" {
			continue
		}
		var eb struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, tc.msg) {
			t.Errorf("%s %s: body %s, want code %q and a message containing %q", tc.method, tc.path, body, tc.code, tc.msg)
		}
	}
}

// Limits set through the admin API reach every node, which reports them in
// its status; the answer names the nodes that took each, and bad requests
// name the field at fault.
func TestAdminLimitsReachEveryNode(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	admin := c.Admin(0)
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"hints_per_sec":50,"aae_keys_per_sec":7}`, 200, `{"applied":{"aae_keys_per_sec":["n1","n2","n3"],"hints_per_sec":["n1","n2","n3"]}}`},
		{`{"transfer_bytes_per_sec":-5}`, 400, "transfer_bytes_per_sec=-5: must be positive"},
		{`{}`, 400, "no limit given"},
		{`{"hints":5}`, 400, `unknown field \"hints\" (the fields are transfer_bytes_per_sec, hints_per_sec, aae_keys_per_sec)`},
	} {
		status, body, err := admin.Raw(ctx, "PUT", "/v1/admin/limits", nil, []byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("PUT limits %s: %d %s, want %d and %q", tc.body, status, body, tc.status, tc.want)
		}
	}
	status, body, err := admin.Raw(ctx, "GET", "/v1/admin/nodes", nil, nil)
	if err != nil || status != 200 {
		t.Fatalf("nodes: %d %s %v", status, body, err)
	}
	var nodes map[string]struct {
		Limits struct {
			HintsPerSec   float64 `json:"hints_per_sec"`
			AAEKeysPerSec float64 `json:"aae_keys_per_sec"`
		} `json:"limits"`
	}
	if err := json.Unmarshal(body, &nodes); err != nil {
		t.Fatalf("nodes: %v in %s", err, body)
	}
	if len(nodes) != 3 {
		t.Fatalf("nodes: %s", body)
	}
	for id, n := range nodes {
		if n.Limits.HintsPerSec != 50 || n.Limits.AAEKeysPerSec != 7 {
			t.Errorf("node %s reports limits %+v, want hints 50 and aae 7 a second", id, n.Limits)
		}
	}
}

// A leave that would leave fewer nodes than a key's replicas is refused
// (a quorum of three would then be met by two nodes), unless forced; with
// a node added first it goes ahead.
func TestLeaveKeepsNNodes(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	admin := c.Admin(0)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/v1/admin/nodes/n3/leave", 409, `"code":"too_few_nodes","message":"too few nodes: without n3 the ring would have 2 node(s), fewer than the 3 replicas each key should have`},
		{"/v1/admin/nodes/n3/leave?force=maybe", 400, `force=\"maybe\": must be true or false`},
		{"/v1/admin/nodes/n3/join?forse=true", 400, `unknown query parameter \"forse\"`},
	} {
		status, body, err := admin.Raw(ctx, "POST", tc.path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("POST %s: %d %s, want %d and %s", tc.path, status, body, tc.status, tc.want)
		}
	}
	if st := c.Gateways[0].GW.Members(); st.Members["n3"].Status != membership.Active {
		t.Fatalf("n3 is %s after a refused leave", st.Members["n3"].Status)
	}
	c.AddNode("n4", "n1")
	testcluster.WaitFor(t, 30*time.Second, "n4 to join", func() bool {
		st := c.Gateways[0].GW.Members()
		return !st.Transitioning() && st.Members["n4"].Status == membership.Active
	})
	status, body, err := admin.Raw(ctx, "POST", "/v1/admin/nodes/n3/leave", nil, nil)
	if err != nil || status != 200 {
		t.Fatalf("leave of n3 with four nodes: %d %s %v", status, body, err)
	}
}

// A joining node is reached by what an operator asks of every node (its
// transfers in the nodes' status, limits) and by purges, though the
// serving ring does not list it yet: a table dropped while the node pulls
// its partitions leaves no item there once the join is done.
func TestAdminReachesAJoiningNode(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{
		Gateway: func(cfg *gateway.Config) { cfg.PurgeGrace, cfg.PurgeInterval = 0, 200*time.Millisecond },
		Node: func(cfg *storagenode.Config) {
			if cfg.ID == "n4" {
				// The first 8 MiB pass at once (a page is never held
				// back longer than its size at this rate); the rest of
				// some 20 MiB keeps n4 joining for a minute.
				cfg.TransferRate = 256 << 10
			}
		},
	})
	ctx := context.Background()
	cl, admin := c.Client(0), c.Admin(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	value := []byte(`{"v":"` + strings.Repeat("x", 64000) + `"}`)
	for i := range 150 {
		if _, err := cl.Put(ctx, "t", client.Key{PK: fmt.Sprint(i)}, value, client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	items := func(id string) int {
		n, err := c.Node(id).Engine().Count([]byte{byte(tenants.KindData)})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	status := func() membership.Status { return c.Gateways[0].GW.Members().Members["n4"].Status }
	c.AddNode("n4", "n1")
	testcluster.WaitFor(t, 30*time.Second, "n4 to pull items", func() bool { return items("n4") > 0 })
	if s := status(); s != membership.Joining {
		t.Fatalf("n4 is %v, want joining (the test's transfers are too fast)", s)
	}

	var nodes map[string]struct {
		Transfers []json.RawMessage `json:"transfers"`
	}
	if err := admin.AdminCall(ctx, "GET", "/v1/admin/nodes", nil, &nodes); err != nil {
		t.Fatal(err)
	}
	if len(nodes["n4"].Transfers) == 0 {
		t.Errorf("the nodes' status lacks joining n4's transfers (nodes: %v)", slices.Sorted(maps.Keys(nodes)))
	}

	if err := cl.DropTable(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	var applied struct {
		Applied map[string][]string `json:"applied"`
	}
	if err := admin.AdminCall(ctx, "PUT", "/v1/admin/limits", map[string]any{"transfer_bytes_per_sec": 64 << 20}, &applied); err != nil {
		t.Fatal(err)
	}
	if got := applied.Applied["transfer_bytes_per_sec"]; !slices.Equal(got, []string{"n1", "n2", "n3", "n4"}) {
		t.Fatalf("transfer limit applied on %v, want n1 to n4", got)
	}
	testcluster.WaitFor(t, 60*time.Second, "n4 to join", func() bool { return status() == membership.Active })
	testcluster.WaitFor(t, 10*time.Second, "the dropped table's items purged everywhere", func() bool {
		for _, id := range c.NodeIDs {
			if items(id) != 0 {
				return false
			}
		}
		return true
	})
}
