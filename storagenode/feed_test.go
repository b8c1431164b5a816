package storagenode_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/feed"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/storagenode"
)

// feedLog reads one table's events from the cluster's feed stream.
type feedLog struct {
	mu   sync.Mutex
	ids  map[string]int
	pks  map[string]int
	vals map[string][]string // each event's value, by partition key
	n    int
}

func readFeed(t *testing.T, c *testcluster.Cluster, table string) *feedLog {
	t.Helper()
	conn := c.Connect("feed-reader")
	f, err := conn.Feeds(messaging.DefaultFeedConfig())
	if err != nil {
		t.Fatal(err)
	}
	var rd *messaging.FeedReader
	testcluster.WaitFor(t, 10*time.Second, "the feed stream", func() bool {
		rd, err = f.Reader(context.Background(), c.TenantID, table, messaging.FeedStart{Seq: 1})
		return err == nil
	})
	l := &feedLog{ids: map[string]int{}, pks: map[string]int{}, vals: map[string][]string{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := rd.Next(time.Second)
			if err != nil {
				return
			}
			if m == nil {
				continue
			}
			ev, err := feed.Decode(m.Data)
			if err != nil {
				t.Errorf("bad event: %v", err)
				continue
			}
			l.mu.Lock()
			l.ids[ev.ID]++
			l.pks[ev.PK]++
			l.vals[ev.PK] = append(l.vals[ev.PK], string(ev.Value))
			l.n++
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() { rd.Stop(); <-done })
	return l
}

func (l *feedLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *feedLog) duplicates() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := 0
	for _, n := range l.ids {
		d += n - 1
	}
	return d
}

// keysStampedBy returns n partition keys whose preference list starts
// with node.
func keysStampedBy(c *testcluster.Cluster, node string, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		pk := fmt.Sprintf("%s-k%d", node, i)
		if c.Replicas(c.ItemKey(c.TenantID, "t", pk, ""), 3)[0] == node {
			out = append(out, pk)
		}
	}
	return out
}

// outboxCluster starts a cluster whose n1, at each start, holds its
// outbox (mode 1: it never publishes, as a stamper that crashes before
// its PubAcks) or keeps it (mode 2: it never clears published events, as
// one that crashes right after), and reports each life's metrics apart.
func outboxCluster(t *testing.T) (*testcluster.Cluster, *atomic.Int32, func(name string) float64) {
	var mode atomic.Int32
	var reg atomic.Pointer[prometheus.Registry] // n1's metrics, this life
	c := testcluster.New(t, testcluster.Options{Node: func(cfg *storagenode.Config) {
		if cfg.ID == "n1" {
			cfg.Feed.HoldOutbox = mode.Load() == 1
			cfg.Feed.KeepOutbox = mode.Load() == 2
			r := prometheus.NewRegistry()
			cfg.Registerer = r
			reg.Store(r)
		}
	}})
	return c, &mode, func(name string) float64 { return metricValue(t, reg.Load(), name) }
}

