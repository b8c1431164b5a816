package storagenode

// Outbox entries, and why most of them hold no value.
//
// An event carries its version's value, which the stamper also stores in
// the item: staging a whole event wrote every value twice (a 1 KiB item
// and a 1.3 KiB entry), and the second copy was deleted a few
// milliseconds later. So an entry whose value is still in the item
// refers to it instead: it holds the event encoded without its value
// (feed.EncodeSplit) and the item's key, and the value is spliced back
// from the version whose counter is the entry's sequence. The publisher
// keeps the whole event in memory; only a restart reads it back.
//
// That holds while the version stays in the item. An update that drops a
// version this node stamped (superseded by a later write, merged away by
// a replica's set, deleted) calls dropped, which rewrites the entry whole
// in the same batch if its event is not acknowledged yet. So every entry
// by reference whose event was not stored in the stream can be resolved;
// one that cannot was acknowledged before a crash (or its table was
// purged, which bypasses updates) and is dropped. An entry refers to the
// item only when that is safe without more bookkeeping: a client write to
// the item itself (not a hint), with a value and no TTL (Badger drops
// expired sets without an update), while the publisher tracks fewer than
// half of MaxQueued such entries. At start, the entries a previous life
// left by reference are made whole before anything is stamped, so every
// entry by reference on disk is one this life tracks.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/feed"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// minRefValue is the smallest value an entry refers to rather than holds:
// below it, the copy costs less than the splice.
const minRefValue = 128

// outboxEntry is one staged event.
type outboxEntry struct {
	seq   uint64
	pub   messaging.FeedPub
	ref   *eventRef // how the entry is stored, when it refers to the item
	done  func()    // acknowledges the write; nil when nobody waits
	timer *time.Timer
	// stored is the earliest time the event may have been stored in the
	// stream (its first publish, or its stamp for a previous life's
	// entry); zero while it certainly was not.
	stored time.Time
	// deletes are published entries whose removal rides in this entry's
	// batch.
	deletes []uint64
}

// eventRef is an event stored without its value.
type eventRef struct {
	key  []byte // the item's storage key
	bare []byte // the event without its value
	at   int    // where the value goes in bare
}

// finish releases the write waiting for this event, if any.
func (e *outboxEntry) finish() {
	if e.timer != nil {
		e.timer.Stop()
	}
	if e.done != nil {
		e.done()
	}
}

// refMark starts an entry stored by reference: a whole entry starts with
// its tenant's length, which is never 0.
const refMark = 0

