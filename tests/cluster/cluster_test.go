package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
)

// Reference: Dynamo §4.8 (membership, seeds). Five nodes given one seed,
// four of them started at the same moment, converge on one ring.
func TestSeedsConverge(t *testing.T) {
	c := newCluster(t)
	ids := []string{"n1", "n2", "n3", "n4", "n5"}
	for _, id := range ids {
		c.addNode(id, "--seeds", "n1")
	}
	c.nodes["n1"].start(t)
	waitFor(t, 20*time.Second, "n1 to serve alone", func() bool { return c.converged(1, "n1") })
	start := time.Now()
	for _, id := range ids[1:] {
		c.nodes[id].start(t) // at the same moment: they may take the same join sequence
	}
	waitFor(t, 60*time.Second, "five nodes to converge on one ring", func() bool { return c.converged(5, ids...) })
	took := time.Since(start)
	t.Logf("5 nodes converged on one ring in %v (%.0f gossip periods of 250ms, including process start and partition transfers)", took.Round(time.Millisecond), took.Seconds()/0.25)
	st, _ := c.nodes["n3"].status()
	for _, m := range st.Members {
		t.Logf("  %s %s owns %d partitions", m.ID, m.Status, m.Partitions)
		if m.Partitions < 40 || m.Partitions > 62 {
			t.Errorf("%s owns %d of 256 partitions, far from an even share", m.ID, m.Partitions)
		}
	}
}

// bootstrap starts n nodes as the initial members of a new cluster.
func bootstrap(t *testing.T, c *cluster, n int) []string {
	var ids []string
	for i := 1; i <= n; i++ {
		ids = append(ids, fmt.Sprintf("n%d", i))
	}
	list := ""
	for i, id := range ids {
		if i > 0 {
			list += ","
		}
		list += id
	}
	for _, id := range ids {
		c.addNode(id, "--bootstrap", list)
	}
	for _, id := range ids {
		c.nodes[id].start(t)
	}
	waitFor(t, 30*time.Second, "the cluster to form", func() bool { return c.converged(n, ids...) })
	return ids
}

// writer puts fresh keys until stopped and remembers the acknowledged ones.
type writer struct {
	cl      *client.Client
	prefix  string
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	acked   []string
	failed  atomic.Int64
	counter atomic.Int64
}

func startWriter(cl *client.Client, prefix string, clients int) *writer {
	w := &writer{cl: cl, prefix: prefix, stop: make(chan struct{})}
	for range clients {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case <-w.stop:
					return
				default:
				}
				k := fmt.Sprintf("%s%06d", w.prefix, w.counter.Add(1))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := w.cl.Put(ctx, "t", client.Key{PK: k}, []byte(`{"k":"`+k+`"}`), client.Options{})
				cancel()
				if err != nil {
					w.failed.Add(1)
					time.Sleep(20 * time.Millisecond)
					continue
				}
				w.mu.Lock()
				w.acked = append(w.acked, k)
				w.mu.Unlock()
			}
		}()
	}
	return w
}

// count is how many writes have been acknowledged so far.
func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func (w *writer) finish() []string {
	close(w.stop)
	w.wg.Wait()
	return w.acked
}

func readAll(t *testing.T, cl *client.Client, keys []string, r int) {
	t.Helper()
	for _, k := range keys {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		it, err := cl.Get(ctx, "t", client.Key{PK: k}, client.Options{R: r})
		cancel()
		if err != nil || len(it.Items) != 1 || string(it.Items[0].Value) != `{"k":"`+k+`"}` {
			t.Fatalf("acknowledged key %s read with R=%d: %+v %v", k, r, it, err)
		}
	}
}

// kill -9 of the node whose embedded NATS server the gateway uses: the
// gateway fails over to another server and the cluster keeps serving
// reads and writes with N=3, W=2, R=2.
func TestGatewayFailsOverWhenItsNATSServerDies(t *testing.T) {
	c, g, cl := threeWithTable(t)
	w := startWriter(cl, "a", 4)
	time.Sleep(time.Second)
	c.nodes["n1"].kill()
	killed := time.Now()
	// The cluster keeps serving: writes succeed again after the fail-over.
	before := w.count()
	waitFor(t, 20*time.Second, "writes to succeed after the kill", func() bool {
		return w.count() > before+50
	})
	t.Logf("writes served again %v after kill -9 of n1 (%d writes failed meanwhile)", time.Since(killed).Round(time.Millisecond), w.failed.Load())
	time.Sleep(time.Second)
	acked := w.finish()
	readAll(t, cl, acked, 2)
	t.Logf("%d acknowledged writes all read back with R=2 from the two survivors", len(acked))
	resp, err := http.Get(g.base() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("gateway health after fail-over: %v %v", resp, err)
	}
}

// A node restarted with its data keeps its place in the ring and its
// partitions.
func TestRestartKeepsPlace(t *testing.T) {
	c := newCluster(t)
	bootstrap(t, c, 3)
	before, err := c.nodes["n2"].status()
	if err != nil {
		t.Fatal(err)
	}
	c.nodes["n2"].stop()
	c.nodes["n2"].start(t)
	waitFor(t, 30*time.Second, "n2 back", func() bool { return c.converged(3, "n1", "n2", "n3") })
	after, err := c.nodes["n2"].status()
	if err != nil {
		t.Fatal(err)
	}
	if after.Actor != before.Actor || after.Epoch != before.Epoch {
		t.Fatalf("after restart: actor %s→%s epoch %s→%s", before.Actor, after.Actor, before.Epoch, after.Epoch)
	}
	for i, m := range after.Members {
		if m.Partitions != before.Members[i].Partitions || m.Status != before.Members[i].Status {
			t.Fatalf("member %s: %+v before, %+v after", m.ID, before.Members[i], m)
		}
	}
}

