package engine

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Durability. Badger runs without its own per-transaction syncs; the
// writer writes each batch's record to the redo log (redo.go) and commits
// the batch to Badger's memtable, and the syncer makes them durable: it
// takes every batch committed since its last sync, fdatasyncs the redo
// segments their records are in (and, when a batch held a value large
// enough to go to Badger's value log, Badger's logs too), and only then
// acknowledges them. The writer meanwhile stages and commits the next
// batch, so a sync is shared by everything that arrived while the last
// one ran, and an idle engine adds no delay.

// valueThreshold is Badger's: larger values go to the value log.
const valueThreshold = 1 << 20

type syncBatch struct {
	ops  []*op
	vlog bool
	// logs are the redo segments holding the batch's records; retired
	// are segments closed before them, synced once more and closed.
	logs, retired []*os.File
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
		var err error
		if e.cfg.Sync {
			t0 := time.Now()
			err = e.syncFiles(batches)
			e.stats.SyncNanos.Add(uint64(time.Since(t0)))
			e.stats.Syncs.Add(1)
			if err != nil {
				e.syncFailed.Store(true)
				e.redoFailed.Store(true)
				e.log.Error("sync failed: writes are not acknowledged", "err", err)
			} else if e.redoFailed.Load() {
				// Their records may follow a gap the failed sync left:
				// not durable until the writer's checkpoint.
				err = errors.New("engine: sync: an earlier sync of the redo log failed")
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

// syncFiles makes the batches durable: each redo segment they were
// written to, once.
func (e *Engine) syncFiles(batches []syncBatch) error {
	if e.failSync != nil {
		if err := e.failSync(); err != nil {
			return err
		}
	}
	var done []*os.File
	vlog := false
	for _, b := range batches {
		vlog = vlog || b.vlog
		for _, f := range append(b.retired, b.logs...) {
			if slices.Contains(done, f) {
				continue
			}
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				return fmt.Errorf("engine: sync %s: %w", f.Name(), err)
			}
			done = append(done, f)
		}
	}
	if vlog {
		if err := e.db.Sync(); err != nil {
			return fmt.Errorf("engine: sync value log: %w", err)
		}
	}
	for _, b := range batches {
		for _, f := range b.retired {
			f.Close() // no later batch has records in it
		}
	}
	return nil
}
