package storagenode_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// A dropped table's items never come back: the hints held for a stopped
// replica are purged with the items (they were left behind and delivered
// once it was back), and writes that arrive after the purge (a forward, a
// read repair, a hint on its way) are not stored.
func TestDroppedTableStaysDropped(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{
		Nodes:   5,
		Gateway: func(cfg *gateway.Config) { cfg.PurgeGrace, cfg.PurgeInterval = 0, 200*time.Millisecond },
	})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	pks, keys := keysWith(c, "t", "n3", 20)
	c.Stop("n3")
	for _, pk := range pks {
		if _, err := cl.Put(ctx, "t", client.Key{PK: pk}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	testcluster.WaitFor(t, 5*time.Second, "hints for n3", func() bool { return hintsPending(c) >= len(pks) })
	table := keys[0].Table
	// count counts the keys of the table's items (hints: held for
	// anyone) on one node; the cluster's own items are left out.
	count := func(id string, kind tenants.Kind) int {
		n := 0
		err := c.Node(id).Engine().DB().View(func(txn *badger.Txn) error {
			opts := badger.DefaultIteratorOptions
			opts.Prefix, opts.PrefetchValues = []byte{byte(kind)}, false
			it := txn.NewIterator(opts)
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				k, err := tenants.Decode(it.Item().Key())
				if kind == tenants.KindHint {
					_, k, err = tenants.DecodeHintKey(it.Item().Key())
				}
				if err == nil && k.Table == table {
					n++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	items := func(id string) int { return count(id, tenants.KindData) }
	hints := func() int {
		n := 0
		for _, id := range c.NodeIDs {
			if c.Node(id) != nil {
				n += count(id, tenants.KindHint)
			}
		}
		return n
	}
	if n := hints(); n < len(pks) {
		t.Fatalf("%d hints for n3, want %d", n, len(pks))
	}

	if err := cl.DropTable(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	running := []string{"n1", "n2", "n4", "n5"}
	testcluster.WaitFor(t, 10*time.Second, "the table's items and hints purged", func() bool {
		for _, id := range running {
			if items(id) != 0 {
				return false
			}
		}
		return hints() == 0
	})

	// Late writes: each is answered, none is kept.
	late := vclock.Set{{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n9~1", Counter: 1}}, Value: []byte(`{"v":2}`)}}
	if err := c.Replicate("n1", keys[0], late); err != nil {
		t.Errorf("a late replicate: %v, want it answered", err)
	}
	if err := c.Hint("n2", "n3", keys[1], late); err != nil {
		t.Errorf("a late hint: %v, want it answered", err)
	}
	var we *wire.Error
	if err := c.Stamp("n4", keys[2], []byte(`{"v":3}`)); !errors.As(err, &we) || we.Code != wire.CodeNotFound {
		t.Errorf("a put to a dropped table: %v, want %v", err, wire.CodeNotFound)
	}
	for _, id := range running {
		if n := items(id); n != 0 {
			t.Errorf("%s holds %d items of the dropped table after late writes", id, n)
		}
	}
	if n := hints(); n != 0 {
		t.Errorf("%d hints of the dropped table held after a late hint", n)
	}

	// n3 back: it gets the purge and no hint; nothing of the table anywhere.
	c.Start("n3")
	testcluster.WaitFor(t, 10*time.Second, "n3 to have the purge", func() bool {
		// Stored until n3 has the purge, which drops it.
		err := c.Stamp("n3", keys[3], []byte(`{"v":4}`))
		return errors.As(err, &we) && we.Code == wire.CodeNotFound
	})
	time.Sleep(2 * time.Second) // hint deliveries, were any left
	for _, id := range c.NodeIDs {
		if n := items(id); n != 0 {
			t.Errorf("%s holds %d items of the dropped table", id, n)
		}
	}
}
