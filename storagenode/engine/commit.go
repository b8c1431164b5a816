package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/vclock"
)

// UpdateFunc computes a key's new sibling set from its current one (nil if
// absent); an empty new set with write=true deletes the key. It runs on the writer goroutine and must not block. Returning
// write=false leaves the key as it is (the update still waits for the
// batch's sync, since what it read may have been written in that batch).
type UpdateFunc func(tx *Tx, cur vclock.Set) (next vclock.Set, write bool, err error)

// Result is what an update produced.
type Result struct {
	Set     vclock.Set // the key's set after the update
	Written bool
}

// Update describes one read-modify-write.
type Update struct {
	Key []byte
	Fn  UpdateFunc
	// Staged, if set, is called once the new set is staged (or found
	// unchanged) and before the batch is synced, so a stamper can forward
	// it to other replicas while its own disk syncs.
	Staged func(next vclock.Set)
	// Done is called once the update is durable, or has failed. It runs on
	// the writer goroutine and must not block.
	Done func(Result, error)
}

type op struct {
	Update
	res     Result
	err     error
	pending pending
	// call, when set, makes the op a function run on the writer goroutine
	// between batches instead of an update.
	call func() error
}

// onWriter runs fn on the writer goroutine between batches and waits.
func (e *Engine) onWriter(fn func() error) error {
	ch := make(chan error, 1)
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return ErrClosed
	}
	e.ops <- &op{call: fn, Update: Update{Done: func(_ Result, err error) { ch <- err }}}
	e.mu.RUnlock()
	return <-ch
}

// Tx gives an update function the writer's services.
type Tx struct {
	e     *Engine
	txn   *badger.Txn
	extra []kv
}

type kv struct{ k, v []byte }

// Actor is the engine's clock actor.
func (tx *Tx) Actor() vclock.Actor { return tx.e.actor }

// NextCounter returns a counter greater than min and than every counter
// handed out before in this data directory's life.
func (tx *Tx) NextCounter(min uint64) uint64 {
	e := tx.e
	if e.syncFailed.Swap(false) {
		e.forgetLease() // a lease write may not have reached the disk
	}
	c := e.counter + 1
	if c <= min {
		c = min + 1
	}
	if c > e.leaseEnd {
		e.leaseEnd = c + leaseBlock
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], e.leaseEnd)
		tx.extra = append(tx.extra, kv{metaLease, b[:]})
	}
	e.counter = c
	return c
}

// Set stages an extra key written in the same batch as the update (an
// outbox entry, a hint, a Merkle node): durable exactly when the update is.
func (tx *Tx) Set(key, val []byte) { tx.extra = append(tx.extra, kv{key, val}) }

// Delete stages the deletion of an extra key in the same batch.
func (tx *Tx) Delete(key []byte) { tx.extra = append(tx.extra, kv{key, nil}) }

// Submit queues an update. Done is always called, with ErrClosed if the
// engine is closed.
func (e *Engine) Submit(u Update) {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		e.stats.Failed.Add(1)
		u.Done(Result{}, ErrClosed)
		return
	}
	e.ops <- &op{Update: u}
	e.mu.RUnlock()
}

// Apply runs an update and waits until it is durable.
func (e *Engine) Apply(key []byte, fn UpdateFunc) (Result, error) {
	type out struct {
		r   Result
		err error
	}
	ch := make(chan out, 1)
	e.Submit(Update{Key: key, Fn: fn, Done: func(r Result, err error) { ch <- out{r, err} }})
	o := <-ch
	return o.r, o.err
}

