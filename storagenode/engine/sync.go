package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Durability. Badger runs without its own per-transaction syncs; the
// writer commits each batch to the memtable and its write-ahead log, and
// the syncer makes them durable: it takes every batch committed since its
// last sync, fdatasyncs the write-ahead logs (and, when a batch held a
// value large enough to go to the value log, that too), and only then
// acknowledges them. The writer meanwhile stages and commits the next
// batch, so a sync is shared by everything that arrived while the last
// one ran, and an idle engine adds no delay.
//
// Every memtable log file present is synced, not only the current one: a
// memtable that filled up and rotated after a batch was committed keeps
// that batch in its (older) log until Badger flushes it to a synced
// table, and must not be left behind.

// valueThreshold is Badger's: larger values go to the value log.
const valueThreshold = 1 << 20

type syncBatch struct {
	ops  []*op
	vlog bool
}

func (e *Engine) syncLoop() {
	defer close(e.done)
	for b := range e.syncq {
		batches := []syncBatch{b}
	drain:
		for {
			select {
			case more, ok := <-e.syncq:
				if !ok {
					break drain
				}
				batches = append(batches, more)
			default:
				break drain
			}
		}
		vlog := false
		for _, x := range batches {
			vlog = vlog || x.vlog
		}
		var err error
		if e.cfg.Sync {
			t0 := time.Now()
			err = e.syncFiles(vlog)
			e.stats.SyncNanos.Add(uint64(time.Since(t0)))
			e.stats.Syncs.Add(1)
			if err != nil {
				e.syncFailed.Store(true)
				e.log.Error("sync failed: writes are not acknowledged", "err", err)
			}
		}
		for _, x := range batches {
			for _, o := range x.ops {
				if err != nil {
					e.stats.Failed.Add(1)
				} else {
					e.stats.Updates.Add(1)
				}
				o.Done(o.res, err)
			}
		}
	}
}

// syncFiles makes everything committed so far durable. Only the newest
// memtable log receives writes; an older one is synced once more after
// it stopped being the newest (it may hold writes from just before the
// rotation) and then left alone, since each sync is a device flush.
func (e *Engine) syncFiles(vlog bool) error {
	ents, err := os.ReadDir(e.cfg.Dir)
	if err != nil {
		return fmt.Errorf("engine: sync: %w", err)
	}
	var mems []string
	for _, ent := range ents {
		if strings.HasSuffix(ent.Name(), ".mem") {
			mems = append(mems, ent.Name())
		}
	}
	sort.Strings(mems) // zero-padded file IDs: the last is the newest
	var todo []string
	if n := len(mems); n > 0 {
		todo = append(todo, mems[n-1])
		for _, m := range mems[:n-1] {
			if !e.syncedOld[m] {
				todo = append(todo, m)
			}
		}
	}
	for _, name := range todo {
		f, err := os.Open(filepath.Join(e.cfg.Dir, name))
		if os.IsNotExist(err) {
			continue // flushed to a table and deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("engine: sync: %w", err)
		}
		err = unix.Fdatasync(int(f.Fd()))
		f.Close()
		if err != nil {
			return fmt.Errorf("engine: sync %s: %w", name, err)
		}
	}
	// Remember which older logs are done; forget those Badger deleted.
	old := map[string]bool{}
	for i, m := range mems {
		if i < len(mems)-1 {
			old[m] = true
		}
	}
	e.syncedOld = old
	if vlog {
		if err := e.db.Sync(); err != nil {
			return fmt.Errorf("engine: sync value log: %w", err)
		}
	}
	return nil
}
