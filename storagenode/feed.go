package storagenode

// Change events: the stamper's outbox and its publisher.
//
// A node publishes one event for every version it stamps (never for sets
// it merely replicates), so each committed version has exactly one event
// whichever replicas store it:
//
//  1. The stamp's update function stages the event in the outbox
//     (tenants.OutboxKey, keyed by the version's counter) with Tx.Set, in
//     the same Badger batch as the version: both are durable, or neither.
//     Most entries hold the event without its value and refer to the
//     item for it (outbox.go).
//  2. Once the batch is synced, the event joins the publisher's queue, in
//     commit order. The publisher sends queued events to the JetStream
//     feed stream in that order, with the version's client request and key
//     as message ID (its dot when it has no request), and deletes each
//     outbox entry once its PubAck arrived. It sends the next batch
//     without waiting for the last one's PubAcks (a few batches are in
//     flight at most): NATS keeps one connection's messages in order, and
//     a write waiting on a stop-and-wait publisher would wait for the
//     batch before its own as well. After a crash the
//     outbox still holds what was not acknowledged, and is published again
//     at start. The stream drops a second copy of an event stored within
//     its duplicate window (10 s by default); for events that may have
//     been stored longer ago than that (a restart after a longer outage, a
//     publish retried after a lost PubAck), the publisher first reads the
//     message IDs the stream stored since, and publishes only the events
//     it lacks (RecheckWithin, 2 min by default, bounds how far back it
//     reads). The window is short because the NATS server keeps every ID
//     in it as objects of its heap: under a full write load, a 2 min window
//     held half the objects of `ringtable dev`'s heap, which its collector
//     marked in every cycle (docs/performance.md, "The duplicate window").
//  3. The stamper acknowledges the write to the coordinator only once the
//     event's PubAck arrived, or AckWait (250 ms) passed. So a client that
//     saw a write acknowledged and then writes the same key causally later
//     (from any gateway, through any stamper) has its event published
//     after the first one: events of a key follow the causal order of its
//     versions. If JetStream is unavailable, writes are still acknowledged
//     (after AckWait at most once, then at once until a publish succeeds
//     again) and the outbox keeps the events until it comes back: order
//     across such an outage is best effort, and every event is still
//     published once.
//
// NB: the order is promised for writes made after an acknowledgement. A
// version read from a replica before its stamper's PubAck arrived (the
// stamper forwards the version while its own disk syncs) can be followed
// by a causally later write whose event is stored first.
//
// A retried stamp that finds its request's version already stored stages
// nothing: that version's event was staged by the stamp that made it. One
// that does not find it (the first stamper's forward has not arrived)
// stamps the request a second time, and that version's event, with the
// same message ID, is dropped by the stream as a duplicate.
//
// NB: a stamper that crashes between an event's PubAck and the deletion of
// its outbox entry (one batch later), and stays down for longer than
// RecheckWithin, publishes that event a second time on restart; the
// event's ID (its dot) lets consumers drop it.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/feed"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// FeedConfig configures the change events a node publishes.
type FeedConfig struct {
	// Disabled turns change events off: nothing is staged or published.
	Disabled bool
	// Stream describes the JetStream stream (created or updated by every
	// node at start, so all nodes must agree on it).
	Stream messaging.FeedConfig
	// AckWait bounds how long a write's acknowledgement waits for its
	// event's PubAck (default 250ms): the price of per-key causal order
	// when JetStream is slow.
	AckWait time.Duration
	// MaxQueued bounds the events held in memory for publishing (default
	// 65536); beyond it they wait in the outbox on disk.
	MaxQueued int
	// MaxBatch bounds the events published together (default 512).
	MaxBatch int
	// RecheckWithin bounds how far back a publisher looks in the stream
	// for events it may have stored already, before it publishes them
	// again (default 2m; 0: never). The stream itself drops a second copy
	// only within its duplicate window, which is kept short: every ID in
	// it is an object the NATS server holds and its collector scans.
	RecheckWithin time.Duration
	// HoldOutbox and KeepOutbox are fault knobs for tests: the first
	// never publishes (as a stamper that crashes before publishing), the
	// second never deletes published events from the outbox (as one that
	// crashes after the PubAck).
	HoldOutbox, KeepOutbox bool
}

