package storagenode

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/ringtable/ringtable/messaging/wire"
)

// diskGuard keeps a reserve of free space on the data directory's file
// system. Badger writes its tables through memory mappings, so on a full
// file system a memtable flush faults (SIGBUS) and the whole process dies;
// a node that refuses new values while free space is under the reserve
// leaves room for the flushes and compactions of what it took. Deletes
// are still taken, and so are the cluster's own small items (its catalog,
// tenants and keys, purges): they are how space is freed, by deleting
// items or dropping a table. Partitions pulled by a joining node wait for
// room, and anti-entropy repairs no new values into the node meanwhile;
// hints are written, and delivered, as the writes they stand for.
type diskGuard struct {
	node, dir string
	reserve   uint64 // 0: no reserve
	log       *slog.Logger

	free atomic.Uint64 // bytes available to the node at the last check
	low  atomic.Bool
}

// diskCheckEvery is how often free space is looked at: a statfs is cheap,
// and a second at any write rate a node sustains is far less than the
// reserve.
const diskCheckEvery = time.Second

func newDiskGuard(node, dir string, reserve int64, log *slog.Logger) (*diskGuard, error) {
	d := &diskGuard{node: node, dir: dir, reserve: uint64(reserve), log: log}
	if err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

// gauge reports the free space last seen.
func (d *diskGuard) gauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ringtable_node_disk_free_bytes", Help: "Free space on the node's data directory's file system (new values are refused below the reserve).",
		ConstLabels: prometheus.Labels{"node": d.node},
	}, func() float64 { return float64(d.free.Load()) })
}

// check looks at the free space and logs a change between enough and low.
func (d *diskGuard) check() error {
	var st unix.Statfs_t
	if err := unix.Statfs(d.dir, &st); err != nil {
		return fmt.Errorf("storagenode: free space of %s: %w", d.dir, err)
	}
	free := st.Bavail * uint64(st.Bsize)
	d.free.Store(free)
	low := free < d.reserve
	if d.low.Swap(low) != low {
		if low {
			d.log.Error("disk nearly full: new values are refused, partition transfers and repairs wait", "dir", d.dir, "free", humanize.IBytes(free), "reserve", humanize.IBytes(d.reserve))
		} else {
			d.log.Info("disk space above the reserve again: new values are taken, transfers and repairs go on", "dir", d.dir, "free", humanize.IBytes(free))
		}
	}
	return nil
}

func (d *diskGuard) loop(ctx context.Context) {
	t := time.NewTicker(diskCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.check(); err != nil {
				d.log.Warn("free space unknown", "err", err)
			}
		}
	}
}

// waitRoom returns once free space is above the reserve, calling paused
// first with the reason if it has to wait. Transfers wait rather than
// fail: a partition pulled again from the start would fill the same space.
func (d *diskGuard) waitRoom(ctx context.Context, paused func(error)) error {
	err := d.refuse()
	if err == nil {
		return nil
	}
	paused(err)
	t := time.NewTicker(diskCheckEvery)
	defer t.Stop()
	for d.low.Load() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// refuse is the error a write of a new value gets while space is low.
func (d *diskGuard) refuse() error {
	if !d.low.Load() {
		return nil
	}
	return wire.Errorf(wire.CodeUnavailable, "node %s: disk nearly full (%s free, under the reserve of %s): new values are refused until space is freed; deletes are taken",
		d.node, humanize.IBytes(d.free.Load()), humanize.IBytes(d.reserve))
}
