//go:build !race

// Tests too heavy for the race detector (it slows the copying of tens of
// MiB by an order of magnitude). CI runs them in a second, race-free pass:
// go test -run NoRace ./...

package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/vclock"
)

// A key at the default sibling maximum (100) whose siblings are all
// maximum-size items (400 KiB) stays readable over NATS through a gateway.
func TestNoRaceMaximalSiblingSetStaysReadable(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 40 MiB sets between replicas")
	}
	// Moving a 40 MiB set takes 0.4-0.7 s per replica on a 2-core machine
	// (the copies through Badger, the codec and NATS), so three replicas
	// answering at once can overrun the default 1 s round: this test is
	// about the message size limit, so it gives the round 5 s.
	c := testcluster.New(t, testcluster.Options{RoundTimeout: 5 * time.Second})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "big", PartitionKey: "id"})
	key := c.ItemKey(c.TenantID, "big", "k", "")
	item := []byte(`{"v":"` + strings.Repeat("x", 400<<10-len(`{"v":""}`)) + `"}`)
	var set vclock.Set
	for i := range 100 {
		// 100 concurrent versions, each from its own actor.
		v := vclock.Version{Clock: vclock.Clock{Dot: vclock.Dot{Actor: vclock.Actor(fmt.Sprintf("w%03d~x", i)), Counter: 1}}, Value: item, Modified: int64(i)}
		set = set.Sync(vclock.Set{v})
	}
	start := time.Now()
	for _, n := range c.Replicas(key, 3) {
		t.Logf("storing on %s at %v", n, time.Since(start))
		if err := c.Replicate(n, key, set); err != nil {
			t.Fatalf("storing the set on %s: %v", n, err)
		}
	}
	t.Logf("stored at %v", time.Since(start))
	for _, n := range c.Replicas(key, 3) {
		t0 := time.Now()
		_, err := c.ReadReplica(n, key)
		t.Logf("direct read of %s: %v (%v)", n, time.Since(t0), err)
	}
	it, err := cl.Get(ctx, "big", client.Key{PK: "k"}, client.Options{})
	t.Logf("read at %v", time.Since(start))
	if err != nil {
		t.Fatalf("reading a maximal sibling set: %v", err)
	}
	if len(it.Items) != 100 || len(it.Items[99].Value) != len(item) {
		t.Fatalf("read %d siblings, want 100 of %d bytes", len(it.Items), len(item))
	}
}

// A coordinated PUT and GET, counted over the whole in-process cluster
// (gateway, three nodes, the NATS server, the client), stay within a
// tenth of the allocations the README reports. The margin is what a
// loaded machine's smaller commit batches add (469 against 457-463 a PUT
// with both cores busy elsewhere); a regression of a tenth fails, as
// JSON-encoding every replica's reply did for GETs (212 against 184).
// The race detector allocates on its own, so this runs in the race-free
// pass.
func TestNoRaceAllocationsPerRound(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bench func(*testing.B)
		max   int64 // docs/performance.md's figure plus a tenth
	}{
		{"put", BenchmarkPut, 475},
		{"get", BenchmarkGet, 175},
	} {
		r := testing.Benchmark(tc.bench)
		if r.N == 0 {
			t.Fatalf("%s: the benchmark failed", tc.name)
		}
		t.Logf("%s: %d allocations, %d B a round over %d rounds", tc.name, r.AllocsPerOp(), r.AllocedBytesPerOp(), r.N)
		if got := r.AllocsPerOp(); got > tc.max {
			t.Errorf("%s: %d allocations a round, want at most %d", tc.name, got, tc.max)
		}
	}
}
