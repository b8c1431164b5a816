package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/internal/testcluster"
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
		{"POST", "/v1/admin/nodes/n2/leave", 503, "unavailable", "node n2: unavailable: a member"},
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
