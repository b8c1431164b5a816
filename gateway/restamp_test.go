package gateway_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// A write whose stamper is silent for a round timeout is stamped again by
// the next replica, with the same request ID, and the answer carries that
// second stamp's context. Here the silent stamper is n3, whose proxy holds
// what the bus sends it: once released it stamps the write too and
// forwards that stamp, so every replica holds the write twice. The next
// write from the answer's context must supersede both stamps, not leave
// the first one beside it as a sibling.
func TestNextWriteSupersedesBothStampsOfARetriedWrite(t *testing.T) {
	c, proxy, _ := clusterWithN3Proxied(t, func(cfg *gateway.Config) {
		cfg.RoundTimeout = 300 * time.Millisecond
	})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	var pk string
	for i := 0; pk == ""; i++ {
		if k := fmt.Sprintf("k%d", i); c.Replicas(c.ItemKey(c.TenantID, "t", k, ""), 3)[0] == "n3" {
			pk = k
		}
	}
	key := c.ItemKey(c.TenantID, "t", pk, "")
	versions := func(node string) int {
		s, err := c.ReadReplica(node, key)
		if err != nil {
			t.Fatalf("read of %s's replica: %v", node, err)
		}
		return len(s)
	}

	release := proxy.Hold()
	first, err := cl.PutItem(ctx, "t", client.Key{PK: pk}, fmt.Appendf(nil, `{"id":%q,"v":1}`, pk), client.Options{})
	release()
	if err != nil {
		t.Fatalf("write with its stamper silent: %v", err)
	}
	if first.Siblings != 1 {
		t.Fatalf("the retried write's answer counts %d versions, want 1", first.Siblings)
	}
	testcluster.WaitFor(t, 10*time.Second, "both stamps of the write on every replica", func() bool {
		return versions("n1") == 2 && versions("n2") == 2 && versions("n3") == 2
	})
	it, err := cl.Get(ctx, "t", client.Key{PK: pk}, client.Options{R: 3})
	if err != nil || len(it.Items) != 1 {
		t.Fatalf("read of the twice-stamped write: %+v, %v; want it once", it, err)
	}

	next, err := cl.PutItem(ctx, "t", client.Key{PK: pk}, fmt.Appendf(nil, `{"id":%q,"v":2}`, pk), client.Options{Context: first.Context})
	if err != nil {
		t.Fatalf("next write from the answer's context: %v", err)
	}
	if next.Siblings != 1 {
		t.Errorf("the next write's answer counts %d versions, want 1", next.Siblings)
	}
	testcluster.WaitFor(t, 10*time.Second, "one version on every replica", func() bool {
		return versions("n1") == 1 && versions("n2") == 1 && versions("n3") == 1
	})
	it, err = cl.Get(ctx, "t", client.Key{PK: pk}, client.Options{R: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"id":%q,"v":2}`, pk); len(it.Items) != 1 || string(it.Items[0].Value) != want {
		t.Fatalf("read after the next write: %+v, want only %s", it.Items, want)
	}
}
