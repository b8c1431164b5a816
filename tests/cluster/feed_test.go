package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ringtable/ringtable/feed"
	"github.com/ringtable/ringtable/gateway/client"
)

// Change feeds on a NATS cluster made of the nodes' embedded servers:
// JetStream runs clustered with the feed stream on all three servers, a
// tenant's account (pushed through one server) is known to the others,
// and when a node is killed its peers go on storing and delivering every
// event exactly once.
func TestFeedOnClusteredJetStream(t *testing.T) {
	c := newCluster(t)
	ids := bootstrap(t, c, 3)
	g := c.addGateway("n1", "n2")
	cl := c.tenant(g)
	ctx := context.Background()
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	// The cluster's own view of the feed stream.
	feeds := c.feedStream(t, ids...)
	waitFor(t, 90*time.Second, "the feed stream on three servers", func() bool {
		i, err := feeds.Info(ctx)
		return err == nil && i.Replicas == 3
	})

	admin := client.New(g.base(), nil).WithAPIKey(c.adminKey)
	ts, err := admin.ListTenants(ctx)
	if err != nil || len(ts) != 1 {
		t.Fatalf("tenants: %v %v", ts, err)
	}
	fc, err := admin.FeedCredentials(ctx, ts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(c.dir, "tenant.creds")
	if err := os.WriteFile(creds, []byte(fc.Creds), 0o600); err != nil {
		t.Fatal(err)
	}
	// The tenant reads through n3's server; its account was pushed
	// through n1's.
	nc, err := nats.Connect(c.nodes["n3"].url(), nats.UserCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	seen := map[string]int{}
	if _, err := nc.Subscribe(fc.Subject, func(m *nats.Msg) {
		if ev, err := feed.Decode(m.Data); err == nil {
			mu.Lock()
			seen[ev.ID]++
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	events := func() (n, dups int) {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range seen {
			n += k
			dups += k - 1
		}
		return n, dups
	}
	write := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := cl.Put(ctx, "t", client.Key{PK: fmt.Sprint(i)}, []byte(`{}`), client.Options{}); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
	}
	write(0, 200)
	waitFor(t, 30*time.Second, "200 events", func() bool { n, _ := events(); return n >= 200 })

	c.nodes["n2"].kill()
	write(200, 400)
	waitFor(t, 60*time.Second, "400 events with n2 killed", func() bool { n, _ := events(); return n >= 400 })
	time.Sleep(500 * time.Millisecond)
	n, dups := events()
	var stored uint64
	waitFor(t, 30*time.Second, "the cluster's stream to answer with n2 killed", func() bool {
		i, err := feeds.Info(ctx)
		if err == nil {
			stored = i.Events
		}
		return err == nil
	})
	// The tenant's own stream is fed by the live feed: it keeps what it
	// received while it had a leader.
	js, _ := jetstream.New(nc)
	var kept uint64
	var keptErr error
	deadline := time.Now().Add(20 * time.Second)
	for kept < 400 && time.Now().Before(deadline) {
		var s jetstream.Stream
		if s, keptErr = js.Stream(ctx, fc.Stream); keptErr == nil {
			var i *jetstream.StreamInfo
			if i, keptErr = s.Info(ctx); keptErr == nil {
				kept = i.State.Msgs
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("3 nodes, feed stream on 3 JetStream servers; 400 writes (200 after n2 was killed): the cluster's stream holds %d events, the tenant got %d through n3's server (%d duplicates), its own stream keeps %d (%v)",
		stored, n, dups, kept, keptErr)
	if n != 400 || dups != 0 || stored != 400 {
		t.Errorf("want 400 events, once each")
	}
}
