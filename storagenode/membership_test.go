package storagenode_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/storagenode"
	"github.com/ringtable/ringtable/tenants"
)

// load writes fresh keys until stop is closed and returns the keys whose
// writes were acknowledged.
func load(t *testing.T, cl *client.Client, table, prefix string, stop <-chan struct{}) func() []string {
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	var n atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("%s%06d", prefix, n.Add(1))
				if _, err := cl.Put(context.Background(), table, client.Key{PK: k}, []byte(`{"v":"`+k+`"}`), client.Options{}); err == nil {
					mu.Lock()
					acked = append(acked, k)
					mu.Unlock()
				}
			}
		}()
	}
	return func() []string { wg.Wait(); return acked }
}

func settled(c *testcluster.Cluster, members int) func() bool {
	return func() bool {
		st := c.Gateways[0].GW.Members()
		active := 0
		for _, m := range st.Members {
			if m.Status == membership.Active {
				active++
			}
		}
		return !st.Transitioning() && active == members
	}
}

func checkAll(t *testing.T, cl *client.Client, table string, keys []string) {
	t.Helper()
	for _, k := range keys {
		it, err := cl.Get(context.Background(), table, client.Key{PK: k}, client.Options{R: 3})
		if err != nil || len(it.Items) != 1 || string(it.Items[0].Value) != `{"v":"`+k+`"}` {
			t.Fatalf("acknowledged key %s with R=N: %v %v", k, it, err)
		}
	}
}

// Reference: Dynamo §4.9 (adding and removing nodes). A sixth node joins
// under a steady write load and a node leaves under load: no acknowledged
// write is lost.
func TestJoinAndLeaveUnderLoad(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Nodes: 5})
	cl := c.Client(0)
	if _, err := cl.CreateTable(context.Background(), client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	before := c.Gateways[0].GW.Ring()
	stop := make(chan struct{})
	wait := load(t, cl, "t", "join", stop)
	time.Sleep(300 * time.Millisecond)
	c.AddNode("n6", "n1")
	testcluster.WaitFor(t, 30*time.Second, "n6 to join", settled(c, 6))
	close(stop)
	acked := wait()
	after := c.Gateways[0].GW.Ring()
	moved := 0
	for p := range before.Q() {
		if before.Owner(uint32ToPart(p)) != after.Owner(uint32ToPart(p)) {
			moved++
			if after.Owner(uint32ToPart(p)) != "n6" {
				t.Fatalf("partition %d moved to %s, not to the new node", p, after.Owner(uint32ToPart(p)))
			}
		}
	}
	t.Logf("join: %d acknowledged writes during the join; %d of %d partitions (%.1f%%) moved to n6", len(acked), moved, before.Q(), 100*float64(moved)/float64(before.Q()))
	if float64(moved)/float64(before.Q()) > 1.0/6+0.03 {
		t.Fatalf("%d partitions moved", moved)
	}
	checkAll(t, cl, "t", acked)

	stop = make(chan struct{})
	wait = load(t, cl, "t", "leave", stop)
	time.Sleep(300 * time.Millisecond)
	if err := c.Node("n3").Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, 30*time.Second, "n3 to leave", func() bool {
		st := c.Gateways[0].GW.Members()
		return !st.Transitioning() && st.Members["n3"].Status == membership.Left
	})
	close(stop)
	acked2 := wait()
	c.Stop("n3")
	for _, m := range c.Node("n1").Status().Members {
		if m.ID == "n3" && m.Reachable != nil {
			t.Errorf("n3 left and stopped, yet n1's status says reachable=%v", *m.Reachable)
		}
	}
	t.Logf("leave: %d acknowledged writes during the leave", len(acked2))
	checkAll(t, cl, "t", append(acked, acked2...))
}

