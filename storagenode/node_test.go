package storagenode_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// Riak's kv679: a node that lost its disk must not reuse its old clock
// actor, or its fresh counters collide with dots other replicas still hold
// and a new write is dropped as already seen. A node restarted with an
// empty directory takes a new incarnation, and writes it stamps survive.
func TestLostDiskGetsNewIncarnation(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	// A key that n1 stamps: it heads the preference list.
	pk := ""
	for i := 0; pk == ""; i++ {
		cand := fmt.Sprintf("k%d", i)
		if c.Replicas(c.ItemKey(c.TenantID, "t", cand, ""), 3)[0] == "n1" {
			pk = cand
		}
	}
	k := client.Key{PK: pk}
	// Several versions stamped by n1's first incarnation.
	tok := ""
	for i := range 5 {
		var err error
		if tok, err = cl.Put(ctx, "t", k, []byte(fmt.Sprintf(`{"old":%d}`, i)), client.Options{Context: tok, W: 3}); err != nil {
			t.Fatal(err)
		}
	}
	oldActor := c.Node("n1").Actor()
	c.Stop("n1")
	c.Wipe("n1")
	c.Start("n1")
	if newActor := c.Node("n1").Actor(); newActor == oldActor {
		t.Fatalf("n1 restarted with an empty directory kept actor %s", oldActor)
	}
	// A blind write stamped by the new incarnation (its counters restart)
	// must be kept next to the old version, not dropped as dominated.
	if _, err := cl.Put(ctx, "t", k, []byte(`{"new":1}`), client.Options{}); err != nil {
		t.Fatal(err)
	}
	it, err := cl.Get(ctx, "t", k, client.Options{R: 3})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range it.Items {
		found = found || string(v.Value) == `{"new":1}`
	}
	if !found || len(it.Items) != 2 {
		t.Fatalf("after the write through the new incarnation: %d versions %v, want the old one and {\"new\":1}", len(it.Items), it.Items)
	}
}

// A node keeps its incarnation (and its data) across a clean restart.
func TestRestartKeepsIncarnation(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Nodes: 1})
	before := c.Node("n1").Actor()
	c.Stop("n1")
	c.Start("n1")
	if after := c.Node("n1").Actor(); after != before {
		t.Fatalf("actor changed across a restart: %s → %s", before, after)
	}
}
