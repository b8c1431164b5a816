package storagenode_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/storagenode"
	"github.com/ringtable/ringtable/tenants"
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
	// Anti-entropy finds n1 lacking them and repairs nothing into it.
	if err := c.Node("n1").Repair(ctx); err == nil || !strings.Contains(err.Error(), "disk nearly full") {
		t.Fatalf("repair on n1 short of disk: %v, want it refused as the disk is nearly full", err)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if set, err := c.ReadReplica("n1", c.ItemKey(c.TenantID, "t", k, "")); err != nil || len(set) != 0 {
			t.Fatalf("n1, short of disk, was repaired with %s: %v %v", k, set, err)
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

// A joining node short of disk space pulls no partition's items: its
// transfers wait, saying why, and it stays joining. Restarted with room,
// it pulls them and joins.
func TestJoinShortOfDiskWaits(t *testing.T) {
	var short atomic.Bool
	c := testcluster.New(t, testcluster.Options{Node: func(cfg *storagenode.Config) {
		if cfg.ID == "n4" && short.Load() {
			cfg.MinFreeDisk = wholeDisk
		}
	}})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := cl.Put(ctx, "t", client.Key{PK: fmt.Sprint(i)}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	items := func() int {
		n, err := c.Node("n4").Engine().Count([]byte{byte(tenants.KindData)})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	status := func() membership.Status { return c.Gateways[0].GW.Members().Members["n4"].Status }
	short.Store(true)
	c.AddNode("n4", "n1")
	testcluster.WaitFor(t, 30*time.Second, "n4's transfers to wait for room", func() bool {
		for _, x := range c.Node("n4").Status().Transfers {
			if strings.HasPrefix(x.Err, "paused: ") && strings.Contains(x.Err, "disk nearly full") {
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second) // gossip periods: a join that went on would be done
	if s, n := status(), items(); s != membership.Joining || n != 0 {
		t.Fatalf("n4, short of disk, is %v holding %d items; want joining, none", s, n)
	}

	short.Store(false)
	c.Stop("n4")
	c.Start("n4")
	testcluster.WaitFor(t, 30*time.Second, "n4 to join", func() bool { return status() == membership.Active })
	if n := items(); n == 0 {
		t.Fatal("n4 joined with room and holds no items")
	}
}
