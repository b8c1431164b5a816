package storagenode_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/storagenode"
)

// A reserve larger than any disk has free: the node is always short of
// space, on the real file system of its directory.
const wholeDisk = math.MaxInt64

// A node short of disk space refuses new values, and the quorum is met by
// the others; the item is not stored on it.
func TestNodeShortOfDiskRefusesValues(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Node: func(cfg *storagenode.Config) {
		if cfg.ID == "n1" {
			cfg.MinFreeDisk = wholeDisk
		}
	}})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if _, err := cl.Put(ctx, "t", client.Key{PK: k}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatalf("put %s with n1 short of disk: %v", k, err)
		}
		set, err := c.ReadReplica("n1", c.ItemKey(c.TenantID, "t", k, ""))
		if err != nil {
			t.Fatal(err)
		}
		if len(set) != 0 {
			t.Fatalf("n1, short of disk, stored %s: %v", k, set)
		}
	}
}

// When every node is short of space, a new value is refused, saying why,
// while deletes and the cluster's own writes (dropping a table, which is
// how space is freed) go on.
func TestEveryNodeShortOfDisk(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Node: func(cfg *storagenode.Config) { cfg.MinFreeDisk = wholeDisk }})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatalf("creating a table with every node short of disk: %v", err)
	}
	_, err := cl.Put(ctx, "t", client.Key{PK: "a"}, []byte(`{"v":1}`), client.Options{})
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 503 || !strings.Contains(ae.Message, "disk nearly full") {
		t.Fatalf("put with every node short of disk: %v, want 503 saying the disk is nearly full", err)
	}
	if _, err := cl.Delete(ctx, "t", client.Key{PK: "a"}, client.Options{}); err != nil {
		t.Fatalf("delete with every node short of disk: %v", err)
	}
	if err := cl.DropTable(ctx, "t"); err != nil {
		t.Fatalf("drop with every node short of disk: %v", err)
	}
}