func (e *Engine) run() {
	defer close(e.syncq)
	batch := make([]*op, 0, e.cfg.MaxBatch)
	for {
		var first *op
		select {
		case first = <-e.ops:
		case <-e.stop:
			// Submit cannot add more once stop is closed; finish the rest.
			for {
				select {
				case o := <-e.ops:
					if o.call != nil {
						o.Done(Result{}, o.call())
						continue
					}
					e.commit(append(batch[:0], o))
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	collect:
		for len(batch) < e.cfg.MaxBatch && first.call == nil {
			select {
			case o := <-e.ops:
				if o.call != nil {
					e.commit(batch)
					batch = append(batch[:0], o)
					break collect
				}
				batch = append(batch, o)
			default:
				break collect
			}
		}
		if batch[0].call != nil {
			o := batch[0]
			o.Done(Result{}, o.call())
			continue
		}
		e.commit(batch)
	}
}

// commit applies a batch in as few Badger transactions as fit, each
// committed (and synced) before the batch is acknowledged.
func (e *Engine) commit(batch []*op) {
	if e.redoFailed.Load() {
		if err := e.checkpoint(); err != nil {
			err = fmt.Errorf("engine: checkpoint after a failed sync: %w", err)
			for _, o := range batch {
				e.stats.Failed.Add(1)
				o.Done(Result{}, err)
			}
			return
		}
		e.redoFailed.Store(false)
	}
	txn := e.newTxn()
	var size int64
	inTxn := batch[:0:0]
	var logs []*os.File // the redo segments of the batch's records
	flush := func() {
		e.stageUsage(txn)
		e.hold()
		t0 := time.Now()
		f, err := e.writeRedo(txn)
		if err != nil {
			txn.Discard()
		} else {
			err = txn.Commit()
			if err != nil && e.rlog != nil {
				if terr := e.rlog.unwrite(); terr != nil {
					e.log.Error("a batch Badger did not commit stays in the redo log", "err", terr)
				}
			} else if e.rlog != nil {
				e.rlog.wrote()
				if len(logs) == 0 || logs[len(logs)-1] != f {
					logs = append(logs, f)
				}
			}
		}
		e.stats.CommitNanos.Add(uint64(time.Since(t0)))
		if err != nil {
			err = fmt.Errorf("engine: commit: %w", err)
			e.forgetLease()
		} else {
			e.stats.Batches.Add(1)
		}
		if e.afterCommit != nil {
			e.afterCommit()
		}
		e.publish(err == nil)
		for _, o := range inTxn {
			if o.err == nil {
				o.err = err
			}
		}
		inTxn = inTxn[:0]
		txn = e.newTxn()
		size = 0
	}
	for _, o := range batch {
		for attempt := 0; ; attempt++ {
			writes, err := e.stage(txn, o)
			if err != nil {
				o.err = err
				e.forgetLease()
				break
			}
			if size+writes > e.budget && len(inTxn) > 0 && attempt == 0 {
				// Would not fit: sync what we have and redo this update on
				// a fresh transaction (it must read the committed state).
				txn.Discard()
				e.forgetLease()
				e.redo(inTxn, &txn, flush)
				continue
			}
			if err := e.put(txn, o); errors.Is(err, badger.ErrTxnTooBig) && attempt == 0 && len(inTxn) > 0 {
				txn.Discard()
				e.forgetLease()
				e.redo(inTxn, &txn, flush)
				continue
			} else if err != nil {
				o.err = fmt.Errorf("engine: stage: %w", err)
				break
			}
			size += writes
			if o.Staged != nil {
				o.Staged(o.res.Set)
			}
			inTxn = append(inTxn, o)
			break
		}
	}
	if len(inTxn) > 0 {
		flush()
	}
	// The transaction flush opened for what would come next, or the one
	// that staged nothing. A transaction left open holds Badger's read
	// watermark: no compaction would drop an overwritten version again,
	// and every later transaction's mark would pile up behind it.
	txn.Discard()
	var durable []*op
	for _, o := range batch {
		if o.err != nil {
			e.stats.Failed.Add(1)
			o.Done(o.res, o.err)
			continue
		}
		durable = append(durable, o)
	}
	if len(durable) > 0 {
		// The batch is in Badger's memtable and its log, not yet on disk:
		// the syncer makes it durable and acknowledges it while this
		// goroutine goes on with the next batch.
		e.syncq <- syncBatch{ops: durable, vlog: e.bigValue, logs: logs, retired: e.retired()}
		e.bigValue = false
	}
}

// forgetLease makes the next counter write a new lease: called whenever a
// staged lease write may have been discarded, since counters above the
// durable lease end could otherwise be handed out again after a restart.
func (e *Engine) forgetLease() { e.leaseEnd = e.counter }

// redo re-stages the updates already in a discarded transaction so that
// they are committed before the update that did not fit.
func (e *Engine) redo(inTxn []*op, txn **badger.Txn, flush func()) {
	clear(e.staged) // what the discarded transaction staged
	*txn = e.newTxn()
	for _, o := range inTxn {
		if err := e.put(*txn, o); err != nil {
			o.err = fmt.Errorf("engine: stage: %w", err)
		}
	}
	flush()
}

// pending holds what stage computed for put.
type pending struct {
	cur      vclock.Set // the set before the update, for the tree delta
	treeDone bool
	extra    []kv
	val      []byte
	oldSize  int
	expires  uint64 // Badger ExpiresAt (Unix seconds); 0: never
}

// stage runs the update function against txn's view and returns an
// estimate of the bytes it will write.
func (e *Engine) stage(txn *badger.Txn, o *op) (int64, error) {
	if e.purgedKey(o.Key) {
		return 0, ErrPurged
	}
	cur, oldSize, err := e.current(txn, o.Key)
	if err != nil {
		return 0, err
	}
	o.pending.oldSize = oldSize
	// One Tx serves every update of the writer goroutine: an update function
	// uses it only while it runs, and its extras move to pending below.
	e.tx = Tx{e: e, txn: txn}
	tx := &e.tx
	next, write, err := o.Fn(tx, cur)
	if err != nil {
		return 0, err
	}
	o.res = Result{Set: next, Written: write}
	if write && e.dropped != nil {
		e.noteDrops(tx, o.Key, cur, next)
	}
	p := pending{extra: tx.extra, oldSize: oldSize, cur: cur}
	if write && len(next) > 0 {
		p.val = vclock.AppendSet(make([]byte, 0, vclock.EncodedSize(next)), next)
		p.expires = e.expiresAt(next)
		if len(p.val) >= valueThreshold {
			e.bigValue = true // goes to the value log, which needs its own sync
		}
	}
	o.pending = p
	est := int64(0)
	for _, w := range p.extra {
		est += estimate(w.k, w.v)
	}
	if write {
		est += estimate(o.Key, p.val)
	}
	return est, nil
}

// OnDrop has fn called, on the writer goroutine, for every version of
// this engine's actor that an update removes from its key's set
// (superseded, merged away, or deleted with the key): fn may stage writes
// in the same batch with tx. A stamper's outbox refers to the versions it
// stamped until their events are published.
func (e *Engine) OnDrop(fn func(tx *Tx, key []byte, v vclock.Version)) error {
	return e.onWriter(func() error {
		e.dropped = fn
		return nil
	})
}

func (e *Engine) noteDrops(tx *Tx, key []byte, cur, next vclock.Set) {
	for _, v := range cur {
		d := v.Clock.Dot
		if d.Actor != e.actor {
			continue
		}
		kept := false
		for _, w := range next {
			if w.Clock.Dot.Actor == d.Actor && w.Clock.Dot.Counter == d.Counter {
				kept = true
				break
			}
		}
		if !kept {
			e.dropped(tx, key, v)
		}
	}
}

// expiresAt lets Badger drop a set once every version in it has expired
// (plus the grace), so items with a TTL are eventually removed.
func (e *Engine) expiresAt(s vclock.Set) uint64 {
	var last int64
	for _, v := range s {
		if v.Expires == 0 {
			return 0
		}
		last = max(last, v.Expires)
	}
	if last == 0 {
		return 0
	}
	return uint64((last+e.cfg.ExpiredGrace.Milliseconds())/1000) + 1
}

func estimate(k, v []byte) int64 {
	n := int64(len(k)) + 32
	if len(v) < 1<<20 {
		n += int64(len(v))
	}
	return n
}

func (e *Engine) put(txn *badger.Txn, o *op) error {
	for _, w := range o.pending.extra {
		var err error
		if w.v == nil {
			err = e.txnDelete(txn, w.k)
		} else {
			err = e.txnSet(txn, w.k, w.v, 0)
		}
		if err != nil {
			return err
		}
		e.noteStaged(w.k, stagedSet{unknown: true})
	}
	if o.res.Written {
		var err error
		if len(o.res.Set) == 0 {
			err = e.txnDelete(txn, o.Key) // an update to nothing removes the key
		} else {
			err = e.txnSet(txn, o.Key, o.pending.val, o.pending.expires)
		}
		if err != nil {
			return err
		}
		// A set that expires is left to Badger, which drops it.
		e.noteStaged(o.Key, stagedSet{val: o.pending.val, unknown: o.pending.expires != 0})
		e.account(o.Key, o.pending.oldSize, len(o.pending.val))
		o.pending.oldSize = len(o.pending.val) // a redo must not count twice
		if !e.noTrees {
			if err := e.trackTree(txn, o.Key, o.pending.cur, o.res.Set, o.pending.treeDone); err != nil {
				return err
			}
			o.pending.cur, o.pending.treeDone = o.res.Set, true // nor apply the delta twice
		}
	}
	return nil
}

// stagedSet is a write of the open transaction to a cacheable key: its
// encoded set (nil: deleted), or unknown when the cache must drop the key
// instead (a set that expires, a key written as an extra).
type stagedSet struct {
	val     []byte
	unknown bool
}

func (e *Engine) noteStaged(key []byte, st stagedSet) {
	if e.cache != nil && cacheable(key) {
		e.staged[string(key)] = st
	}
}

// hold takes the staged keys out of the cache while Badger commits them
// (cache.go says why).
func (e *Engine) hold() {
	for k := range e.staged {
		e.cache.hold(k)
	}
}

// publish hands the staged writes to the cache once their transaction is
// committed; if the commit failed, what Badger holds is unknown and the
// keys are dropped from the cache.
func (e *Engine) publish(committed bool) {
	for k, st := range e.staged {
		if committed && !st.unknown {
			e.cache.publish(k, st.val)
		} else {
			e.cache.forget(k)
		}
	}
	clear(e.staged)
}

// newTxn opens the writer's next transaction and starts its redo record.
func (e *Engine) newTxn() *badger.Txn {
	if e.rlog != nil {
		e.rlog.begin()
	}
	return e.db.NewTransaction(true)
}

// txnSet and txnDelete stage a write in txn and in its redo record.
func (e *Engine) txnSet(txn *badger.Txn, k, v []byte, expires uint64) error {
	if err := txn.SetEntry(&badger.Entry{Key: k, Value: v, ExpiresAt: expires}); err != nil {
		return err
	}
	if e.rlog != nil {
		e.rlog.set(k, v, expires)
	}
	return nil
}

func (e *Engine) txnDelete(txn *badger.Txn, k []byte) error {
	if err := txn.Delete(k); err != nil {
		return err
	}
	if e.rlog != nil {
		e.rlog.del(k)
	}
	return nil
}

// writeRedo numbers txn's batch and writes its redo record, before Badger
// commits it (redo.go says why). It returns the record's segment.
func (e *Engine) writeRedo(txn *badger.Txn) (*os.File, error) {
	if e.rlog == nil {
		return nil, nil
	}
	seq := e.rlog.seq + 1
	if err := txn.Set(metaRedo, seqBytes(seq)); err != nil {
		return nil, err
	}
	return e.rlog.write(seq)
}

// retired hands the syncer the redo segments closed since the last batch.
func (e *Engine) retired() []*os.File {
	if e.rlog == nil || len(e.rlog.retired) == 0 {
		return nil
	}
	r := e.rlog.retired
	e.rlog.retired = nil
	return r
}
