package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/clock"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// A get asks R replicas. When one of them is silent (here n3, whose proxy
// holds what the bus sends it), the get asks the third replica after the
// speculation delay instead of waiting out a round timeout: with a round
// timeout of a minute and requests that give up after 10 s, every read
// must still be answered, by the two replicas that hear the bus. The
// silent replica is then late, and the next gets ask it last: with the
// gateway's clock stopped, so that it stays late, only the first read
// that asked n3 waits for the delay.
func TestSilentReplicaReplacedBySpare(t *testing.T) {
	c, proxy, gather := clusterWithN3Proxied(t, func(cfg *gateway.Config) {
		cfg.RoundTimeout = time.Minute
		cfg.ReadRepairEvery = 1 << 30 // no get asks all three
		cfg.Clock = clock.NewFake(time.Now())
	})
	ctx := context.Background()
	cl := c.Client(0)
	const keys = 12
	writeKeys(t, cl, keys)
	// The count starts from what the table's creation left: on a loaded
	// machine a read of the catalog can outlast the speculation delay.
	slow := func() float64 { return testcluster.MetricValue(t, gather, "ringtable_gateway_slow_reads_total") }
	before := slow()

	release := proxy.Hold()
	defer release()
	for i := range keys {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		it, err := cl.Get(rctx, "t", client.Key{PK: fmt.Sprintf("k%d", i)}, client.Options{})
		cancel()
		if err != nil {
			t.Fatalf("read of k%d with n3 silent: %v", i, err)
		}
		if want := fmt.Sprintf(`{"id":"k%d"}`, i); len(it.Items) != 1 || string(it.Items[0].Value) != want {
			t.Fatalf("read of k%d: got %+v, want %s", i, it.Items, want)
		}
	}
	// n3 is among the two replicas asked first for about two keys in
	// three; the first such read asked its spare, the others asked n3 last.
	if n := slow() - before; n != 1 {
		t.Fatalf("slow reads with n3 silent = %v, want 1", n)
	}
}

// The speculation delay follows the answers: with the longest delay set to
// a minute, a get that asked a silent replica would give up after 10 s, as
// its client does, if the delay stayed there. After a few dozen reads
// answered within milliseconds it is down to a few milliseconds, and every
// read with n3 silent is answered.
func TestSpeculationDelayFollowsAnswers(t *testing.T) {
	c, proxy, gather := clusterWithN3Proxied(t, func(cfg *gateway.Config) {
		cfg.RoundTimeout = 2 * time.Minute
		cfg.SpeculateAfter = time.Minute
		cfg.ReadRepairEvery = 1 << 30 // no get asks all three
	})
	ctx := context.Background()
	cl := c.Client(0)
	const keys = 12
	writeKeys(t, cl, keys)
	delay := func() float64 {
		return testcluster.MetricValue(t, gather, "ringtable_gateway_speculation_delay_seconds")
	}
	if d := delay(); d != 60 {
		t.Fatalf("speculation delay before any read = %vs, want the longest, 60s", d)
	}
	read := func(i int) error {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		it, err := cl.Get(rctx, "t", client.Key{PK: fmt.Sprintf("k%d", i)}, client.Options{})
		if err != nil {
			return err
		}
		if want := fmt.Sprintf(`{"id":"k%d"}`, i); len(it.Items) != 1 || string(it.Items[0].Value) != want {
			return fmt.Errorf("got %+v, want %s", it.Items, want)
		}
		return nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for delay() >= 1 {
		if time.Now().After(deadline) {
			t.Fatalf("speculation delay still %vs after 30 s of reads", delay())
		}
		for i := range 30 {
			if err := read(i % keys); err != nil {
				t.Fatalf("read of k%d: %v", i%keys, err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("speculation delay after reads answered at once: %vs", delay())

	slowBefore := testcluster.MetricValue(t, gather, "ringtable_gateway_slow_reads_total")
	release := proxy.Hold()
	defer release()
	// Traced reads: the first that asks n3 shows the delay it waited.
	var waited []time.Duration
	for i := range keys {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := cl.Query(rctx, client.QueryRequest{Statement: fmt.Sprintf("GET FROM t KEY ('k%d')", i), Trace: true})
		cancel()
		if err != nil {
			t.Fatalf("read of k%d with n3 silent: %v", i, err)
		}
		r := res.Results[0]
		if want := fmt.Sprintf(`{"id":"k%d"}`, i); len(r.Rows) != 1 || string(r.Rows[0].Value) != want {
			t.Fatalf("read of k%d with n3 silent: got %+v, want %s", i, r.Rows, want)
		}
		for _, ev := range r.Trace {
			if ev.Event != "slow" {
				continue
			}
			_, after, _ := strings.Cut(ev.Detail, "speculation delay (")
			d, err := time.ParseDuration(strings.SplitN(after, ")", 2)[0])
			if err != nil {
				t.Fatalf("trace of a slow read says %q: no delay in it", ev.Detail)
			}
			waited = append(waited, d)
		}
	}
	if len(waited) == 0 || slices.Max(waited) >= time.Second {
		t.Fatalf("delays the reads with n3 silent waited: %v, want at least one, each under a second", waited)
	}
	if n := testcluster.MetricValue(t, gather, "ringtable_gateway_slow_reads_total") - slowBefore; n != float64(len(waited)) {
		t.Fatalf("slow reads counted %v, traced %d", n, len(waited))
	}
}

// writeKeys creates table t and writes items k0… on every replica.
func writeKeys(t *testing.T, cl *client.Client, keys int) {
	t.Helper()
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	for i := range keys {
		item := fmt.Sprintf(`{"id":"k%d"}`, i)
		if _, err := cl.Put(context.Background(), "t", client.Key{PK: fmt.Sprintf("k%d", i)}, []byte(item), client.Options{W: 3}); err != nil {
			t.Fatal(err)
		}
	}
}