// DefaultFeedConfig returns the defaults.
func DefaultFeedConfig() FeedConfig {
	return FeedConfig{Stream: messaging.DefaultFeedConfig(), AckWait: 250 * time.Millisecond, MaxQueued: 1 << 16, MaxBatch: 512,
		RecheckWithin: 2 * time.Minute}
}

func (c FeedConfig) validate() error {
	if c.Disabled {
		return nil
	}
	if c.AckWait < 0 || c.MaxQueued < 1 || c.MaxBatch < 1 || c.RecheckWithin < 0 {
		return errors.New("storagenode: feed AckWait and RecheckWithin must be ≥ 0, MaxQueued and MaxBatch positive")
	}
	return c.Stream.Validate()
}

// publisher owns a node's outbox.
type publisher struct {
	n     *Node
	cfg   FeedConfig
	feeds *messaging.Feeds
	wake  chan struct{}

	published, failed, rewritten, foundStored prometheus.Counter
	publishTime                               prometheus.Histogram
	// prevLife is the highest outbox sequence a previous life left
	// (wholeOutbox): an entry up to it may have had its event stored
	// before the restart.
	prevLife uint64

	mu struct {
		sync.Mutex
		queue   []*outboxEntry // committed, not yet acknowledged, in commit order
		disk    bool           // more entries wait on disk only, from diskFrom on
		from    uint64
		loaded  uint64 // highest sequence loaded from disk
		healthy bool   // the last publish succeeded: writes wait for PubAcks
		stopped bool
		deletes []uint64 // published entries still in the outbox
		// refs are the entries stored by reference whose events are not
		// stored in the stream yet, by sequence (outbox.go).
		refs map[uint64]*outboxEntry
	}
}

func newPublisher(n *Node) (*publisher, error) {
	feeds, err := n.conn.Feeds(n.cfg.Feed.Stream)
	if err != nil {
		return nil, err
	}
	p := &publisher{n: n, cfg: n.cfg.Feed, feeds: feeds, wake: make(chan struct{}, 1)}
	p.mu.refs = map[uint64]*outboxEntry{}
	p.metrics()
	if err := p.wholeOutbox(); err != nil {
		return nil, fmt.Errorf("storagenode: reading the outbox: %w", err)
	}
	if err := n.eng.OnDrop(p.dropped); err != nil {
		return nil, err
	}
	// What a previous life left in the outbox goes first, before any
	// write this life stamps.
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.disk = true
	if err := p.loadLocked(); err != nil {
		return nil, fmt.Errorf("storagenode: reading the outbox: %w", err)
	}
	if !p.cfg.HoldOutbox {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := feeds.Ensure(ctx)
		cancel()
		p.mu.healthy = err == nil
	}
	return p, nil
}

// metrics registers the publisher's collectors with the node's.
func (p *publisher) metrics() {
	labels := prometheus.Labels{"node": p.n.cfg.ID}
	p.published = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringtable_node_feed_events_published_total", ConstLabels: labels,
		Help: "Change events stored in the feed stream (PubAck received), republished ones included.",
	})
	p.failed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringtable_node_feed_publish_failures_total", ConstLabels: labels,
		Help: "Change event publishes that failed and wait to be retried.",
	})
	locked := func(f func() float64) func() float64 {
		return func() float64 {
			p.mu.Lock()
			defer p.mu.Unlock()
			return f()
		}
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	p.publishTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "ringtable_node_feed_publish_seconds", ConstLabels: labels,
		Help:    "Time from publishing a batch of change events to the last PubAck (writes wait for it, up to AckWait).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12),
	})
	p.rewritten = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringtable_node_feed_entries_rewritten_total", ConstLabels: labels,
		Help: "Outbox entries that referred to their item for the value and were rewritten whole because an update dropped the version before its event was stored.",
	})
	p.foundStored = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringtable_node_feed_events_found_stored_total", ConstLabels: labels,
		Help: "Change events about to be published again (after a lost PubAck or a restart) that the stream was found to hold already, beyond its duplicate window.",
	})
	for _, c := range []prometheus.Collector{p.published, p.failed, p.rewritten, p.foundStored, p.publishTime,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ringtable_node_feed_queued_events", ConstLabels: labels,
			Help: "Committed change events waiting in memory to be published.",
		}, locked(func() float64 { return float64(len(p.mu.queue)) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ringtable_node_feed_backlog_on_disk", ConstLabels: labels,
			Help: "1 while committed change events wait in the outbox on disk only (the stream was unavailable or the queue full).",
		}, locked(func() float64 { return b(p.mu.disk) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ringtable_node_feed_healthy", ConstLabels: labels,
			Help: "1 while the last publish succeeded (writes then wait for their event's PubAck).",
		}, locked(func() float64 { return b(p.mu.healthy) })),
	} {
		p.n.m.add(c)
	}
}

