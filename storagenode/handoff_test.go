package storagenode_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// keysWith returns n partition keys of table whose preference list (first
// 3) contains node, and their storage keys.
func keysWith(c *testcluster.Cluster, table, node string, n int) ([]string, []tenants.Key) {
	var pks []string
	var keys []tenants.Key
	for i := 0; len(pks) < n; i++ {
		pk := fmt.Sprintf("k%05d", i)
		k := c.ItemKey(c.TenantID, table, pk, "")
		for _, r := range c.Replicas(k, 3) {
			if r == node {
				pks, keys = append(pks, pk), append(keys, k)
				break
			}
		}
	}
	return pks, keys
}

func hintsPending(c *testcluster.Cluster) int {
	total := 0
	for _, id := range c.NodeIDs {
		if n := c.Node(id); n != nil {
			for _, v := range n.Status().Hints {
				total += v
			}
		}
	}
	return total
}

// Reference: Dynamo §4.6 (hinted handoff). With a replica stopped, writes
// land on a fallback as hints; the hints survive the fallback's restart
// and are delivered when the replica is back, and none is left after.
func TestHintedHandoff(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Nodes: 5})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	pks, keys := keysWith(c, "t", "n3", 1000)
	c.Stop("n3")
	for _, pk := range pks {
		if _, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(`{"pk":"`+pk+`"}`), client.Options{W: 2}); err != nil {
			t.Fatalf("write %s with n3 stopped: %v", pk, err)
		}
	}
	testcluster.WaitFor(t, 5*time.Second, "a hint for every write that missed n3", func() bool { return hintsPending(c) >= len(pks) })
	pending := hintsPending(c)
	// Restart every fallback holding hints before n3 is back: the hints
	// are on disk and survive.
	for _, id := range []string{"n1", "n2", "n4", "n5"} {
		if len(c.Node(id).Status().Hints) > 0 {
			c.Stop(id)
			c.Start(id)
		}
	}
	if after := hintsPending(c); after != pending {
		testcluster.WaitFor(t, 5*time.Second, "the hint scan after restarts", func() bool { return hintsPending(c) == pending })
	}
	t.Logf("%d hints held by fallbacks for n3 (survived their restart)", pending)
	start := time.Now()
	c.Start("n3")
	testcluster.WaitFor(t, 30*time.Second, "every hint to be delivered", func() bool { return hintsPending(c) == 0 })
	t.Logf("hints delivered %v after n3 came back", time.Since(start).Round(time.Millisecond))
	for i, k := range keys {
		s, err := c.ReadReplica("n3", k)
		if err != nil || len(s) != 1 || string(s[0].Value) != `{"pk":"`+pks[i]+`"}` {
			t.Fatalf("n3 holds %v for %s after handoff (%v)", s, pks[i], err)
		}
	}
}

// With every node of a key's preference list stopped and two others up, a
// W=2 write still succeeds (sloppy quorum) and is readable from the owners
// once they are back; in strict mode it is refused with a clear error.
func TestSloppyQuorumAndStrictMode(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Nodes: 5})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	key := c.ItemKey(c.TenantID, "t", "alice", "")
	owners := c.Replicas(key, 3)
	for _, o := range owners {
		c.Stop(o)
	}
	strict := true
	_, err := cl.Put(ctx, "t", client.Key{PK: "alice"}, []byte(`{"v":1}`), client.Options{W: 2, Strict: &strict})
	var e *client.Error
	if !errorsAs(err, &e) || e.Status != 503 || e.Code != "quorum_not_met" {
		t.Fatalf("strict write with every owner down: %v, want 503 quorum_not_met", err)
	}
	t.Logf("strict: %v", err)
	if _, err := cl.Put(ctx, "t", client.Key{PK: "alice"}, []byte(`{"v":2}`), client.Options{W: 2}); err != nil {
		t.Fatalf("sloppy write with every owner down: %v", err)
	}
	// Readable meanwhile from the fallbacks, and from the owners once back.
	if it, err := cl.Get(ctx, "t", client.Key{PK: "alice"}, client.Options{R: 2}); err != nil || string(it.Items[0].Value) != `{"v":2}` {
		t.Fatalf("read from fallbacks: %v %v", it, err)
	}
	// The pending count is as of each fallback's last hint scan: wait for
	// the scans to show both hints, or "none pending" below could be a
	// scan that had not yet run.
	testcluster.WaitFor(t, 5*time.Second, "a hint on each fallback", func() bool { return hintsPending(c) >= 2 })
	for _, o := range owners {
		c.Start(o)
	}
	// Fallbacks stood in for two of the three owners (two fallbacks
	// exist): those get the write by hinted handoff, the third by the read
	// repair of the strict read below.
	testcluster.WaitFor(t, 30*time.Second, "the hints to be delivered", func() bool { return hintsPending(c) == 0 })
	got := 0
	for _, o := range owners {
		if s, err := c.ReadReplica(o, key); err == nil && len(s) == 1 && string(s[0].Value) == `{"v":2}` {
			got++
		}
	}
	if got < 2 {
		t.Fatalf("%d owners hold the hinted write after handoff, want 2", got)
	}
	it, err := cl.Get(ctx, "t", client.Key{PK: "alice"}, client.Options{R: 3, Strict: &strict})
	if err != nil || len(it.Items) != 1 || string(it.Items[0].Value) != `{"v":2}` {
		t.Fatalf("strict read from the owners: %v %v", it, err)
	}
	testcluster.WaitFor(t, 5*time.Second, "read repair of the third owner", func() bool {
		for _, o := range owners {
			if s, err := c.ReadReplica(o, key); err != nil || len(s) != 1 {
				return false
			}
		}
		return true
	})
}

// A hint of the cluster's own item (a catalog entry, a key, a purge) is
// delivered into the owner's system keyspace, where reads look for it,
// not among tenants' items.
func TestSystemItemHintIsDeliveredAsSystem(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	k := tenants.Key{Kind: tenants.KindSystem, Partition: 3, Tenant: "sys", Table: "probe", PK: "a"}
	set := vclock.Set{{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n9~1", Counter: 1}}, Value: []byte(`{"v":1}`)}}
	if err := c.Hint("n1", "n3", k, set); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, 10*time.Second, "the hint delivered", func() bool { return hintsPending(c) == 0 })
	testcluster.WaitFor(t, 10*time.Second, "n3 to hold the system item", func() bool {
		s, err := c.ReadReplica("n3", k)
		return err == nil && len(s) == 1
	})
	asData := k
	asData.Kind = tenants.KindData
	if s, err := c.ReadReplica("n3", asData); err != nil || len(s) != 0 {
		t.Errorf("n3 holds the system item among data items: %v, %v", s, err)
	}
}
