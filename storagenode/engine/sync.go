package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
	defer func() {
		if e.wal != nil {
			e.wal.Close()
		}
	}()
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
// memtable log receives writes. The syncer keeps it open and, before each
// sync, looks for the log Badger creates when the memtable rotates (their
// IDs are consecutive): one stat, where listing the directory and opening
// the log cost five system calls a sync. After a rotation it lists the
// directory, syncs each older log once more (it may hold writes from just
// before the rotation) and then leaves it alone, since each sync is a
// device flush.
func (e *Engine) syncFiles(vlog bool) error {
	if e.wal == nil || e.rotated() {
		if err := e.rescanLogs(); err != nil {
			return err
		}
	}
	if err := unix.Fdatasync(int(e.wal.Fd())); err != nil {
		return fmt.Errorf("engine: sync %s: %w", e.wal.Name(), err)
	}
	e.stats.SyncedLog.Store(int64(e.walID))
	if vlog {
		if err := e.db.Sync(); err != nil {
			return fmt.Errorf("engine: sync value log: %w", err)
		}
	}
	return nil
}

// memLog is the path of memtable log id, named as Badger names it.
func (e *Engine) memLog(id int) string {
	return filepath.Join(e.cfg.Dir, fmt.Sprintf("%05d.mem", id))
}

// rotated reports whether Badger has started a newer memtable log than
// the one the syncer holds.
func (e *Engine) rotated() bool {
	_, err := os.Stat(e.memLog(e.walID + 1))
	return err == nil || !os.IsNotExist(err)
}

// rescanLogs syncs the older memtable logs not synced since they stopped
// receiving writes and opens the newest for the syncs that follow.
func (e *Engine) rescanLogs() error {
	if e.wal != nil {
		e.wal.Close()
		e.wal = nil
	}
	ents, err := os.ReadDir(e.cfg.Dir)
	if err != nil {
		return fmt.Errorf("engine: sync: %w", err)
	}
	var ids []int
	for _, ent := range ents {
		name, ok := strings.CutSuffix(ent.Name(), ".mem")
		if !ok {
			continue
		}
		if id, err := strconv.Atoi(name); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("engine: sync: no memtable log in %s", e.cfg.Dir)
	}
	slices.Sort(ids)
	newest := ids[len(ids)-1]
	old := map[int]bool{}
	for _, id := range ids[:len(ids)-1] {
		old[id] = true
		if e.syncedOld[id] {
			continue
		}
		f, err := os.Open(e.memLog(id))
		if os.IsNotExist(err) {
			continue // flushed to a table and deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("engine: sync: %w", err)
		}
		err = unix.Fdatasync(int(f.Fd()))
		f.Close()
		if err != nil {
			return fmt.Errorf("engine: sync %s: %w", f.Name(), err)
		}
	}
	// Remember which older logs are done; forget those Badger deleted.
	e.syncedOld = old
	f, err := os.Open(e.memLog(newest))
	if err != nil {
		return fmt.Errorf("engine: sync: %w", err)
	}
	e.wal, e.walID = f, newest
	return nil
}
