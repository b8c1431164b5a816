package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/feed"
	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/storagenode"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// tenantConn connects to the cluster's NATS server with a tenant's feed
// credentials; async errors (permission violations) go to errs.
func tenantConn(t *testing.T, c *testcluster.Cluster, creds string, errs chan<- error) *nats.Conn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "feed.creds")
	if err := os.WriteFile(path, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(c.NATS.ClientURL(), nats.UserCredentials(path), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errs != nil {
			select {
			case errs <- err:
			default:
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// write is one acknowledged write of the load below.
type write struct {
	client, n int
	key       string
}

// 10,000 writes (puts, deletes, concurrent blind writes that make
// siblings) from 8 clients while a tenant's subscriber reads its feed over
// NATS: exactly one event per acknowledged version, matched by the
// version's context; events of a key in the order its client wrote them.
// Meanwhile a JetStream consumer of the tenant's own stream stops after
// 3,000 events and later resumes from its last sequence: no gap, no
// duplicate.
func TestFeedOneEventPerVersion(t *testing.T) {
	const clients, perClient, stopAfter = 8, 1250, 3000
	total := clients * perClient
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	fc, err := c.Admin(0).FeedCredentials(ctx, c.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	nc := tenantConn(t, c, fc.Creds, nil)

	// The live subscriber.
	var mu sync.Mutex
	var live []*feed.Event
	liveSeq := map[string]uint64{} // event ID → stream sequence
	sub, err := nc.Subscribe(fc.Subject, func(m *nats.Msg) {
		ev, err := feed.Decode(m.Data)
		if err != nil {
			t.Errorf("bad event %q: %v", m.Data, err)
			return
		}
		seq, _ := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
		mu.Lock()
		live = append(live, ev)
		liveSeq[ev.ID] = seq
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	_ = nc.Flush()

	// The resumable consumer of the tenant's own stream.
	js, _ := jetstream.New(nc)
	consume := func(from uint64, n int) (seqs []uint64, ids []string) {
		t.Helper()
		cons, err := js.OrderedConsumer(ctx, fc.Stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from})
		if err != nil {
			t.Error(err)
			return nil, nil
		}
		it, err := cons.Messages()
		if err != nil {
			t.Error(err)
			return nil, nil
		}
		defer it.Stop()
		for len(seqs) < n {
			m, err := it.Next(jetstream.NextMaxWait(30 * time.Second))
			if err != nil {
				t.Errorf("consumer after %d events: %v", len(seqs), err)
				return
			}
			md, _ := m.Metadata()
			seqs = append(seqs, md.Sequence.Stream)
			ids = append(ids, m.Headers().Get("Nats-Msg-Id"))
		}
		return seqs, ids
	}
	var first struct {
		seqs []uint64
		ids  []string
	}
	consumerDone := make(chan struct{})
	go func() {
		defer close(consumerDone)
		first.seqs, first.ids = consume(1, stopAfter)
	}()

	// The load.
	acked := map[string]write{} // context token → the write that got it
	var wg sync.WaitGroup
	start := time.Now()
	for ci := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctxOf := map[string]string{}
			for i := range perClient {
				key := fmt.Sprintf("c%d-%d", ci, i%150)
				if i%5 == 4 {
					// Every client writes these: concurrent writes, siblings.
					key = fmt.Sprintf("shared-%d", i%40)
				}
				// The context of the client's last write of the key: a
				// causal chain per client key.
				o := client.Options{Context: ctxOf[key]}
				var tok string
				var err error
				if i%10 == 9 {
					tok, err = cl.Delete(ctx, "t", client.Key{PK: key}, o)
				} else {
					tok, err = cl.Put(ctx, "t", client.Key{PK: key}, []byte(fmt.Sprintf(`{"c":%d,"i":%d}`, ci, i)), o)
				}
				if err != nil {
					t.Errorf("client %d write %d: %v", ci, i, err)
					return
				}
				ctxOf[key] = tok
				mu.Lock()
				if _, dup := acked[tok]; dup {
					t.Errorf("two writes acknowledged with context %s", tok)
				}
				acked[tok] = write{client: ci, n: i, key: key}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if t.Failed() {
		return
	}
	testcluster.WaitFor(t, 30*time.Second, "an event per write", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(live) >= total
	})
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive by now
	mu.Lock()
	byID := map[string]int{}
	missing, unknown, order := 0, 0, 0
	seen := map[string]bool{}
	for _, ev := range live {
		byID[ev.ID]++
		if _, ok := acked[ev.Context]; !ok {
			unknown++
		}
		seen[ev.Context] = true
	}
	for tok := range acked {
		if !seen[tok] {
			missing++
		}
	}
	dups := 0
	for _, n := range byID {
		dups += n - 1
	}
	// Per key, the stream order of a client's chain is its write order.
	type last struct {
		n   int
		seq uint64
	}
	chains := map[string]last{}
	for _, ev := range live {
		w := acked[ev.Context]
		if w.key == "" || w.key[0] == 's' {
			continue
		}
		seq := liveSeq[ev.ID]
		if l, ok := chains[w.key]; ok && (l.n < w.n) != (l.seq < seq) {
			order++
		}
		if l, ok := chains[w.key]; !ok || l.n < w.n {
			chains[w.key] = last{w.n, seq}
		}
	}
	got := len(live)
	mu.Unlock()
	t.Logf("%d writes from %d clients acknowledged in %v; the live subscriber got %d events: %d missing, %d duplicated, %d not matching a write, %d out of causal order",
		len(acked), clients, took.Round(time.Millisecond), got, missing, dups, unknown, order)
	if len(acked) != total || got != total || missing != 0 || dups != 0 || unknown != 0 || order != 0 {
		t.Errorf("want exactly one event per acknowledged version, in causal order per key")
	}

	// The consumer that stopped after 3,000 events resumes.
	<-consumerDone
	if len(first.seqs) != stopAfter {
		t.Fatalf("first consumer read %d events", len(first.seqs))
	}
	rest, restIDs := consume(first.seqs[len(first.seqs)-1]+1, total-stopAfter)
	all := append(first.seqs, rest...)
	gaps, repeats := 0, 0
	for i := 1; i < len(all); i++ {
		switch {
		case all[i] == all[i-1]+1:
		case all[i] <= all[i-1]:
			repeats++
		default:
			gaps++
		}
	}
	ids := map[string]bool{}
	for _, id := range append(first.ids, restIDs...) {
		ids[id] = true
	}
	t.Logf("stream consumer: %d events before stopping (sequences %d-%d), %d after resuming from %d: %d distinct events, %d gaps, %d repeats",
		len(first.seqs), first.seqs[0], first.seqs[len(first.seqs)-1], len(rest), first.seqs[len(first.seqs)-1]+1, len(ids), gaps, repeats)
	if len(ids) != total || gaps != 0 || repeats != 0 || all[0] != 1 {
		t.Errorf("the resumed consumer must read every event once")
	}
}

// A tenant's feed credentials read its own feed and nothing else: the NATS
// server refuses subscriptions to another tenant's feed and to internal
// subjects, and publishes and requests on replica subjects; 1,000 forged
// replica writes change nothing.
func TestFeedCredentialsIsolation(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	otherID, otherKey := c.NewTenant("other")
	for _, cl := range []*client.Client{c.Client(0), c.ClientWithKey(0, otherKey)} {
		if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Put(ctx, "t", client.Key{PK: "a"}, []byte(`{"v":"original"}`), client.Options{W: 3}); err != nil {
			t.Fatal(err)
		}
	}
	fc, err := c.Admin(0).FeedCredentials(ctx, c.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4096)
	nc := tenantConn(t, c, fc.Creds, errs)
	own, err := nc.SubscribeSync(fc.Subject)
	if err != nil {
		t.Fatal(err)
	}
	forbiddenSubs := []string{"rt.feed." + otherID + ".>", "rt.feed.*.t", "rt.node.>", "rt.node.n1.*", "rt.gossip.all", "rt.system.>", "rt.feedlog.>", ">"}
	for _, s := range forbiddenSubs {
		if _, err := nc.SubscribeSync(s); err != nil {
			t.Fatal(err)
		}
	}
	// Forged replica writes: a sibling set that would replace both
	// tenants' items, straight to every node's replica subject.
	k1, k2 := c.ItemKey(c.TenantID, "t", "a", ""), c.ItemKey(otherID, "t", "a", "")
	forged := 0
	for i := range 1000 {
		k := k1
		if i%2 == 1 {
			k = k2
		}
		set, err := c.ReadReplica(c.Replicas(k, 1)[0], k)
		if err != nil {
			t.Fatal(err)
		}
		set[0].Value = []byte(`{"v":"forged"}`)
		set[0].Clock.Dot.Counter += 1000
		for _, node := range c.NodeIDs {
			msg := forgedReplicate(k, set)
			if err := nc.Publish("rt.node."+node+".replicate", msg); err != nil {
				t.Fatal(err)
			}
			forged++
		}
		if i == 999 {
			// And as requests, which get no answer.
			rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			_, err := nc.RequestWithContext(rctx, "rt.node.n1.replicate", forgedReplicate(k, set))
			cancel()
			if err == nil {
				t.Error("a forged replica request was answered")
			}
		}
	}
	if err := nc.Publish("rt.feedlog."+c.TenantID+".t", []byte(`{"forged":true}`)); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	// The tenant's own feed works meanwhile.
	if _, err := c.Client(0).Put(ctx, "t", client.Key{PK: "b"}, []byte(`{"v":1}`), client.Options{}); err != nil {
		t.Fatal(err)
	}
	m, err := own.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("own feed: %v", err)
	}
	if ev, err := feed.Decode(m.Data); err != nil || ev.PK != "b" || ev.Tenant != c.TenantID {
		t.Fatalf("own feed: %s %v", m.Data, err)
	}
	// Collect the server's refusals.
	deadline := time.After(5 * time.Second)
	subViolations, pubViolations := map[string]bool{}, 0
collect:
	for len(subViolations) < len(forbiddenSubs) || pubViolations < forged+2 {
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) {
				t.Errorf("unexpected async error: %v", err)
				continue
			}
			msg := strings.ToLower(err.Error())
			for _, s := range forbiddenSubs {
				if strings.HasSuffix(msg, fmt.Sprintf("subscription to %q", s)) {
					subViolations[s] = true
				}
			}
			if strings.Contains(msg, `publish to "rt.`) {
				pubViolations++
			}
		case <-deadline:
			break collect
		}
	}
	t.Logf("refused by the NATS server: %d of %d subscriptions; %d of %d publishes (1,000 forged replica writes, each to the %d nodes, a forged replica request, a forged event)",
		len(subViolations), len(forbiddenSubs), pubViolations, forged+2, len(c.NodeIDs))
	for _, s := range forbiddenSubs {
		if !subViolations[s] {
			t.Errorf("subscription to %s was not refused", s)
		}
	}
	if pubViolations < forged+2 {
		t.Errorf("%d publishes refused, want %d", pubViolations, forged+2)
	}
	// Nothing changed, through the API or on any replica.
	for _, cl := range []*client.Client{c.Client(0), c.ClientWithKey(0, otherKey)} {
		it, err := cl.Get(ctx, "t", client.Key{PK: "a"}, client.Options{R: 3})
		if err != nil || len(it.Items) != 1 || string(it.Items[0].Value) != `{"v":"original"}` {
			t.Errorf("item after forged writes: %+v %v", it, err)
		}
	}
	for _, node := range c.NodeIDs {
		for _, k := range []tenants.Key{k1, k2} {
			s, err := c.ReadReplica(node, k)
			if err != nil || len(s) != 1 || string(s[0].Value) != `{"v":"original"}` {
				t.Errorf("%s holds %v (%v) for %s", node, s, err, k.Tenant)
			}
		}
	}
}

func forgedReplicate(k tenants.Key, s vclock.Set) []byte {
	return wire.Encode(&wire.ReplicateRequest{Key: k, Set: s})
}

// BenchmarkPutFeedsOff is BenchmarkPut with change events turned off on
// every node: the difference is what feeds cost a write (the outbox
// entry in the same batch, the publish, the wait for its PubAck).
func BenchmarkPutFeedsOff(b *testing.B) {
	c := testcluster.New(b, testcluster.Options{Node: func(cfg *storagenode.Config) { cfg.Feed.Disabled = true }})
	cl := c.Client(0)
	if _, err := cl.CreateTable(context.Background(), client.Table{Name: "b", PartitionKey: "k"}); err != nil {
		b.Fatal(err)
	}
	val := []byte(`{"v":"` + strings.Repeat("x", 1024-8) + `"}`)
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := client.Key{PK: fmt.Sprintf("k%d", n.Add(1))}
			if _, err := cl.Put(context.Background(), "b", k, val, client.Options{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

var errStop = errors.New("stop")

// readSSE reads up to n events of the table's feed through gateway i.
func readSSE(t *testing.T, cl *client.Client, o client.FeedOptions, n int) []*client.FeedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*client.FeedEvent
	err := cl.Feed(ctx, "t", o, func(ev *client.FeedEvent) error {
		out = append(out, ev)
		if len(out) == n {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("feed after %d events: %v", len(out), err)
	}
	return out
}

// The SSE endpoint streams the same events, and a reader that resumes
// with Last-Event-ID misses nothing and sees nothing twice, even when
// writes went on while it was away.
func TestFeedSSEResumesFromLastEventID(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id", SortKey: "n"}); err != nil {
		t.Fatal(err)
	}
	put := func(from, to int) map[string]bool {
		acked := map[string]bool{}
		for i := from; i < to; i++ {
			tok, err := cl.Put(ctx, "t", client.Key{PK: "p", SK: fmt.Sprint(i)}, []byte(fmt.Sprintf(`{"i":%d}`, i)), client.Options{})
			if err != nil {
				t.Fatal(err)
			}
			acked[tok] = true
		}
		return acked
	}
	acked := put(0, 100)
	first := readSSE(t, cl, client.FeedOptions{FromSeq: 1}, 40)
	for k := range put(100, 200) {
		acked[k] = true
	}
	last := fmt.Sprint(first[len(first)-1].Seq)
	rest := readSSE(t, c.Client(0), client.FeedOptions{LastEventID: last}, 160)
	all := append(first, rest...)
	gaps := 0
	for i, ev := range all {
		if ev.Seq != uint64(i+1) || !acked[ev.Context] || ev.Table != "t" || ev.PK != "p" || ev.SK != fmt.Sprint(i) || ev.Op != "put" {
			gaps++
		}
		delete(acked, ev.Context)
	}
	t.Logf("SSE: %d events, then %d more after resuming from Last-Event-ID %s: %d out of place, %d acknowledged writes without an event",
		len(first), len(rest), last, gaps, len(acked))
	if gaps != 0 || len(acked) != 0 {
		t.Errorf("want every event once, in order")
	}

	// By default a stream starts with the next event; from_time starts
	// at the first event stored since then.
	got := make(chan *client.FeedEvent, 1)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opened := make(chan struct{})
	go func() {
		close(opened)
		_ = cl.Feed(sctx, "t", client.FeedOptions{}, func(ev *client.FeedEvent) error { got <- ev; return errStop })
	}()
	<-opened
	time.Sleep(200 * time.Millisecond) // the stream is open before the write
	since := time.Now()
	tok, err := cl.Delete(ctx, "t", client.Key{PK: "p", SK: "0"}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev.Op != "delete" || !ev.Deleted || ev.Context != tok || ev.Seq != 201 {
			t.Errorf("newest: %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event on a stream started at the newest")
	}
	if evs := readSSE(t, cl, client.FeedOptions{FromTime: since.Add(-time.Millisecond)}, 1); evs[0].Seq != 201 {
		t.Errorf("from_time: %+v", evs[0])
	}
	// A bad resume point is the client's mistake.
	if err := cl.Feed(ctx, "t", client.FeedOptions{LastEventID: "x"}, nil); !client.IsStatus(err, 400) {
		t.Errorf("bad Last-Event-ID: %v", err)
	}
	if err := cl.Feed(ctx, "nope", client.FeedOptions{}, nil); !client.IsStatus(err, 404) {
		t.Errorf("feed of a missing table: %v", err)
	}
	// So is a misspelt start, which would otherwise stream from the next
	// event on and drop the history asked for without a word.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.Gateways[0].URL+"/v1/tables/t/feed?from=1", nil)
	req.Header.Set("Authorization", "Bearer "+c.TenantKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("?from=1: %s, want 400", resp.Status) // a stream: its body never ends
	}
	if body, _ := io.ReadAll(resp.Body); !strings.Contains(string(body), `unknown query parameter \"from\"`) {
		t.Errorf("?from=1: %s, want the parameter named", body)
	}
}

// A table dropped and created again under its name has a feed of its own:
// the stream's subject is the name, and replaying it must not show the
// old table's items to the new table's readers, as its reads do not.
func TestFeedSSEOfRecreatedTableLeavesOldOnesOut(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	put := func(pk string) string {
		tok, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(`{"secret":"`+pk+`"}`), client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	put("old1")
	put("old2")
	old := readSSE(t, cl, client.FeedOptions{FromSeq: 1}, 2)
	if err := cl.DropTable(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	tok := put("new")
	evs := readSSE(t, cl, client.FeedOptions{FromSeq: 1}, 1)
	if ev := evs[0]; ev.PK != "new" || ev.Context != tok || ev.TableID == old[0].TableID || ev.Seq != 3 {
		t.Errorf("first event of the new table's feed from sequence 1: %+v, want its own write (sequence 3), not the dropped table's", ev)
	}
	// Resuming within the old table's events skips the rest of them too.
	if evs := readSSE(t, cl, client.FeedOptions{LastEventID: "1"}, 1); evs[0].PK != "new" {
		t.Errorf("after Last-Event-ID 1: %+v, want the new table's write", evs[0])
	}
}

// A stream of a table that is dropped ends, saying so: at once if another
// table takes the name and writes, else at the next keep-alive.
func TestFeedSSEEndsWhenTheTableIsDropped(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateway: func(cfg *gateway.Config) { cfg.FeedKeepAlive = 200 * time.Millisecond }})
	ctx := context.Background()
	cl := c.Client(0)
	for _, recreate := range []bool{false, true} {
		if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
			t.Fatal(err)
		}
		ended := make(chan error, 1)
		opened := make(chan struct{})
		go func() {
			close(opened)
			ended <- cl.Feed(ctx, "t", client.FeedOptions{}, func(ev *client.FeedEvent) error {
				return fmt.Errorf("event %+v of another table", ev)
			})
		}()
		<-opened
		time.Sleep(100 * time.Millisecond) // the stream is open before the drop
		if err := cl.DropTable(ctx, "t"); err != nil {
			t.Fatal(err)
		}
		if recreate {
			if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
				t.Fatal(err)
			}
			if _, err := cl.Put(ctx, "t", client.Key{PK: "new"}, []byte(`{}`), client.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case err := <-ended:
			var fe *client.FeedError
			if !errors.As(err, &fe) || fe.Code != "table_dropped" || fe.Message != `table "t" was dropped` {
				t.Errorf("recreated %v: stream ended with %v, want table_dropped", recreate, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("recreated %v: the stream of a dropped table is still open", recreate)
		}
		if recreate {
			if err := cl.DropTable(ctx, "t"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The stamper publishes a write's event before the write is acknowledged:
// a coordinating gateway that goes away right after the round changes
// nothing.
func TestFeedEventSurvivesGatewayDeath(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateways: 2})
	ctx := context.Background()
	if _, err := c.Client(0).CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.Client(0).Put(ctx, "t", client.Key{PK: fmt.Sprint(i)}, []byte(`{}`), client.Options{})
			if err == nil {
				mu.Lock()
				acked[tok] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	c.StopGateway(0)
	evs := readSSE(t, c.Client(1), client.FeedOptions{FromSeq: 1}, len(acked))
	for _, ev := range evs {
		delete(acked, ev.Context)
	}
	t.Logf("gateway 0 stopped after its rounds: %d events read through gateway 1, %d acknowledged writes without one", len(evs), len(acked))
	if len(acked) != 0 {
		t.Errorf("acknowledged writes without an event")
	}
}

// A tenant may keep a bounded number of change feed streams open at a
// gateway; past it a stream is refused with 429 too_many_feeds, another
// tenant's are not, and closing one makes room.
func TestFeedStreamsPerTenantAreBounded(t *testing.T) {
	var gather prometheus.Gatherer
	c := testcluster.New(t, testcluster.Options{Gateway: func(cfg *gateway.Config) {
		cfg.MaxFeedsPerTenant = 2
		gather = cfg.Gatherer
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	var open []io.Closer
	defer func() {
		for _, b := range open {
			b.Close()
		}
	}()
	for range 2 {
		body, err := cl.OpenFeed(ctx, "t", client.FeedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, body)
	}
	_, err := cl.OpenFeed(ctx, "t", client.FeedOptions{})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 429 || ce.Code != "too_many_feeds" {
		t.Fatalf("a third stream: %v, want 429 too_many_feeds", err)
	}
	_, otherKey := c.NewTenant("other")
	other := c.ClientWithKey(0, otherKey)
	mustCreate(t, other, client.Table{Name: "t", PartitionKey: "id"})
	body, err := other.OpenFeed(ctx, "t", client.FeedOptions{})
	if err != nil {
		t.Fatalf("another tenant's stream: %v", err)
	}
	open = append(open, body)
	if n := testcluster.MetricValue(t, gather, "ringtable_gateway_feed_streams_open"); n != 3 {
		t.Errorf("ringtable_gateway_feed_streams_open = %v, want 3", n)
	}
	open[0].Close()
	testcluster.WaitFor(t, 10*time.Second, "a stream after one closed", func() bool {
		body, err := cl.OpenFeed(ctx, "t", client.FeedOptions{})
		if err == nil {
			open = append(open, body)
		}
		return err == nil
	})
}

// A stream lasts longer than the check of its key when it opened: a key
// revoked, or its tenant deleted, ends the stream, busy or idle.
func TestFeedSSEEndsWhenItsKeyIsRevoked(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateway: func(cfg *gateway.Config) { cfg.FeedKeepAlive = 200 * time.Millisecond }})
	ctx := context.Background()
	if _, err := c.Client(0).CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	admin := c.Admin(0)
	tenants, err := admin.ListTenants(ctx)
	if err != nil || len(tenants) != 1 {
		t.Fatalf("tenants: %v %v", tenants, err)
	}
	for _, how := range []string{"key revoked", "tenant deleted"} {
		nk, err := admin.CreateKey(ctx, tenants[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var seen []string
		ended := make(chan error, 1)
		go func() {
			ended <- c.ClientWithKey(0, nk.APIKey).Feed(ctx, "t", client.FeedOptions{}, func(ev *client.FeedEvent) error {
				mu.Lock()
				seen = append(seen, ev.PK)
				mu.Unlock()
				return nil
			})
		}()
		// Events flow to the stream while the key goes.
		stop := make(chan struct{})
		writes := make(chan int)
		go func() {
			n := 0
			defer func() { writes <- n }()
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				n++
				if _, err := c.Client(0).Put(ctx, "t", client.Key{PK: fmt.Sprintf("%s-%d", how, n)}, []byte(`{}`), client.Options{}); err != nil && how == "key revoked" {
					t.Error(err)
				}
			}
		}()
		testcluster.WaitFor(t, 10*time.Second, "events on the stream", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) > 3
		})
		if how == "key revoked" {
			err = admin.RevokeKey(ctx, tenants[0].ID, nk.KeyID)
		} else {
			err = admin.DeleteTenant(ctx, tenants[0].ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-ended:
			var fe *client.FeedError
			if !errors.As(err, &fe) || fe.Code != "unauthorized" {
				t.Errorf("%s: stream ended with %v, want unauthorized", how, err)
			}
		case <-time.After(10 * time.Second):
			close(stop)
			<-writes
			mu.Lock()
			t.Fatalf("%s: the stream is still open, %d events after", how, len(seen))
		}
		close(stop)
		t.Logf("%s: %d writes, the stream ended after %d events", how, <-writes, len(seen))
	}
}