// validSubjectToken reports whether a table name can be a subject token
// (the gateway only lets such names be created).
func validSubjectToken(s string) bool {
	if len(s) == 0 || len(s) > wire.MaxTableName {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// stage puts the event of version v (just stamped into next, under key)
// in the outbox of tx's batch, with the removal of published entries.
// prev is what an earlier run of the same update staged (Badger may make
// the engine run an update again in a fresh transaction). It runs on the
// engine's writer goroutine.
func (p *publisher) stage(tx *engine.Tx, req *wire.PutRequest, key []byte, next vclock.Set, v vclock.Version, prev *outboxEntry) *outboxEntry {
	if p == nil || req.Key.Kind != tenants.KindData || !validSubjectToken(req.TableName) {
		p.abandon(prev)
		return nil
	}
	ev := &feed.Event{
		ID: v.Clock.Dot.String(), Tenant: req.Key.Tenant, Table: req.TableName, TableID: req.Key.Table,
		PK: req.Key.PK, SK: req.Key.SK, Op: feed.OpPut, Deleted: v.Deleted,
		Context: vclock.EncodeToken(next.WriteContext(v), req.Key.Fingerprint()), Siblings: len(next), HasSiblings: len(next) > 1,
		Time: time.UnixMilli(v.Clock.Dot.Stamp).UTC(),
	}
	if v.Deleted {
		ev.Op = feed.OpDelete
	}
	if v.Expires != 0 {
		t := time.UnixMilli(v.Expires).UTC()
		ev.Expires = &t
	}
	e := &outboxEntry{seq: v.Clock.Dot.Counter, pub: messaging.FeedPub{Tenant: req.Key.Tenant, Table: req.TableName, ID: pubID(req.Key, v)}}
	p.mu.Lock()
	p.forgetLocked(prev)
	if p.byRefLocked(req, v) {
		bare, at := feed.EncodeSplit(ev)
		e.ref = &eventRef{key: key, bare: bare, at: at}
		e.pub.Data = feed.Splice(bare, at, v.Value)
		p.mu.refs[e.seq] = e
	}
	if prev != nil {
		e.deletes = prev.deletes
	} else {
		e.deletes, p.mu.deletes = p.mu.deletes, nil
	}
	p.mu.Unlock()
	if e.ref == nil {
		if !v.Deleted {
			ev.Value = v.Value
		}
		e.pub.Data = feed.Encode(ev)
	}
	tx.Set(tenants.OutboxKey(e.seq), e.encode(false))
	for _, seq := range e.deletes {
		tx.Delete(tenants.OutboxKey(seq))
	}
	return e
}

// pubID names a version's event for the stream's duplicate window. A
// client write is named by its request and its key, not by its dot: a
// coordinator that retried it on a second stamper before the first one's
// forward arrived had it stamped twice, and the second event is then
// dropped as a duplicate, as a read shows such a write once. The request
// ID is the gateway's random 64 bits; the key's hash keeps two items'
// events apart even if two requests drew the same bits.
func pubID(k tenants.Key, v vclock.Version) string {
	if v.Write == 0 {
		return v.Clock.Dot.String()
	}
	h := fnv.New64a()
	for _, s := range []string{k.Tenant, k.Table, k.PK, k.SK} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var b [34]byte
	out := append(b[:0], 'w')
	out = strconv.AppendUint(out, v.Write, 16)
	out = append(out, '-')
	out = strconv.AppendUint(out, h.Sum64(), 16)
	return string(out)
}

// abandon takes back the removals an entry that will not be committed
// was to carry.
func (p *publisher) abandon(e *outboxEntry) {
	if p == nil || e == nil {
		return
	}
	p.mu.Lock()
	p.forgetLocked(e)
	p.mu.deletes = append(p.mu.deletes, e.deletes...)
	p.mu.Unlock()
	e.deletes = nil
}

// committed queues a durable event and takes over acknowledging its
// write: reply is called once the event is stored in the stream, or
// AckWait passed, or at once if the publisher cannot promise either. It
// runs on the engine's writer goroutine, in commit order.
func (p *publisher) committed(e *outboxEntry, reply func()) {
	p.mu.Lock()
	switch {
	case p.mu.stopped || p.cfg.HoldOutbox || p.mu.disk || e.seq <= p.mu.loaded:
		// It is published from the outbox on disk, later.
		p.mu.Unlock()
		reply()
		return
	case len(p.mu.queue) >= p.cfg.MaxQueued:
		p.mu.disk, p.mu.from = true, e.seq
		p.mu.Unlock()
		reply()
		return
	}
	wait := p.mu.healthy && p.cfg.AckWait > 0
	if wait {
		e.done = sync.OnceFunc(reply)
		e.timer = time.AfterFunc(p.cfg.AckWait, e.done)
	}
	p.mu.queue = append(p.mu.queue, e)
	p.mu.Unlock()
	if !wait {
		reply()
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run publishes until ctx ends.
func (p *publisher) run(ctx context.Context) {
	defer p.stop()
	if p.cfg.HoldOutbox {
		<-ctx.Done()
		return
	}
	flights := make(chan flight, maxFlights)
	failed := make(chan error, 1)
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		p.acker(ctx, flights, failed)
	}()
	defer func() {
		// Before stop releases what is queued: the acker puts failed
		// events back in the queue.
		close(flights)
		<-acked
	}()
	ensured, backoff := false, 100*time.Millisecond
	// A stream created while the NATS cluster was forming may have fewer
	// replicas than wanted: it is updated again now and then.
	var recheck time.Time
	pause := func() bool {
		p.setHealthy(false)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		return true
	}
	for {
		if !ensured {
			if r, err := p.ensure(ctx); err != nil {
				p.n.log.Warn("change feed stream unavailable; events wait in the outbox", "err", err)
				if !pause() {
					return
				}
				continue
			} else {
				p.n.log.Debug("change feed stream ready", "replicas", r)
				if r < p.cfg.Stream.Replicas {
					recheck = time.Now().Add(30 * time.Second)
				} else {
					recheck = time.Time{}
				}
			}
			ensured = true
		}
		if !recheck.IsZero() && time.Now().After(recheck) {
			ensured = false
			continue
		}
		select {
		case err := <-failed:
			// Events of flights sent meanwhile may be stored before the
			// failed ones, which go again from the head of the queue: order
			// across an outage is best effort (see the top of this file).
			p.n.log.Warn("change events not published; retrying", "err", err)
			ensured = false
			if !pause() {
				return
			}
			continue
		default:
		}
		batch, ok := p.next(ctx)
		if !ok {
			return
		}
		if batch, ok = p.dropStored(ctx, batch); !ok {
			ensured = false
			if !pause() {
				return
			}
			continue
		}
		if len(batch) == 0 {
			continue
		}
		start := time.Now()
		pubs := make([]messaging.FeedPub, len(batch))
		for i, e := range batch {
			pubs[i] = e.pub
			if e.stored.IsZero() {
				e.stored = start
			}
		}
		if p.isHealthy() {
			backoff = 100 * time.Millisecond
		}
		f := flight{batch: batch, start: start, acks: p.feeds.PublishAsync(pubs)}
		select {
		case flights <- f:
		case <-ctx.Done():
			flights <- f // the acker drains what is left, failing it
			return
		}
	}
}

// clockSkew is how far the NATS servers' clocks, which time the stream,
// may be behind a node's, which times its stamps.
const clockSkew = 10 * time.Second

// dropStored takes out of batch the events that may have been stored
// longer ago than the stream's duplicate window covers (published before
// a lost PubAck, or by a previous life) and that the stream holds: they
// are done, as if acknowledged now, and not published again. It returns
// false, with the batch put back in the queue, if the stream could not
// be asked.
func (p *publisher) dropStored(ctx context.Context, batch []*outboxEntry) ([]*outboxEntry, bool) {
	now, window := time.Now(), p.cfg.Stream.Duplicates
	var since time.Time
	var ids map[string]bool // nil for the usual batch, published once
	for _, e := range batch {
		// Half the window: the stream's clock may be ahead of this one.
		if age := now.Sub(e.stored); e.stored.IsZero() || age < window/2 || age > p.cfg.RecheckWithin {
			continue
		}
		if ids == nil {
			ids = map[string]bool{}
		}
		ids[e.pub.ID] = true
		if since.IsZero() || e.stored.Before(since) {
			since = e.stored
		}
	}
	if len(ids) == 0 {
		return batch, true
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	found, err := p.feeds.Stored(ctx, since.Add(-clockSkew), ids)
	if err != nil {
		p.n.log.Warn("could not tell which change events the stream holds already; retrying", "events", len(ids), "err", err)
		p.requeue(batch)
		return nil, false
	}
	var kept []*outboxEntry
	var done []uint64
	for _, e := range batch {
		if found[e.pub.ID] {
			done = append(done, e.seq)
			e.finish()
		} else {
			kept = append(kept, e)
		}
	}
	if len(done) > 0 {
		p.n.log.Info("change events found in the stream already, not published again", "events", len(done))
		p.foundStored.Add(float64(len(done)))
		p.remove(done)
	}
	return kept, true
}

// maxFlights bounds the batches whose PubAcks are awaited: queued for the
// acker, plus the one it waits on and one being handed over, 5 batches of
// at most MaxBatch events. That keeps the stream busy and, with the
// default MaxBatch (512), below the NATS client's limit of pending
// asynchronous publishes (4000), past which a publish stalls and fails.
const maxFlights = 3

// flight is a published batch whose PubAcks are awaited.
type flight struct {
	batch []*outboxEntry
	acks  []messaging.FeedAck
	start time.Time
}

// acker awaits the flights' PubAcks in publishing order, releases each
// write when its own event is stored (not when its whole batch is), and
// reports the first failure of a flight to the publishing loop.
func (p *publisher) acker(ctx context.Context, flights <-chan flight, failed chan<- error) {
	for f := range flights {
		var acked []uint64
		var lost []*outboxEntry
		var firstErr error
		for i, e := range f.batch {
			if err := f.acks[i].Wait(ctx); err != nil {
				lost = append(lost, e)
				firstErr = cmp.Or(firstErr, err)
			} else {
				acked = append(acked, e.seq)
				// Stored: a write that drops its version need not rewrite
				// its entry whole, from the moment the write it answers is
				// released, not once the whole batch is.
				p.mu.Lock()
				delete(p.mu.refs, e.seq)
				p.mu.Unlock()
			}
			e.finish()
		}
		p.publishTime.Observe(time.Since(f.start).Seconds())
		p.published.Add(float64(len(acked)))
		p.failed.Add(float64(len(lost)))
		p.remove(acked)
		if len(lost) > 0 {
			p.requeue(lost)
			select {
			case failed <- firstErr:
			default:
			}
			continue
		}
		p.setHealthy(true)
	}
}

func (p *publisher) ensure(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return p.feeds.Ensure(ctx)
}

func (p *publisher) isHealthy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.healthy
}

func (p *publisher) setHealthy(h bool) {
	p.mu.Lock()
	p.mu.healthy = h
	p.mu.Unlock()
}

// next takes the next events to publish from the queue, waiting a second
// at most; false once ctx ends.
func (p *publisher) next(ctx context.Context) ([]*outboxEntry, bool) {
	for {
		p.mu.Lock()
		if len(p.mu.queue) == 0 && p.mu.disk {
			if err := p.loadLocked(); err != nil {
				p.n.log.Error("reading the outbox", "err", err)
			}
		}
		if n := min(len(p.mu.queue), p.cfg.MaxBatch); n > 0 {
			batch := p.mu.queue[:n:n]
			p.mu.queue = p.mu.queue[n:]
			p.mu.Unlock()
			return batch, true
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false
		case <-p.wake:
		case <-time.After(time.Second):
			// Idle: no stamp carries the removals; write them alone.
			p.flushDeletes()
			return nil, true
		}
	}
}

// loadLocked fills the queue from the outbox on disk.
func (p *publisher) loadLocked() error {
	var out []*outboxEntry
	err := p.scanOutbox(p.mu.from, func(seq uint64, v []byte) bool {
		e, err := decodeOutboxEntry(seq, bytes.Clone(v))
		if err != nil {
			p.n.log.Error("dropping an undecodable outbox entry", "seq", seq, "err", err)
			return true
		}
		if e.ref != nil {
			// Every entry by reference on disk is tracked until its
			// event is stored (outbox.go): an untracked one was.
			r := p.mu.refs[seq]
			if r == nil {
				return true
			}
			e.pub.Data = r.pub.Data
		}
		if seq <= p.prevLife {
			e.stored = eventTime(e.pub.Data)
		}
		out = append(out, e)
		return len(out) < p.cfg.MaxQueued
	})
	if err != nil {
		return err
	}
	p.mu.queue = append(p.mu.queue, out...)
	if len(out) > 0 {
		p.mu.loaded = out[len(out)-1].seq
		p.mu.from = p.mu.loaded + 1
		p.n.log.Info("publishing change events from the outbox", "events", len(out))
	}
	if len(out) < p.cfg.MaxQueued {
		p.mu.disk = false // every committed event is queued now
	}
	return nil
}

// requeue puts events whose publish failed back in the queue in commit
// (sequence) order: ahead of the events not sent yet, behind those of an
// earlier flight that failed too.
func (p *publisher) requeue(failed []*outboxEntry) {
	p.mu.Lock()
	q := p.mu.queue
	i := sort.Search(len(q), func(i int) bool { return q[i].seq > failed[0].seq })
	p.mu.queue = slices.Concat(q[:i], failed, q[i:])
	p.mu.Unlock()
}

// remove deletes acknowledged events from the outbox. The deletions ride
// in the batch of the next stamped write, so they cost no sync of their
// own (an idle node writes them alone after a second); an entry that
// survives a crash is published again and dropped as a duplicate.
func (p *publisher) remove(seqs []uint64) {
	if len(seqs) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range seqs {
		delete(p.mu.refs, s)
	}
	if !p.cfg.KeepOutbox {
		p.mu.deletes = append(p.mu.deletes, seqs...)
	}
}

// flushDeletes writes the pending removals in an update of their own.
func (p *publisher) flushDeletes() {
	p.mu.Lock()
	seqs := p.mu.deletes
	p.mu.deletes = nil
	p.mu.Unlock()
	if len(seqs) == 0 {
		return
	}
	p.n.eng.Submit(engine.Update{
		// A key never written: the update reads nothing and writes only
		// its deletions.
		Key: tenants.OutboxPrefix(),
		Fn: func(tx *engine.Tx, _ vclock.Set) (vclock.Set, bool, error) {
			for _, s := range seqs {
				tx.Delete(tenants.OutboxKey(s))
			}
			return nil, false, nil
		},
		Done: func(_ engine.Result, err error) {
			if err != nil && !errors.Is(err, engine.ErrClosed) {
				p.n.log.Warn("outbox cleanup failed; the events will be published again and dropped as duplicates", "err", err)
			}
		},
	})
}

// stop releases every waiting write; what is unpublished stays in the
// outbox.
func (p *publisher) stop() {
	p.flushDeletes()
	p.mu.Lock()
	p.mu.stopped = true
	q := p.mu.queue
	p.mu.queue = nil
	p.mu.Unlock()
	for _, e := range q {
		e.finish()
	}
}

// FeedBacklog returns the number of change events in the node's outbox
// (staged, not yet acknowledged by the stream).
func (n *Node) FeedBacklog() (int, error) { return n.eng.Count(tenants.OutboxPrefix()) }
