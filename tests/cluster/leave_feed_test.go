//go:build chaos

package cluster

// Behind the chaos tag: four node processes, a leave, a kill and the
// elections that follow take a minute or more on a loaded machine; run it
// with go test -tags chaos -run TestFeedAfterALeaveAndAFailure ./tests/cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
)

// A node that leaves takes its NATS server out of JetStream's quorum. Of
// four nodes, one leaves and stops and another is killed: the two left
// are a quorum of three, so a feed stream can still be opened (its
// consumer needs JetStream's metadata leader) and carries every event.
// With the departed server still counted, two of four would elect no
// leader and the stream could not start.
func TestFeedAfterALeaveAndAFailure(t *testing.T) {
	c := newCluster(t)
	bootstrap(t, c, 4)
	g := c.addGateway("n1", "n2")
	cl := c.tenant(g)
	ctx := context.Background()
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	write := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := cl.Put(ctx, "t", client.Key{PK: fmt.Sprint(i)}, []byte(`{}`), client.Options{}); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
	}
	write(0, 20)
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := client.New(g.base(), nil).WithAPIKey(c.adminKey).AdminCall(actx, "POST", "/v1/admin/nodes/n4/leave", nil, nil)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "n4 to leave", func() bool { return c.converged(3, "n1", "n2", "n3") })
	// The active nodes remove it within a gossip period or two.
	waitFor(t, 30*time.Second, "n4 out of JetStream's cluster", func() bool {
		return strings.Contains(c.nodes["n1"].log.String(), `"departed member removed from the bus's cluster" node=n1 member=n4`)
	})
	c.nodes["n4"].stop()
	// The feed stream's copy on n4 moves to a remaining server (a copy of
	// the stream, as long as that takes) before another one fails.
	feeds := c.feedStream(t, "n1", "n2")
	var last any // the stream's last state seen, for a failure's log
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the feed stream, last seen: %+v", last)
		}
	})
	waitFor(t, 60*time.Second, "the feed stream's three copies current on n1, n2 and n3", func() bool {
		i, err := feeds.Info(ctx)
		if last = err; err == nil {
			last = *i
		}
		return err == nil && len(i.Copies) == 3 && len(i.Current) == 3 && !slices.Contains(i.Copies, "n4")
	})
	// The first writes' events, n4's among them (its leave waited for
	// them), are in the stream before n3 fails; a killed node's outbox
	// is published only when it is back.
	waitFor(t, 30*time.Second, "the first 20 events in the stream", func() bool {
		i, err := feeds.Info(ctx)
		return err == nil && i.Events == 20
	})
	c.nodes["n3"].kill()
	write(20, 40)
	seen := map[string]bool{}
	fctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var errDone = fmt.Errorf("done")
	for len(seen) < 40 && fctx.Err() == nil {
		err := cl.Feed(fctx, "t", client.FeedOptions{FromSeq: 1}, func(ev *client.FeedEvent) error {
			seen[ev.PK] = true
			if len(seen) == 40 {
				return errDone
			}
			return nil
		})
		if err != errDone {
			t.Logf("feed: %v", err)
			time.Sleep(time.Second)
		}
	}
	if len(seen) < 40 {
		for _, id := range []string{"n1", "n2"} {
			t.Logf("%s:\n%s", id, tail(c.nodes[id].log.String(), 40))
		}
		if i, err := feeds.Info(ctx); err == nil {
			t.Logf("the stream: %+v", *i)
		}
		t.Fatalf("with n4 gone and n3 killed the feed gave %d of 40 events", len(seen))
	}
}
