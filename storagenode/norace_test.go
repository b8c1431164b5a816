//go:build !race

// Tests too heavy for the race detector; CI runs them in a race-free pass
// (go test -run NoRace ./...).

package storagenode_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// Two replicas that hold the same 100,000 items (1 KiB each) diverge by
// 50 items written to one store only; one anti-entropy run makes them
// hold the same versions while exchanging under 2% of the data set.
func TestNoRaceAntiEntropyExchangesOnlyDifferences(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Nodes: 2})
	r := c.Gateways[0].GW.Ring()
	value := []byte(`{"v":"` + strings.Repeat("x", 1024-8) + `"}`)
	const total, extra = 100000, 50
	key := func(i int) tenants.Key {
		pk := fmt.Sprintf("key%06d", i)
		return tenants.Key{Kind: tenants.KindData, Partition: uint32(r.PartitionOf(ring.KeyHash("tenant", "table", pk))), Tenant: "tenant", Table: "table", PK: pk}
	}
	set := func(i int) vclock.Set {
		return vclock.Set{{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "w~1", Counter: uint64(i + 1)}}, Value: value, Modified: 1}}
	}
	write := func(node string, from, to int) {
		e := c.Node(node).Engine()
		var wg sync.WaitGroup
		errs := make(chan error, to-from)
		for i := from; i < to; i++ {
			wg.Add(1)
			s := set(i)
			e.Submit(engine.Update{Key: key(i).Encode(), Fn: func(_ *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) { return cur.Sync(s), true, nil },
				Done: func(_ engine.Result, err error) { errs <- err; wg.Done() }})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	write("n1", 0, total+extra)
	write("n2", 0, total)
	dataBytes := int64(total) * int64(len(value))
	if err := c.Node("n1").Repair(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := c.Node("n1").Status().AAE
	t.Logf("anti-entropy: %d keys repaired, %d bytes exchanged for a data set of %d bytes (%.3f%%)",
		st.Repaired, st.Bytes, dataBytes, 100*float64(st.Bytes)/float64(dataBytes))
	if st.Repaired != extra {
		t.Errorf("repaired %d keys, want %d", st.Repaired, extra)
	}
	if float64(st.Bytes) > 0.02*float64(dataBytes) {
		t.Errorf("exchanged %d bytes, more than 2%% of %d", st.Bytes, dataBytes)
	}
	for i := total; i < total+extra; i++ {
		s, err := c.ReadReplica("n2", key(i))
		if err != nil || len(s) != 1 || s[0].Clock.Dot != set(i)[0].Clock.Dot {
			t.Fatalf("n2 after anti-entropy holds %v for key %d (%v)", s, i, err)
		}
	}
	for p := range r.Q() {
		t1, _ := c.Node("n1").Engine().Tree(uint32(p))
		t2, _ := c.Node("n2").Engine().Tree(uint32(p))
		if t1.Root() != t2.Root() {
			t.Fatalf("partition %d: trees still differ", p)
		}
	}
}
