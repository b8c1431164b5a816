package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// A round's reply subject is reused by a later round once the round has
// ended, so a reply that comes after its round can reach a round it does
// not belong to; the round number the reply echoes keeps it out. n3 hears
// the bus late here (its proxy holds what the bus sends it): a read of "a"
// ends without n3's answer, a read of "b" that needs all three replicas
// takes the same subject, and n3 then answers both. Taken for n3's answer
// about "b", the set of "a" would be one of the read's siblings, and be
// repaired into "b"'s replicas.
func TestLateReplyKeptOutOfLaterRound(t *testing.T) {
	c, proxy, gather := clusterWithN3Proxied(t, func(cfg *gateway.Config) {
		cfg.ReadRepairEvery = 1 // every get asks all three replicas, n3 included
	})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	value := map[string]string{"a": `{"id":"a","v":"of a"}`, "b": `{"id":"b","v":"of b"}`}
	// b first: a's version is then either concurrent with b's or, stamped
	// by the same node, later, so that a's set, taken for b's, would show.
	for _, k := range []string{"b", "a"} {
		if _, err := cl.Put(ctx, "t", client.Key{PK: k}, []byte(value[k]), client.Options{W: 3}); err != nil {
			t.Fatal(err)
		}
	}
	only := func(what, k string, it *client.Item, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(it.Items) != 1 || string(it.Items[0].Value) != value[k] {
			var got []string
			for _, v := range it.Items {
				got = append(got, string(v.Value))
			}
			t.Fatalf("%s: got %q, want only %s", what, got, value[k])
		}
	}
	metric := func(name string) float64 { return testcluster.MetricValue(t, gather, name) }
	open := func(n float64) func() bool {
		return func() bool { return metric("ringtable_gateway_rounds_open") == n }
	}

	release := proxy.Hold()
	defer release()
	it, err := cl.Get(ctx, "t", client.Key{PK: "a"}, client.Options{})
	only("read of a without n3", "a", it, err)
	// The round goes on waiting for n3 in the background until its
	// timeout (1 s) ends it and frees its subject.
	testcluster.WaitFor(t, 10*time.Second, "the read of a to end", open(0))

	type result struct {
		it  *client.Item
		err error
	}
	done := make(chan result, 1)
	go func() {
		it, err := cl.Get(ctx, "t", client.Key{PK: "b"}, client.Options{R: 3})
		done <- result{it, err}
	}()
	testcluster.WaitFor(t, 10*time.Second, "the read of b to begin", open(1))
	time.Sleep(100 * time.Millisecond) // it sends its requests as it begins
	// Counted from here: on a loaded machine an acknowledgement of the
	// writes above can itself come after its round and be dropped.
	lateBefore := metric("ringtable_gateway_late_replies_total")
	release()
	r := <-done
	only("read of b with R=3 as n3 answers late", "b", r.it, r.err)
	if n := metric("ringtable_gateway_late_replies_total") - lateBefore; n != 1 {
		t.Fatalf("late replies dropped during the read of b = %v, want 1 (n3's answer about a)", n)
	}
	it, err = cl.Get(ctx, "t", client.Key{PK: "b"}, client.Options{R: 3})
	only("read of b afterwards", "b", it, err)
}

// clusterWithN3Proxied is a cluster whose n3 hears the bus through a
// proxy the test can hold. Its gateway runs no round but the test's own:
// keys, tenants and tables stay cached and usage is not collected; tweak
// changes the gateway's configuration further.
func clusterWithN3Proxied(t *testing.T, tweak func(*gateway.Config)) (*testcluster.Cluster, *testcluster.Proxy, prometheus.Gatherer) {
	t.Helper()
	var proxy *testcluster.Proxy
	var gather prometheus.Gatherer
	c := testcluster.New(t, testcluster.Options{
		NodeBus: testcluster.ProxyNode(t, "n3", &proxy),
		Gateway: func(cfg *gateway.Config) {
			gather = cfg.Gatherer
			cfg.KeyTTL, cfg.CatalogTTL, cfg.UsageInterval = time.Hour, time.Hour, time.Hour
			tweak(cfg)
		},
	})
	return c, proxy, gather
}
