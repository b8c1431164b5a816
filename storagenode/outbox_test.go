package storagenode_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// An outbox entry that refers to its item for the value (outbox.go) is
// resolved at restart, or rewritten whole when a later write drops its
// version first; one whose event was stored before the version was
// dropped is cleared at restart. Every version's event reaches the
// stream once, with its own value.
func TestOutboxEntriesReferToItems(t *testing.T) {
	c, mode, metric := outboxCluster(t)
	value := func(pk string, i int) string {
		return fmt.Sprintf(`{"pk":%q,"i":%d,"pad":%q}`, pk, i, strings.Repeat("x", 200))
	}
	ctx := context.Background()
	cl := c.Client(0)
	put := func(pk string, i int, vctx string) string {
		t.Helper()
		tok, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(value(pk, i)), client.Options{Context: vctx})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	backlog := func(want int) func() bool {
		return func() bool {
			n, err := c.Node("n1").FeedBacklog()
			return err == nil && n == want
		}
	}

	// n1 stamps and never publishes, as if it crashed each time before
	// its PubAcks; half of its keys are written a second time, dropping
	// the first version while its event waits in the outbox.
	mode.Store(1)
	c.Stop("n1")
	c.Start("n1")
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	log := readFeed(t, c, "t")
	keys := keysStampedBy(c, "n1", 40)
	held, later := keys[:20], keys[20:]
	want := map[string][]string{}
	for i, pk := range held {
		tok := put(pk, 1, "")
		want[pk] = []string{value(pk, 1)}
		if i%2 == 0 {
			put(pk, 2, tok)
			want[pk] = append(want[pk], value(pk, 2))
		}
	}
	if n := metric("ringtable_node_feed_entries_rewritten_total"); n != float64(len(held)/2) {
		t.Fatalf("%v outbox entries rewritten whole, want the %d whose versions the second writes dropped", n, len(held)/2)
	}
	if n, err := c.Node("n1").FeedBacklog(); err != nil || n != len(held)*3/2 {
		t.Fatalf("n1's outbox holds %d events (%v), want %d", n, err, len(held)*3/2)
	}

	// Restarted, it publishes them all, each with its own value, and
	// keeps the entries as if it crashed again after the PubAcks. Its
	// new writes refer to their items too; overwriting them after their
	// events were stored rewrites nothing.
	mode.Store(2)
	c.Stop("n1")
	c.Start("n1")
	testcluster.WaitFor(t, 10*time.Second, "the held events", func() bool { return log.count() == len(held)*3/2 })
	for _, pk := range later {
		tok := put(pk, 1, "")
		testcluster.WaitFor(t, 5*time.Second, "the event of "+pk, func() bool {
			log.mu.Lock()
			defer log.mu.Unlock()
			return log.pks[pk] == 1
		})
		put(pk, 2, tok)
		want[pk] = []string{value(pk, 1), value(pk, 2)}
	}
	testcluster.WaitFor(t, 10*time.Second, "every event", func() bool { return log.count() == len(held)*3/2+2*len(later) })
	if n := metric("ringtable_node_feed_entries_rewritten_total"); n != 0 {
		t.Errorf("%v entries rewritten after their events were stored, want 0", n)
	}

	// Restarted normally: the kept entries of versions still stored are
	// published again (and dropped by the stream as duplicates); those of
	// dropped versions are cleared. The outbox empties.
	mode.Store(0)
	c.Stop("n1")
	c.Start("n1")
	testcluster.WaitFor(t, 10*time.Second, "n1's outbox emptied", backlog(0))
	time.Sleep(300 * time.Millisecond) // a republished duplicate would have arrived
	dups := log.duplicates()
	log.mu.Lock()
	defer log.mu.Unlock()
	t.Logf("%d events in the stream, %d duplicates, for %d versions", log.n, dups, len(held)*3/2+2*len(later))
	for pk, vals := range want {
		if !slices.Equal(log.vals[pk], vals) {
			t.Errorf("events of %s carry %q, want %q", pk, log.vals[pk], vals)
		}
	}
	if log.n != len(held)*3/2+2*len(later) {
		t.Errorf("%d events, want %d", log.n, len(held)*3/2+2*len(later))
	}
}