// encode renders the entry as stored: by reference if it has one and
// whole is false.
func (e *outboxEntry) encode(whole bool) []byte {
	data, byRef := e.pub.Data, e.ref != nil && !whole
	size := 1 + 6*binary.MaxVarintLen64 + len(e.pub.Tenant) + len(e.pub.Table) + len(e.pub.ID)
	if byRef {
		// Sized for what is stored, not for the whole event: the value
		// stays in the item.
		data = e.ref.bare
		size += len(e.ref.key)
	}
	b := make([]byte, 0, size+len(data))
	if byRef {
		b = append(b, refMark)
	}
	for _, s := range []string{e.pub.Tenant, e.pub.Table, e.pub.ID} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if byRef {
		b = binary.AppendUvarint(b, uint64(len(e.ref.key)))
		b = append(b, e.ref.key...)
		b = binary.AppendUvarint(b, uint64(e.ref.at))
	}
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// decodeOutboxEntry reads a stored entry. One stored by reference comes
// back with its ref and no data yet.
func decodeOutboxEntry(seq uint64, b []byte) (*outboxEntry, error) {
	d := vclock.NewDecoder(b)
	e := &outboxEntry{seq: seq}
	byRef := len(b) > 0 && b[0] == refMark
	if byRef {
		d.Byte()
	}
	e.pub.Tenant = d.String(tenants.MaxIDLen)
	e.pub.Table = d.String(wire.MaxTableName)
	e.pub.ID = d.String(1024)
	if byRef {
		e.ref = &eventRef{key: bytes.Clone(d.Bytes(3*tenants.MaxKeyLen + 3*tenants.MaxIDLen))}
		at := d.Uvarint()
		e.ref.bare = d.Bytes(feed.MaxEvent)
		if d.Err() == nil && at > uint64(len(e.ref.bare)) {
			return nil, fmt.Errorf("outbox entry %d: value offset %d past the event's %d bytes", seq, at, len(e.ref.bare))
		}
		e.ref.at = int(at)
	} else {
		e.pub.Data = d.Bytes(feed.MaxEvent)
	}
	if d.Err() == nil && len(d.Rest()) != 0 {
		return nil, fmt.Errorf("outbox entry %d: %d trailing bytes", seq, len(d.Rest()))
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("outbox entry %d: %w", seq, d.Err())
	}
	return e, nil
}

// resolve splices the value of the item's version back into an entry
// stored by reference; false if the item no longer holds that version.
func (e *outboxEntry) resolve(s vclock.Set, actor vclock.Actor) bool {
	for _, v := range s {
		if d := v.Clock.Dot; d.Actor == actor && d.Counter == e.seq && !v.Deleted {
			e.pub.Data = feed.Splice(e.ref.bare, e.ref.at, v.Value)
			return true
		}
	}
	return false
}

// byRefLocked says whether the event of v, stamped for req, may be stored
// by reference (see the top of this file).
func (p *publisher) byRefLocked(req *wire.PutRequest, v vclock.Version) bool {
	return req.Hint == "" && !v.Deleted && v.Expires == 0 && len(v.Value) >= minRefValue &&
		!p.mu.stopped && len(p.mu.refs) < max(1, p.cfg.MaxQueued/2)
}

// forgetLocked stops tracking e: its event is stored in the stream,
// or it was never committed.
func (p *publisher) forgetLocked(e *outboxEntry) {
	if e != nil && e.ref != nil && p.mu.refs[e.seq] == e {
		delete(p.mu.refs, e.seq)
	}
}

// dropped is the engine's hook for a version of this node's that an
// update removes from key's set: an entry that still refers to it is
// rewritten whole in the same batch. It runs on the writer goroutine.
func (p *publisher) dropped(tx *engine.Tx, key []byte, v vclock.Version) {
	p.mu.Lock()
	e := p.mu.refs[v.Clock.Dot.Counter]
	p.mu.Unlock()
	if e != nil && bytes.Equal(e.ref.key, key) {
		// The entry stays tracked: should this batch fail, the version is
		// not dropped, and a later drop rewrites it again.
		tx.Set(tenants.OutboxKey(e.seq), e.encode(true))
		p.rewritten.Inc()
	}
}

// scanOutbox calls fn with the outbox's entries from sequence from on,
// in order, until fn returns false. v is valid only during the call.
func (p *publisher) scanOutbox(from uint64, fn func(seq uint64, v []byte) bool) error {
	return p.n.eng.DB().View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = tenants.OutboxPrefix()
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(tenants.OutboxKey(from)); it.Valid(); it.Next() {
			seq, err := tenants.DecodeOutboxKey(it.Item().Key())
			if err != nil {
				return err
			}
			more := true
			if err := it.Item().Value(func(v []byte) error {
				more = fn(seq, v)
				return nil
			}); err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
		return nil
	})
}

// eventTime is when an event's version was stamped: the earliest its
// event can have been stored. An event that does not decode is taken as
// never stored (published again without looking).
func eventTime(data []byte) time.Time {
	ev, err := feed.Decode(data)
	if err != nil {
		return time.Time{}
	}
	return ev.Time
}

// wholeOutbox rewrites whole the entries a previous life left by
// reference, and deletes those whose version is gone (their events were
// stored before the restart). It runs before the node stamps anything,
// and notes the highest sequence that life left (prevLife).
func (p *publisher) wholeOutbox() error {
	var refs []*outboxEntry
	err := p.scanOutbox(0, func(seq uint64, v []byte) bool {
		p.prevLife = seq // in ascending order
		if len(v) == 0 || v[0] != refMark {
			return true
		}
		e, err := decodeOutboxEntry(seq, bytes.Clone(v))
		if err != nil {
			p.n.log.Error("dropping an undecodable outbox entry", "seq", seq, "err", err)
			e = &outboxEntry{seq: seq} // deleted below
		}
		refs = append(refs, e)
		return true
	})
	if err != nil || len(refs) == 0 {
		return err
	}
	gone := 0
	for _, e := range refs {
		if e.ref == nil {
			continue
		}
		s, err := p.n.eng.Get(e.ref.key)
		if err != nil {
			return fmt.Errorf("outbox entry %d: reading its item: %w", e.seq, err)
		}
		if !e.resolve(s, p.n.eng.Actor()) {
			gone++
		}
	}
	p.n.log.Info("made the outbox's entries whole", "entries", len(refs), "versions_gone", gone)
	for chunk := range slices.Chunk(refs, 256) {
		_, err := p.n.eng.Apply(tenants.OutboxPrefix(), func(tx *engine.Tx, _ vclock.Set) (vclock.Set, bool, error) {
			for _, e := range chunk {
				if e.pub.Data == nil {
					tx.Delete(tenants.OutboxKey(e.seq))
				} else {
					tx.Set(tenants.OutboxKey(e.seq), e.encode(true))
				}
			}
			return nil, false, nil
		})
		if err != nil {
			return fmt.Errorf("rewriting the outbox: %w", err)
		}
	}
	return nil
}
