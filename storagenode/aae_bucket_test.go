package storagenode_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/storagenode"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// A peer answers the items of the differing leaves of a partition a reply
// at a time, each bounded in bytes: a replica that lacks a whole
// partition's items (a node back from a long outage) would otherwise ask
// for a reply larger than a message may be, and never be repaired. With
// replies of 4 KiB, 40 items of 1 KiB in one partition, held by the peer
// only, reach the replica that repairs in one run.
func TestAntiEntropyRepliesAreBounded(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Nodes: 2, Node: func(cfg *storagenode.Config) { cfg.ScanReplyBytes = 4 << 10 }})
	r := c.Gateways[0].GW.Ring()
	value := []byte(`{"v":"` + strings.Repeat("x", 1024) + `"}`)
	var keys []tenants.Key
	for i := 0; len(keys) < 40; i++ {
		pk := fmt.Sprintf("key%d", i)
		if p := r.PartitionOf(ring.KeyHash("tenant", "table", pk)); p == 7 {
			keys = append(keys, tenants.Key{Kind: tenants.KindData, Partition: uint32(p), Tenant: "tenant", Table: "table", PK: pk})
		}
	}
	e := c.Node("n2").Engine()
	for i, k := range keys {
		s := vclock.Set{{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "w~1", Counter: uint64(i + 1)}}, Value: value, Modified: 1}}
		if _, err := e.Apply(k.Encode(), func(_ *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) { return cur.Sync(s), true, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Node("n1").Repair(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := c.Node("n1").Status().AAE; st.Repaired != int64(len(keys)) {
		t.Errorf("repaired %d keys, want %d (last error %q)", st.Repaired, len(keys), st.LastError)
	}
	for _, k := range keys {
		if s, err := c.ReadReplica("n1", k); err != nil || len(s) != 1 {
			t.Fatalf("n1 holds %v for %s after the repair (%v)", s, k.PK, err)
		}
	}
	t1, _ := c.Node("n1").Engine().Tree(7)
	t2, _ := c.Node("n2").Engine().Tree(7)
	if t1.Root() != t2.Root() {
		t.Fatal("partition 7: trees still differ")
	}
}
