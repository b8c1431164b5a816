package storagenode

import (
	"errors"
	"fmt"
	"time"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// dispatch runs on the subscription's goroutine: writes go straight to the
// engine's queue (they never block on disk here), gets are answered here
// while they are fast (see getPlacer), other reads go to the workers.
func (n *Node) dispatch(m *messaging.Msg) {
	msg, err := wire.Decode(m.Data)
	if err != nil {
		n.reply(m, &wire.Reply{Code: wire.CodeOf(err), Message: wire.MessageOf(err)}, "decode")
		return
	}
	switch req := msg.(type) {
	case *wire.PutRequest:
		n.handlePut(m, req)
	case *wire.ReplicateRequest:
		n.handleReplicate(m, req)
	case *wire.GetRequest:
		if n.gets.inline() {
			n.serveInline(m, msg)
			return
		}
		n.m.deferredGets.Inc()
		n.toWorkers(m, msg)
	case *wire.ScanRequest, *wire.UsageRequest, *wire.PurgeRequest,
		*wire.TransferRequest, *wire.StatusRequest, *wire.AdminRequest,
		*wire.MerkleRequest, *wire.BucketRequest, *wire.GCRequest:
		n.toWorkers(m, msg)
	default:
		n.reply(m, &wire.Reply{Code: wire.CodeBadRequest, Message: fmt.Sprintf("unexpected %v message", msg.Type())}, "decode")
	}
}

// serveInline answers a get on the subscription's goroutine. Close waits
// for it as for the workers: the store closes after.
func (n *Node) serveInline(m *messaging.Msg, msg wire.Message) {
	n.readsMu.RLock()
	defer n.readsMu.RUnlock()
	if n.readsClosed {
		return
	}
	start := time.Now()
	n.serveRead(m, msg)
	if n.gets.took(time.Since(start)) {
		n.m.slowGets.Inc()
	}
}

func (n *Node) toWorkers(m *messaging.Msg, msg wire.Message) {
	n.readsMu.RLock()
	if !n.readsClosed {
		n.reads <- readReq{m: m, req: msg}
	}
	n.readsMu.RUnlock()
}

func (n *Node) closeReads() {
	n.readsMu.Lock()
	n.readsClosed = true
	close(n.reads)
	n.readsMu.Unlock()
}

func (n *Node) reply(m *messaging.Msg, r *wire.Reply, op string) {
	r.Node = n.cfg.ID
	n.m.requests.WithLabelValues(op, r.Code.String()).Inc()
	b := wire.EncodeScratch(r)
	if err := n.conn.Respond(m, *b); err != nil {
		n.log.Warn("reply failed", "op", op, "err", err)
	}
	wire.Recycle(b)
}

func (n *Node) handlePut(m *messaging.Msg, req *wire.PutRequest) {
	if err := validatePut(req); err != nil {
		n.reply(m, &wire.Reply{Tag: req.Tag, Code: wire.CodeBadRequest, Message: err.Error()}, "put")
		return
	}
	if err := n.refuseIfLeft(); err != nil {
		n.reply(m, &wire.Reply{Tag: req.Tag, Code: wire.CodeOf(err), Message: wire.MessageOf(err)}, "put")
		return
	}
	if !req.Deleted && req.Key.Kind == tenants.KindData {
		if err := n.disk.refuse(); err != nil {
			n.reply(m, &wire.Reply{Tag: req.Tag, Code: wire.CodeOf(err), Message: wire.MessageOf(err)}, "put")
			return
		}
	}
	var stamped vclock.Version
	key := req.Key.Encode()
	if req.Hint != "" {
		// A fallback stamps for a replica that is down, and keeps the
		// version as a hint for it.
		key = tenants.HintKey(req.Hint, req.Key)
	}
	var event *outboxEntry // the change event of a new version
	n.eng.Submit(engine.Update{
		Key: key,
		Fn: func(tx *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) {
			_, again := cur.ByWrite(req.Write)
			next, v, err := n.stamp(tx, cur, req)
			stamped = v
			dup := err == nil && v.Clock.Dot.Counter != 0 && len(cur) > 0 && cur.Same(next) && req.Write != 0
			if prev := event; err == nil && !dup && !again {
				event = n.feed.stage(tx, req, key, next, v, prev)
			} else {
				n.feed.abandon(prev)
				event = nil
			}
			return next, err == nil && !dup, err
		},
		Staged: func(next vclock.Set) { n.forward(m.Reply, req, next) },
		Done: func(res engine.Result, err error) {
			r := &wire.Reply{Tag: req.Tag}
			if errors.Is(err, engine.ErrPurged) {
				err = wire.Errorf(wire.CodeNotFound, "table %s has been dropped", req.Key.Table)
			}
			if err != nil {
				r.Code, r.Message = wire.CodeOf(err), wire.MessageOf(err)
			} else {
				if req.Hint != "" {
					n.handoff.noteHint()
				}
				r.Context = res.Set.WriteContext(stamped)
				r.Count = uint32(len(res.Set.OncePerWrite())) // siblings as a read shows them
				if req.WantSet {
					r.Set = res.Set
				}
			}
			if err == nil && event != nil {
				// Acknowledged once the event is published (see feed.go).
				n.feed.committed(event, func() { n.reply(m, r, "put") })
				return
			}
			n.feed.abandon(event)
			n.reply(m, r, "put")
		},
	})
}

// stamp applies a client write: a new dot of this node's incarnation, the
// client's context as its past (with the other stamps of a retried write
// it saw, vclock.Set.CoverRestamps), replacing exactly the siblings that
// past covers.
func (n *Node) stamp(tx *engine.Tx, cur vclock.Set, req *wire.PutRequest) (vclock.Set, vclock.Version, error) {
	if v, ok := cur.ByWrite(req.Write); ok {
		// A retry of a request whose first stamp reached this replica:
		// acknowledge that stamp rather than make a duplicate sibling.
		return cur, v, nil
	}
	actor := tx.Actor()
	now := n.cfg.Clock.Now().UnixMilli()
	// Counters stay above anything the item or the client has seen from
	// this actor, even one forged into a context.
	dot := vclock.Dot{Actor: actor, Counter: tx.NextCounter(max(req.Context.Max(actor), cur.MaxCounter(actor))), Stamp: now}
	modified := now
	for _, v := range cur {
		// Last-writer-wins needs the newest write to be newest here even if
		// another node's clock ran ahead.
		if v.Modified >= modified {
			modified = v.Modified + 1
		}
	}
	v := vclock.Version{Clock: vclock.Clock{Dot: dot}, Value: req.Value, Deleted: req.Deleted, Modified: modified, Write: req.Write}
	if req.TTLMillis > 0 {
		v.Expires = now + req.TTLMillis
	}
	ctx := cur.CoverRestamps(req.Context)
	if req.LWW {
		// The newest write wins: it supersedes everything this replica has.
		ctx = ctx.Merge(cur.Context())
	}
	next := cur.Update(ctx, v, n.cfg.PruneLimit)
	for _, x := range next {
		if x.Clock.Dot == dot {
			v = x // the stored version, with its (pruned) past
		}
	}
	if lim := int(req.MaxSiblings); lim > 0 && len(next) > lim && len(next) > len(cur) {
		n.m.siblingRefused.Inc()
		return nil, v, wire.Errorf(wire.CodeTooManySiblings,
			"the item would have %d siblings and its table allows %d: read it and write with the context of that read to resolve them", len(next), lim)
	}
	n.m.siblings.Observe(float64(len(next)))
	if len(next) > n.cfg.SiblingWarn {
		n.m.siblingWarn.Inc()
		n.log.Warn("item has many siblings", "siblings", len(next), "key", fmt.Sprintf("%x", req.Key.Encode()))
	}
	return next, v, nil
}

// forward sends the stamped set to the other replicas; their answers go
// to the coordinator's reply subject, not to this node.
func (n *Node) forward(replyTo string, req *wire.PutRequest, next vclock.Set) {
	for i, to := range req.Forward {
		rep := &wire.ReplicateRequest{Header: req.Header, Key: req.Key, Set: next}
		if i < len(req.Hints) {
			rep.Hint = req.Hints[i]
		}
		b := wire.EncodeScratch(rep)
		if err := n.conn.Publish(n.ops.Get(to, "replicate"), replyTo, *b); err != nil {
			n.log.Warn("forward failed", "to", to, "err", err)
		}
		wire.Recycle(b)
	}
}

func (n *Node) handleReplicate(m *messaging.Msg, req *wire.ReplicateRequest) {
	if err := req.Key.Validate(); err != nil {
		n.reply(m, &wire.Reply{Tag: req.Tag, Code: wire.CodeBadRequest, Message: err.Error()}, "replicate")
		return
	}
	if err := n.refuseIfLeft(); err != nil {
		n.reply(m, &wire.Reply{Tag: req.Tag, Code: wire.CodeOf(err), Message: wire.MessageOf(err)}, "replicate")
		return
	}
	if req.Key.Kind == tenants.KindData && holdsValues(req.Set) {
		if err := n.disk.refuse(); err != nil {
			n.reply(m, &wire.Reply{Tag: req.Tag, Code: wire.CodeOf(err), Message: wire.MessageOf(err)}, "replicate")
			return
		}
	}
	key := req.Key.Encode()
	if req.Hint != "" {
		key = tenants.HintKey(req.Hint, req.Key)
	}
	n.eng.Submit(engine.Update{
		Key: key,
		Fn: func(_ *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) {
			next := cur.Sync(req.Set)
			return next, !next.Same(cur), nil
		},
		Done: func(_ engine.Result, err error) {
			r := &wire.Reply{Tag: req.Tag}
			if errors.Is(err, engine.ErrPurged) {
				// Late (a forward, a read repair, a hint): the table was
				// dropped after it was sent, and nothing is to be kept.
				err = nil
			}
			if err != nil {
				r.Code, r.Message = wire.CodeOf(err), wire.MessageOf(err)
			} else if req.Hint != "" {
				n.handoff.noteHint()
			}
			n.reply(m, r, "replicate")
		},
	})
}

// refuseIfLeft refuses a write to a node that has left the ring: one sent
// by a coordinator whose view is not updated yet would count towards its
// quorum, on a node about to be stopped, and nobody would ever read it
// there. The coordinator takes another replica or a fallback instead.
func (n *Node) refuseIfLeft() error {
	if s := n.cl.snap.Load(); s == nil || s.state.Members[n.cfg.ID].Status != membership.Left {
		return nil
	}
	return wire.Errorf(wire.CodeUnavailable, "node %s has left the ring: it takes no writes", n.cfg.ID)
}

// holdsValues says whether a replicated set has a version that is not a
// tombstone: a set of deletes only is taken even on a nearly full disk.
func holdsValues(s vclock.Set) bool {
	for _, v := range s {
		if !v.Deleted {
			return true
		}
	}
	return false
}

// readReq is a decoded request waiting for a read worker.
type readReq struct {
	m   *messaging.Msg
	req wire.Message
}

func (n *Node) serveRead(m *messaging.Msg, msg wire.Message) {
	switch req := msg.(type) {
	case *wire.GetRequest:
		r := &wire.Reply{Tag: req.Tag}
		if err := req.Key.Validate(); err != nil {
			r.Code, r.Message = wire.CodeBadRequest, err.Error()
		} else if !req.Hints {
			// The stored bytes are the set's wire form: no decoding and
			// encoding again.
			if raw, err := n.eng.GetEncoded(req.Key.Encode()); err != nil {
				r.Code, r.Message = wire.CodeInternal, err.Error()
			} else if raw != nil {
				r.SetBytes = raw
			} else {
				r.Set = vclock.Set{}
			}
		} else if set, err := n.getWithHints(req.Key); err != nil {
			r.Code, r.Message = wire.CodeInternal, err.Error()
		} else {
			r.Set = set
			if r.Set == nil {
				r.Set = vclock.Set{}
			}
		}
		n.reply(m, r, "get")
	case *wire.ScanRequest:
		n.reply(m, n.scan(req), "scan")
	case *wire.UsageRequest:
		n.reply(m, n.usage(req), "usage")
	case *wire.PurgeRequest:
		n.reply(m, n.purge(req), "purge")
	case *wire.TransferRequest:
		n.reply(m, n.serveTransfer(req), "transfer")
	case *wire.StatusRequest:
		n.reply(m, n.status(req), "status")
	case *wire.AdminRequest:
		n.reply(m, n.adminOp(req), "admin")
	case *wire.MerkleRequest:
		n.reply(m, n.serveMerkle(req), "merkle")
	case *wire.BucketRequest:
		n.reply(m, n.serveBucket(req), "bucket")
	case *wire.GCRequest:
		n.reply(m, n.serveGC(req), "gc")
	}
}

// getWithHints reads a key with the hints kept for other replicas: how a
// fallback answers in place of a replica that is down.
func (n *Node) getWithHints(k tenants.Key) (vclock.Set, error) {
	set, err := n.eng.Get(k.Encode())
	if err != nil {
		return nil, err
	}
	for _, owner := range n.cl.snap.Load().state.Alive() {
		h, err := n.eng.Get(tenants.HintKey(owner, k))
		if err != nil {
			return nil, err
		}
		set = set.Sync(h)
	}
	return set, nil
}

// setBytes is about what s takes in a reply: its values, and for each
// version some 64 bytes of clock and times.
func setBytes(s vclock.Set) int {
	n := 0
	for _, v := range s {
		n += len(v.Value) + 64
	}
	return n
}

func (n *Node) scan(req *wire.ScanRequest) *wire.Reply {
	r := &wire.Reply{Tag: req.Tag, Items: []wire.ScanItem{}}
	k := req.Key
	k.SK = ""
	if req.Whole {
		k.PK = "-" // the partition key is not part of a whole-table scan
	}
	if err := k.Validate(); err != nil {
		r.Code, r.Message = wire.CodeBadRequest, err.Error()
		return r
	}
	limit := int(req.Limit)
	if limit <= 0 || limit > wire.MaxScanLimit {
		limit = wire.MaxScanLimit
	}
	prefix := k.ItemPrefix()
	if req.Whole {
		prefix = tenants.TablePrefix(k.Kind, k.Partition, k.Tenant, k.Table)
	}
	rng := engine.ScanRange{Prefix: prefix, Start: []byte(req.Start), End: []byte(req.End), Reverse: req.Reverse, Limit: limit + 1}
	size := 0
	err := n.eng.Scan(rng, func(sk []byte, s vclock.Set) bool {
		// A page ends at its limit, or once it holds ScanReplyBytes: items
		// of hundreds of KiB would otherwise make a reply larger than a
		// message may be, and a page that can never be sent. The gateway
		// pages on from the last item every replica covered.
		if len(r.Items) == limit || len(r.Items) > 0 && size >= n.cfg.ScanReplyBytes {
			r.More = true
			return false
		}
		r.Items = append(r.Items, wire.ScanItem{SK: string(sk), Set: s})
		size += len(sk) + setBytes(s)
		return true
	})
	if err != nil {
		r.Code, r.Message, r.Items = wire.CodeInternal, err.Error(), nil
	}
	return r
}

func validatePut(req *wire.PutRequest) error {
	if err := req.Key.Validate(); err != nil {
		return err
	}
	if len(req.Value) > wire.MaxItemSize {
		return fmt.Errorf("item of %d bytes exceeds the %d-byte limit", len(req.Value), wire.MaxItemSize)
	}
	if req.Deleted && len(req.Value) > 0 {
		return fmt.Errorf("a delete carries no value")
	}
	if len(req.Hints) > len(req.Forward) {
		return fmt.Errorf("%d hints for %d forwards", len(req.Hints), len(req.Forward))
	}
	for _, f := range req.Forward {
		if !messaging.ValidToken(f) {
			return fmt.Errorf("forward target %q is not a node ID", f)
		}
	}
	return nil
}

func (n *Node) usage(req *wire.UsageRequest) *wire.Reply {
	r := &wire.Reply{Tag: req.Tag, Usage: []wire.Usage{}}
	us, err := n.eng.Usage()
	if err != nil {
		r.Code, r.Message = wire.CodeOf(err), wire.MessageOf(err)
		return r
	}
	for _, u := range us {
		r.Usage = append(r.Usage, wire.Usage{Tenant: u.Tenant, Table: u.Table, Bytes: u.Bytes})
	}
	return r
}

// purge deletes a tenant's (or one table's) items in every partition and
// every kind that holds them.
func (n *Node) purge(req *wire.PurgeRequest) *wire.Reply {
	r := &wire.Reply{Tag: req.Tag}
	if req.Tenant == "" {
		r.Code, r.Message = wire.CodeBadRequest, "purge needs a tenant"
		return r
	}
	// Hints are found by the engine: their keys start with their owner.
	kinds := []tenants.Kind{tenants.KindData}
	if req.Table == "" {
		// A deleted tenant's catalog goes too.
		kinds = append(kinds, tenants.KindSystem)
	}
	var prefixes [][]byte
	for _, kind := range kinds {
		for p := range n.cfg.Q {
			if req.Table == "" {
				prefixes = append(prefixes, tenants.TenantPrefix(kind, uint32(p), req.Tenant))
			} else {
				prefixes = append(prefixes, tenants.TablePrefix(kind, uint32(p), req.Tenant, req.Table))
			}
		}
	}
	if err := n.eng.Purge(prefixes, req.Tenant, req.Table); err != nil {
		r.Code, r.Message = wire.CodeInternal, err.Error()
		return r
	}
	n.log.Info("purged", "tenant", req.Tenant, "table", req.Table)
	return r
}
