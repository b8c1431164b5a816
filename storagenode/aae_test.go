package storagenode_test

import (
	"context"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/clock"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/storagenode"
)

// An item deleted while a replica is cut off is not resurrected when it
// comes back: anti-entropy hands it the tombstone. Once every replica
// holds the tombstone and the grace period has passed, anti-entropy
// removes it from every replica.
func TestDeleteDuringPartitionStaysDeleted(t *testing.T) {
	// The nodes' clock is a fake one, so the test can pass the grace
	// period (the default 10 days) without waiting.
	clk := clock.NewFake(time.Now())
	c := testcluster.New(t, testcluster.Options{Node: func(cfg *storagenode.Config) { cfg.Clock = clk }})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	k := client.Key{PK: "doomed"}
	if _, err := cl.Put(ctx, "t", k, []byte(`{"v":1}`), client.Options{W: 3}); err != nil {
		t.Fatal(err)
	}
	it, err := cl.Get(ctx, "t", k, client.Options{R: 3})
	if err != nil {
		t.Fatal(err)
	}
	key := c.ItemKey(c.TenantID, "t", "doomed", "")
	c.Stop("n3") // cut off
	if _, err := cl.Delete(ctx, "t", k, client.Options{Context: it.Context}); err != nil {
		t.Fatal(err)
	}
	c.Start("n3") // healed: n3 still holds the live version
	if s, _ := c.ReadReplica("n3", key); len(s) != 1 || s[0].Deleted {
		t.Fatalf("n3 before anti-entropy: %v", s)
	}
	for _, id := range c.NodeIDs {
		if err := c.Node(id).Repair(ctx); err != nil {
			t.Fatalf("repair on %s: %v", id, err)
		}
	}
	for _, id := range c.NodeIDs {
		s, err := c.ReadReplica(id, key)
		if err != nil || len(s) != 1 || !s[0].Deleted {
			t.Fatalf("%s after anti-entropy holds %v (%v), want the tombstone", id, s, err)
		}
	}
	if _, err := cl.Get(ctx, "t", k, client.Options{R: 3}); !client.IsStatus(err, 404) {
		t.Fatalf("deleted item after healing: %v, want 404", err)
	}
	clk.Advance(10*24*time.Hour + time.Minute)
	for _, id := range c.NodeIDs {
		if err := c.Node(id).Repair(ctx); err != nil {
			t.Fatalf("repair on %s: %v", id, err)
		}
	}
	for _, id := range c.NodeIDs {
		if s, err := c.ReadReplica(id, key); err != nil || len(s) != 0 {
			t.Fatalf("%s still holds %v (%v) after the grace period", id, s, err)
		}
	}
	st := c.Node("n1").Status().AAE
	t.Logf("tombstone removed from every replica; last run on n1: %d partitions, %d keys repaired, %d tombstones removed", st.Done, st.Repaired, st.Removed)
}