// A stamper that crashes after its writes were durable but before their
// events were published publishes them from its outbox when it restarts;
// one that crashes after publishing but before clearing its outbox
// publishes them again, and the stream drops them as duplicates.
func TestOutboxRecoveredAtRestart(t *testing.T) {
	c, mode, metric := outboxCluster(t)
	published := func(want int) func() bool {
		return func() bool { return metric("ringtable_node_feed_events_published_total") == float64(want) }
	}
	mode.Store(1)
	c.Stop("n1")
	c.Start("n1")
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	log := readFeed(t, c, "t")
	held, others := keysStampedBy(c, "n1", 50), append(keysStampedBy(c, "n2", 25), keysStampedBy(c, "n3", 25)...)
	for _, pk := range append(held, others...) {
		if _, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	testcluster.WaitFor(t, 10*time.Second, "the other stampers' events", func() bool { return log.count() == len(others) })
	if n, err := c.Node("n1").FeedBacklog(); err != nil || n != len(held) {
		t.Fatalf("n1's outbox holds %d events (%v), want %d", n, err, len(held))
	}
	if p, h := metric("ringtable_node_feed_events_published_total"), metric("ringtable_node_feed_healthy"); p != 0 || h != 0 {
		t.Errorf("n1 holding its outbox: published %v, healthy %v; want 0 and 0", p, h)
	}

	// "Crash" n1 and restart it; it publishes from its outbox but keeps
	// the entries, as if it crashed again right after the PubAcks.
	mode.Store(2)
	c.Stop("n1")
	c.Start("n1")
	testcluster.WaitFor(t, 10*time.Second, "n1's outbox published", func() bool { return log.count() == len(held)+len(others) })
	testcluster.WaitFor(t, 5*time.Second, "n1's published events counted", published(len(held)))
	if n := metric("ringtable_node_feed_publish_seconds"); n == 0 {
		t.Error("n1 published its outbox but timed no publish")
	}
	if n, _ := c.Node("n1").FeedBacklog(); n != len(held) {
		t.Fatalf("n1's outbox holds %d events, want the %d published ones still", n, len(held))
	}

	// Restarted normally, it publishes them again: the stream drops
	// them, and the outbox empties.
	mode.Store(0)
	c.Stop("n1")
	c.Start("n1")
	testcluster.WaitFor(t, 10*time.Second, "n1's outbox emptied", func() bool {
		n, err := c.Node("n1").FeedBacklog()
		return err == nil && n == 0
	})
	time.Sleep(300 * time.Millisecond) // a republished duplicate would have arrived
	testcluster.WaitFor(t, 5*time.Second, "n1's republished events counted", published(len(held)))
	for name, want := range map[string]float64{"ringtable_node_feed_healthy": 1, "ringtable_node_feed_queued_events": 0,
		"ringtable_node_feed_backlog_on_disk": 0, "ringtable_node_feed_publish_failures_total": 0} {
		if got := metric(name); got != want {
			t.Errorf("%s = %v after the outbox emptied, want %v", name, got, want)
		}
	}
	t.Logf("%d events held in n1's outbox across a crash, published at restart, published again after a second restart: %d events in the stream, %d duplicates",
		len(held), log.count(), log.duplicates())
	if log.count() != len(held)+len(others) || log.duplicates() != 0 {
		t.Errorf("want %d events, each once", len(held)+len(others))
	}
	for _, pk := range held {
		if log.pks[pk] != 1 {
			t.Errorf("%d events of %s", log.pks[pk], pk)
		}
	}
}

// windowedFeed configures the nodes of a duplicate-window test: a short
// window on every node and, on n1, an outbox kept after its PubAcks while
// keep is set, a look in the stream before publishing again only while
// recheck is set, and the metrics of its current life in reg.
type windowedFeed struct {
	window        time.Duration
	keep, recheck atomic.Bool
	reg           atomic.Pointer[prometheus.Registry]
}

func (f *windowedFeed) configure(cfg *storagenode.Config) {
	cfg.Feed.Stream.Duplicates = f.window
	if cfg.ID != "n1" {
		return
	}
	cfg.Feed.KeepOutbox = f.keep.Load()
	cfg.Feed.RecheckWithin = 0
	if f.recheck.Load() {
		cfg.Feed.RecheckWithin = time.Minute
	}
	r := prometheus.NewRegistry()
	cfg.Registerer = r
	f.reg.Store(r)
}

// A stamper that comes back after the stream's duplicate window has
// passed looks in the stream for the events its outbox still holds and
// publishes only those the stream lacks. Without that look, the same
// restart publishes every one of them a second time.
func TestOutboxRecheckedBeyondDuplicateWindow(t *testing.T) {
	const window = time.Second
	f := &windowedFeed{window: window}
	c := testcluster.New(t, testcluster.Options{Node: f.configure})
	metric := func(name string) float64 { return metricValue(t, f.reg.Load(), name) }
	restart := func(keepOutbox, recheckOn bool) {
		f.keep.Store(keepOutbox)
		f.recheck.Store(recheckOn)
		c.Stop("n1")
		time.Sleep(2 * window) // the stream forgets the IDs it stored
		c.Start("n1")
	}
	restart(true, false) // n1 publishes but never clears its outbox

	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	log := readFeed(t, c, "t")
	held := keysStampedBy(c, "n1", 40)
	for _, pk := range held {
		if _, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	testcluster.WaitFor(t, 10*time.Second, "n1's events", func() bool { return log.count() == len(held) })

	// Back after the window, without looking: every event goes again.
	restart(true, false)
	testcluster.WaitFor(t, 10*time.Second, "n1's outbox published again", func() bool { return log.count() == 2*len(held) })
	if d := log.duplicates(); d != len(held) {
		t.Fatalf("control: %d duplicates after a restart past the window without a look, want %d", d, len(held))
	}

	// Back after the window, looking first: nothing goes again.
	restart(false, true)
	testcluster.WaitFor(t, 10*time.Second, "n1's outbox emptied", func() bool {
		n, err := c.Node("n1").FeedBacklog()
		return err == nil && n == 0
	})
	time.Sleep(300 * time.Millisecond) // a republished duplicate would have arrived
	found, published := metric("ringtable_node_feed_events_found_stored_total"), metric("ringtable_node_feed_events_published_total")
	t.Logf("%d events kept in the outbox past the window: found in the stream %v, published %v; %d events read, %d duplicates",
		len(held), found, published, log.count(), log.duplicates())
	if found != float64(len(held)) || published != 0 || log.count() != 2*len(held) {
		t.Errorf("after a restart that looked first: found %v and published %v, %d events read; want %d, 0 and %d",
			found, published, log.count(), len(held), 2*len(held))
	}
}

// A PubAck lost on its way back (the event stored, the stamper never
// told) fails the publish after its timeout, long past a short duplicate
// window; the stamper then publishes the event again only if the stream
// lacks it. The loss is real: n1 talks to the bus through a proxy that,
// from n1's publish of the event on, drops what the bus sends back until
// it resets the connection.
func TestLostPubAckNotPublishedAgain(t *testing.T) {
	const window = time.Second
	f := &windowedFeed{window: window}
	var proxy *testcluster.Proxy
	c := testcluster.New(t, testcluster.Options{
		NodeBus: testcluster.ProxyNode(t, "n1", &proxy),
		Node:    f.configure,
	})
	metric := func(name string) float64 { return metricValue(t, f.reg.Load(), name) }
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	log := readFeed(t, c, "t")
	subject := c.Connect("subjects").Subjects().FeedLog(c.TenantID, "t")
	pks := keysStampedBy(c, "n1", 2)
	lose := func(pk string) {
		t.Helper()
		// Deaf for longer than the publish waits for its PubAck (5 s).
		deaf := proxy.DeafAfter(subject, 6*time.Second)
		if _, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Logf("put %s while its stamper was deaf: %v", pk, err) // the event is staged all the same
		}
		select {
		case <-deaf:
		case <-time.After(10 * time.Second):
			t.Fatalf("n1 published no event for %s", pk)
		}
	}

	// Control, without a look: the stored event goes again.
	lose(pks[0])
	testcluster.WaitFor(t, 30*time.Second, "the event published again", func() bool { return log.count() == 2 })
	if d := log.duplicates(); d != 1 {
		t.Fatalf("control: %d duplicates after a lost PubAck without a look, want 1", d)
	}

	// Looking first: the event the stream holds is not published again.
	f.recheck.Store(true)
	c.Stop("n1")
	c.Start("n1")
	lose(pks[1])
	testcluster.WaitFor(t, 30*time.Second, "n1's outbox emptied", func() bool {
		n, err := c.Node("n1").FeedBacklog()
		return err == nil && n == 0
	})
	time.Sleep(300 * time.Millisecond) // a republished duplicate would have arrived
	failed := metric("ringtable_node_feed_publish_failures_total")
	found := metric("ringtable_node_feed_events_found_stored_total")
	published := metric("ringtable_node_feed_events_published_total")
	t.Logf("lost PubAck: failed %v, found in the stream %v, published %v; %d events read, %d duplicates",
		failed, found, published, log.count(), log.duplicates())
	if failed != 1 || found != 1 || published != 0 || log.count() != 3 || log.duplicates() != 1 {
		t.Errorf("after a lost PubAck and a look: failed %v, found %v, published %v, %d events read, %d duplicates; want 1, 1, 0, 3 and 1 (the control's)",
			failed, found, published, log.count(), log.duplicates())
	}
}

// A coordinator's retry of a stamp that reached the stamper already is
// acknowledged with the first stamp's version, and publishes no second
// event.
func TestRetriedStampPublishesOnce(t *testing.T) {
	c, log := clusterWithFeed(t)
	pk := keysStampedBy(c, "n1", 1)[0]
	conn := c.Connect("coordinator")
	req := &wire.PutRequest{Key: c.ItemKey(c.TenantID, "t", pk, ""), Value: []byte(`{"v":1}`), Write: 42, TableName: "t"}
	var ctxs []string
	for range 3 {
		ctxs = append(ctxs, stampAt(t, conn, "n1", req).Context.String())
	}
	testcluster.WaitFor(t, 5*time.Second, "the event", func() bool { return log.count() == 1 })
	time.Sleep(300 * time.Millisecond)
	if log.count() != 1 || ctxs[0] != ctxs[1] || ctxs[1] != ctxs[2] {
		t.Errorf("3 deliveries of one write: %d events, contexts %v", log.count(), ctxs)
	}
}

// A coordinator that retries a write on a second stamper before the
// first one's forward arrived has it stamped twice, with two dots (a
// read shows it once, as one request): its feed shows it once too.
func TestWriteStampedTwicePublishesOnce(t *testing.T) {
	c, log := clusterWithFeed(t)
	pks := keysStampedBy(c, "n1", 2)
	conn := c.Connect("coordinator")
	stamp := func(node, pk string, write uint64) string {
		t.Helper()
		req := &wire.PutRequest{Key: c.ItemKey(c.TenantID, "t", pk, ""), Value: []byte(`{"v":1}`), Write: write, TableName: "t"}
		return stampAt(t, conn, node, req).Context.String()
	}
	// No forward rides on these requests, so n2 does not hold n1's
	// version when the same request reaches it.
	first, second := stamp("n1", pks[0], 77), stamp("n2", pks[0], 77)
	if first == second {
		t.Fatalf("the second stamper acknowledged the first one's version (context %s): no double stamp to test", first)
	}
	// Another key written with the same request ID is another event.
	stamp("n1", pks[1], 77)
	testcluster.WaitFor(t, 5*time.Second, "the events", func() bool { return log.count() >= 2 })
	time.Sleep(300 * time.Millisecond)
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.n != 2 || log.pks[pks[0]] != 1 || log.pks[pks[1]] != 1 {
		t.Errorf("events per key %v (%d in all): want one per key", log.pks, log.n)
	}
}

// clusterWithFeed starts a cluster with a table "t" and reads its feed.
func clusterWithFeed(t *testing.T) (*testcluster.Cluster, *feedLog) {
	t.Helper()
	c := testcluster.New(t, testcluster.Options{})
	if _, err := c.Client(0).CreateTable(context.Background(), client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	return c, readFeed(t, c, "t")
}

// stampAt sends req to node as a coordinator's stamp request, with no
// forward, and returns the node's successful reply.
func stampAt(t *testing.T, conn *messaging.Conn, node string, req *wire.PutRequest) *wire.Reply {
	t.Helper()
	data, err := conn.Request(context.Background(), conn.Subjects().NodeOp(node, "put"), wire.Encode(req))
	if err != nil {
		t.Fatal(err)
	}
	m, err := wire.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*wire.Reply)
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return r
}

// nodeRegistries gives every node a metrics registry of its own (a
// restarted node a new one), kept by node ID.
type nodeRegistries struct {
	mu   sync.Mutex
	regs map[string]*prometheus.Registry
}

// register is for testcluster.Options.Node.
func (n *nodeRegistries) register(cfg *storagenode.Config) {
	r := prometheus.NewRegistry()
	cfg.Registerer = r
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.regs == nil {
		n.regs = map[string]*prometheus.Registry{}
	}
	n.regs[cfg.ID] = r
}

func (n *nodeRegistries) of(id string) *prometheus.Registry {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.regs[id]
}

func (n *nodeRegistries) all() []*prometheus.Registry {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*prometheus.Registry
	for _, r := range n.regs {
		out = append(out, r)
	}
	return out
}

func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return testcluster.MetricValue(t, reg, name)
}

