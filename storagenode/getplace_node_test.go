package storagenode_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/storagenode"
)

// Gets are answered on a node's subscription while they are fast and by
// its read workers once many of them are slow; either way every get
// returns the item. With SlowGet at 1ns every inline get is slow, so each
// node soon sends its gets to the workers, trying one in 64 inline; with
// SlowGet at a second none is.
func TestSlowGetsGoToTheWorkers(t *testing.T) {
	var regs nodeRegistries
	c := testcluster.New(t, testcluster.Options{Node: func(cfg *storagenode.Config) {
		cfg.SlowGet = time.Second
		if cfg.ID == "n1" {
			cfg.SlowGet = 1 // every inline get is slow
		}
		regs.register(cfg)
	}})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	const items, rounds = 20, 10
	for i := range items {
		if _, err := cl.Put(ctx, "t", client.Key{PK: fmt.Sprint(i)}, []byte(fmt.Sprintf(`{"v":%d}`, i)), client.Options{W: 3}); err != nil {
			t.Fatal(err)
		}
	}
	for r := range rounds {
		for i := range items {
			// R=3: every replica's answer is awaited, so each node has
			// served the get before the next one is sent.
			it, err := cl.Get(ctx, "t", client.Key{PK: fmt.Sprint(i)}, client.Options{R: 3})
			if err != nil {
				t.Fatalf("round %d, item %d: %v", r, i, err)
			}
			if want := fmt.Sprintf(`{"v":%d}`, i); len(it.Items) != 1 || string(it.Items[0].Value) != want {
				t.Fatalf("round %d, item %d: %v, want one version %s", r, i, it.Items, want)
			}
		}
	}
	// Every node holds every item (N=3 of 3) and was asked every get (and
	// a few more, of the table's definition). All of n1's inline gets
	// were slow, so its two counters add up to its gets.
	deferred := metricValue(t, regs.of("n1"), "ringtable_node_deferred_gets_total")
	total := deferred + metricValue(t, regs.of("n1"), "ringtable_node_slow_inline_gets_total")
	if total < items*rounds || deferred < total*3/4 {
		t.Fatalf("n1 (every get slow): %v of %v gets sent to the workers, want most", deferred, total)
	}
	for _, id := range []string{"n2", "n3"} {
		served := getsServed(t, regs.of(id))
		if d := metricValue(t, regs.of(id), "ringtable_node_deferred_gets_total"); d != 0 || served < items*rounds {
			t.Errorf("%s (no get slow): %v of %v gets sent to the workers, want none of at least %d", id, d, served, items*rounds)
		}
	}
}

// getsServed counts the gets a node answered, whatever their result.
func getsServed(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "ringtable_node_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == "get" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
