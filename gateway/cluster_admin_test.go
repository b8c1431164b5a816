package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/membership"
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