// A member that leaves is taken out of the bus's clustering by each
// active node, once it has left and once only; nobody does that to an
// active member.
func TestDepartedMemberRemovedFromBus(t *testing.T) {
	var mu sync.Mutex
	calls := map[string][]string{} // node → members it removed
	c := testcluster.New(t, testcluster.Options{Nodes: 4, Node: func(cfg *storagenode.Config) {
		id := cfg.ID
		cfg.RemoveFromBus = func(_ context.Context, member string) error {
			mu.Lock()
			defer mu.Unlock()
			calls[id] = append(calls[id], member)
			return nil
		}
	}})
	time.Sleep(3 * time.Second) // several gossip periods with nobody departed
	mu.Lock()
	if len(calls) != 0 {
		t.Fatalf("removed from the bus with no member departed: %v", calls)
	}
	mu.Unlock()
	if err := c.Node("n4").Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, 30*time.Second, "n1, n2 and n3 to remove n4 from the bus", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range []string{"n1", "n2", "n3"} {
			if len(calls[id]) == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(3 * time.Second) // more gossip periods: done is done
	mu.Lock()
	defer mu.Unlock()
	for id, members := range calls {
		if id == "n4" || len(members) != 1 || members[0] != "n4" {
			t.Fatalf("removals: %v (want n4 once by each of n1, n2, n3)", calls)
		}
	}
}

// A leaving node completes its leave only once the change events in its
// outbox are in the feed stream: nobody else publishes them, and a node
// that has left is stopped. While its stream is out of reach (here: its
// publisher held) it stays leaving, and the leave completes once they are
// published.
func TestLeaveWaitsForTheOutbox(t *testing.T) {
	var hold atomic.Bool
	c := testcluster.New(t, testcluster.Options{Nodes: 4, Node: func(cfg *storagenode.Config) {
		if cfg.ID == "n4" {
			cfg.Feed.HoldOutbox = hold.Load()
		}
	}})
	hold.Store(true)
	c.Stop("n4")
	c.Start("n4")
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	log := readFeed(t, c, "t")
	held := keysStampedBy(c, "n4", 20)
	for _, pk := range held {
		if _, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Node("n4").FeedBacklog(); err != nil || n != len(held) {
		t.Fatalf("n4's outbox holds %d events (%v), want %d", n, err, len(held))
	}
	if err := c.Node("n4").Leave(ctx); err != nil {
		t.Fatal(err)
	}
	status := func() membership.Status { return c.Gateways[0].GW.Members().Members["n4"].Status }
	testcluster.WaitFor(t, 30*time.Second, "every member ready for the ring without n4", func() bool {
		return c.Gateways[0].GW.Members().AllReady()
	})
	time.Sleep(3 * time.Second) // several gossip periods
	if s := status(); s != membership.Leaving {
		t.Fatalf("n4 is %v with %d change events unpublished, want leaving", s, len(held))
	}
	if n := log.count(); n != 0 {
		t.Fatalf("%d events in the stream while n4 holds them", n)
	}
	if w := c.Node("n4").Status().Leave; w == nil || w.Events != len(held) || w.Hints != 0 {
		t.Fatalf("n4's status says its leave waits for %+v, want %d events", w, len(held))
	}

	hold.Store(false)
	c.Stop("n4")
	c.Start("n4")
	testcluster.WaitFor(t, 30*time.Second, "n4 to leave", func() bool { return status() == membership.Left })
	testcluster.WaitFor(t, 10*time.Second, "n4's events in the stream", func() bool { return log.count() == len(held) })
	for _, pk := range held {
		if log.pks[pk] != 1 {
			t.Errorf("%d events of %s", log.pks[pk], pk)
		}
	}
}

// hintCount is how many hinted keys a node holds.
func hintCount(t *testing.T, c *testcluster.Cluster, node string) int {
	t.Helper()
	n, err := c.Node(node).Engine().Count([]byte{byte(tenants.KindHint)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A node that has left takes no writes, and a hint held for it goes to the
// key's replicas in the ring without it, and is then dropped: kept for the
// departed member, it would never be delivered.
func TestHintsOfADepartedMemberGoToItsReplicas(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Nodes: 4})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Put(ctx, "t", client.Key{PK: "src"}, []byte(`{"v":1}`), client.Options{W: 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.Node("n4").Leave(ctx); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, 30*time.Second, "n4 to leave", func() bool {
		return c.Gateways[0].GW.Members().Members["n4"].Status == membership.Left
	})
	src := c.ItemKey(c.TenantID, "t", "src", "")
	set, err := c.ReadReplica(c.Replicas(src, 3)[0], src)
	if err != nil || len(set) != 1 {
		t.Fatalf("src: %v %v", set, err)
	}
	// Left, n4 takes no writes from a coordinator that has not seen it
	// leave: they would count towards a quorum on a node about to stop.
	if err := c.Replicate("n4", src, set); err == nil || !strings.Contains(err.Error(), "has left the ring") {
		t.Fatalf("a write to n4 after it left: %v, want it refused", err)
	}
	c.Stop("n4")
	// A version owed to n4 for a key nobody else has, held by n1.
	k := c.ItemKey(c.TenantID, "t", "owed", "")
	if err := c.Hint("n1", "n4", k, set); err != nil {
		t.Fatal(err)
	}
	replicas := c.Replicas(k, 3)
	testcluster.WaitFor(t, 15*time.Second, "the hint on the key's replicas "+strings.Join(replicas, ", "), func() bool {
		for _, r := range replicas {
			if s, err := c.ReadReplica(r, k); err != nil || len(s) != 1 {
				return false
			}
		}
		return hintCount(t, c, "n1") == 0
	})
	if it, err := cl.Get(ctx, "t", client.Key{PK: "owed"}, client.Options{R: 3}); err != nil || len(it.Items) != 1 {
		t.Fatalf("the owed item read with R=3: %v %v", it, err)
	}
}

// A leaving node completes its leave only once it delivered the hints it
// holds: nobody else would.
func TestLeaveWaitsForHints(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Nodes: 4, Node: func(cfg *storagenode.Config) {
		if cfg.ID == "n4" {
			cfg.HintRate = 0.2 // one hint every 5 s
		}
	}})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	c.Stop("n1")
	// Keys n1 replicates and n4 does not: n4 is their first fallback.
	var owed []string
	for i := 0; len(owed) < 10; i++ {
		pk := fmt.Sprintf("k%d", i)
		r := c.Replicas(c.ItemKey(c.TenantID, "t", pk, ""), 3)
		if slices.Contains(r, "n1") && !slices.Contains(r, "n4") {
			owed = append(owed, pk)
		}
	}
	for _, pk := range owed {
		if _, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := hintCount(t, c, "n4"); n < 3 {
		t.Fatalf("n4 holds %d hints for n1, want the writes' %d", n, len(owed))
	}
	if err := c.Node("n4").Leave(ctx); err != nil {
		t.Fatal(err)
	}
	c.Start("n1")
	status := func() membership.Status { return c.Gateways[0].GW.Members().Members["n4"].Status }
	testcluster.WaitFor(t, 30*time.Second, "every member ready for the ring without n4", func() bool {
		return c.Gateways[0].GW.Members().AllReady()
	})
	time.Sleep(3 * time.Second) // gossip periods
	if s, n := status(), hintCount(t, c, "n4"); s != membership.Leaving || n == 0 {
		t.Fatalf("n4 is %v holding %d hints; want leaving, with hints still to deliver at its rate", s, n)
	}
	if w := c.Node("n4").Status().Leave; w == nil || w.Hints == 0 {
		t.Fatalf("n4's status says its leave waits for %+v, want hints", w)
	}
	if w := c.Node("n1").Status().Leave; w != nil {
		t.Fatalf("n1, not leaving, says a leave waits for %+v", w)
	}
	if err := c.Admin(0).AdminCall(ctx, "PUT", "/v1/admin/limits", map[string]any{"hints_per_sec": 1000}, nil); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, 30*time.Second, "n4 to deliver its hints and leave", func() bool {
		return status() == membership.Left && hintCount(t, c, "n4") == 0
	})
	if w := c.Node("n4").Status().Leave; w != nil {
		t.Fatalf("n4 has left and says its leave waits for %+v", w)
	}
	for _, pk := range owed {
		if s, err := c.ReadReplica("n1", c.ItemKey(c.TenantID, "t", pk, "")); err != nil || len(s) != 1 {
			t.Fatalf("n1 lacks %s after n4 left: %v %v", pk, s, err)
		}
	}
}