// A sixth node joins under a steady write load, then a node leaves under
// load: every acknowledged key stays readable with R=N.
func TestJoinAndLeaveUnderLoadProcesses(t *testing.T) {
	c := newCluster(t)
	ids := bootstrap(t, c, 5)
	g := c.addGateway(ids...)
	cl := c.tenant(g)
	if _, err := cl.CreateTable(context.Background(), client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	before, _ := c.nodes["n1"].status()
	w := startWriter(cl, "j", 4)
	time.Sleep(time.Second)
	c.addNode("n6", "--seeds", "n1").start(t)
	waitFor(t, 60*time.Second, "n6 to join", func() bool { return c.converged(6, "n1", "n6") })
	acked := w.finish()
	after, _ := c.nodes["n1"].status()
	owned := 0
	for _, m := range after.Members {
		if m.ID == "n6" {
			owned = m.Partitions
		}
	}
	t.Logf("join under load: %d writes acknowledged during it (%d failed); n6 took %d of 256 partitions (%.1f%% of the keys, 1/6 = 16.7%%)",
		len(acked), w.failed.Load(), owned, 100*float64(owned)/256)
	_ = before
	readAll(t, cl, acked, 3)

	w = startWriter(cl, "l", 4)
	time.Sleep(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := client.New(g.base(), nil).WithAPIKey(c.adminKey).AdminCall(ctx, http.MethodPost, "/v1/admin/nodes/n2/leave", nil, nil)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "n2 to leave", func() bool {
		st, err := c.nodes["n1"].status()
		if err != nil || st.Transitioning {
			return false
		}
		for _, m := range st.Members {
			if m.ID == "n2" {
				return m.Status == "left"
			}
		}
		return false
	})
	acked2 := w.finish()
	c.nodes["n2"].stop()
	t.Logf("leave under load: %d writes acknowledged during it (%d failed)", len(acked2), w.failed.Load())
	readAll(t, cl, append(acked, acked2...), 3)
}

// A node whose disk is lost for good is replaced by a process with the same
// ID and an empty data directory: it takes the old place in the ring under
// a new incarnation (so its new writes are never dropped as dominated),
// and an anti-entropy run refills it, proved by reading every key with
// the two other nodes killed.
func TestReplaceNodeWithEmptyDisk(t *testing.T) {
	c, g, cl := threeWithTable(t)
	put := func(k string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := cl.Put(ctx, "t", client.Key{PK: k}, []byte(`{"k":"`+k+`"}`), client.Options{}); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	var keys []string
	for i := range 200 {
		keys = append(keys, fmt.Sprintf("before%03d", i))
		put(keys[i])
	}
	before, err := c.nodes["n3"].status()
	if err != nil {
		t.Fatal(err)
	}
	c.nodes["n3"].kill()
	if err := os.RemoveAll(filepath.Join(c.dir, "n3")); err != nil {
		t.Fatal(err)
	}
	for i := range 100 { // while it is gone (W=2 from the other two)
		k := fmt.Sprintf("during%03d", i)
		keys = append(keys, k)
		put(k)
	}
	c.nodes["n3"].start(t)
	waitFor(t, 30*time.Second, "the replacement to take n3's place", func() bool { return c.converged(3, "n1", "n2", "n3") })
	after, err := c.nodes["n3"].status()
	if err != nil {
		t.Fatal(err)
	}
	if after.Actor == before.Actor {
		t.Fatalf("the replacement kept the lost disk's actor %s", before.Actor)
	}
	for i, m := range after.Members {
		if m.Partitions != before.Members[i].Partitions || m.Status != "active" {
			t.Fatalf("member %s after the replacement: %+v, before: %+v", m.ID, m, before.Members[i])
		}
	}
	// Refill it: one anti-entropy run on every node.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = client.New(g.base(), nil).WithAPIKey(c.adminKey).AdminCall(ctx, http.MethodPost, "/v1/admin/repair", nil, nil)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, 60*time.Second, "anti-entropy on every node", func() bool {
		for _, id := range []string{"n1", "n2", "n3"} {
			st, err := c.nodes[id].status()
			if err != nil || st.AAE.Running || st.AAE.Finished.Before(start) {
				return false
			}
		}
		return true
	})
	repaired := map[string]int64{}
	for _, id := range []string{"n1", "n2", "n3"} {
		if st, err := c.nodes[id].status(); err == nil {
			repaired[id] = st.AAE.Repaired
		}
	}
	t.Logf("replacement n3 (actor %s, was %s) refilled by anti-entropy in %v: keys repaired per node %v",
		after.Actor, before.Actor, time.Since(start).Round(time.Millisecond), repaired)

	// Only n3 is left: every key must come from its disk.
	c.nodes["n1"].kill()
	c.nodes["n2"].kill()
	waitFor(t, 30*time.Second, "reads served by n3 alone", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := cl.Get(ctx, "t", client.Key{PK: keys[0]}, client.Options{R: 1})
		return err == nil
	})
	readAll(t, cl, keys, 1)
}