// While the feed stream is gone (deleted twice as writes go on), the
// stampers' publishes fail and writes are still acknowledged; once the
// stream is back (a stamper recreates it), every write's event reaches
// the feed and the outboxes empty.
func TestFeedStreamOutageRetried(t *testing.T) {
	var mu sync.Mutex
	var regs nodeRegistries
	c := testcluster.New(t, testcluster.Options{Node: regs.register})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	// The stream's republished events, read without a consumer of the
	// stream (which its deletion would end).
	conn := c.Connect("feed-watcher")
	seen := map[string]int{}
	sub, err := conn.Subscribe(conn.Subjects().Feed(c.TenantID, "t"), func(m *messaging.Msg) {
		ev, err := feed.Decode(m.Data)
		if err != nil {
			t.Errorf("bad event: %v", err)
			return
		}
		mu.Lock()
		seen[ev.PK]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	deleteStream := func() {
		t.Helper()
		name := messaging.FeedStreamName(conn.Subjects().Prefix())
		resp, err := conn.Request(ctx, "$JS.API.STREAM.DELETE."+name, nil)
		if err != nil {
			t.Fatalf("deleting the feed stream: %v", err)
		}
		t.Logf("deleted stream %s: %s", name, resp)
	}

	const n = 300
	var done atomic.Int32
	werr := make(chan error, 1)
	go func() {
		defer close(werr)
		for i := range n {
			if _, err := cl.Put(ctx, "t", client.Key{PK: fmt.Sprintf("k%d", i)}, []byte(`{"v":1}`), client.Options{}); err != nil {
				werr <- fmt.Errorf("write %d: %w", i, err)
				return
			}
			done.Add(1)
		}
	}()
	for _, at := range []int32{50, 150} {
		testcluster.WaitFor(t, 30*time.Second, fmt.Sprintf("%d writes", at), func() bool { return done.Load() >= at })
		deleteStream()
	}
	if err := <-werr; err != nil {
		t.Fatalf("a write failed while the feed stream was gone: %v", err)
	}
	testcluster.WaitFor(t, 30*time.Second, "every write's event and empty outboxes", func() bool {
		mu.Lock()
		all := len(seen) == n
		mu.Unlock()
		for _, id := range c.NodeIDs {
			if b, err := c.Node(id).FeedBacklog(); err != nil || b != 0 {
				return false
			}
		}
		return all
	})
	var failures, published float64
	mu.Lock()
	for _, r := range regs.all() {
		failures += metricValue(t, r, "ringtable_node_feed_publish_failures_total")
		published += metricValue(t, r, "ringtable_node_feed_events_published_total")
	}
	dups := 0
	for _, k := range seen {
		dups += k - 1
	}
	mu.Unlock()
	t.Logf("%d writes, the stream deleted twice: %d publishes failed and were retried, %v events stored, every key's event seen (%d twice)",
		n, int(failures), published, dups)
	if failures == 0 {
		t.Error("no publish failed: the stream's deletion was not seen, nothing was retried")
	}
}
