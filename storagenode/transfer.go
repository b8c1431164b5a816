package storagenode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// Partition transfers: when the ring changes, a node pulls every partition
// it replicates in the target ring but not in the serving ring, from each
// of the partition's current replicas (so a write that reached only some
// of them is not lost), merging what it receives with what it has. Reads
// and writes go on meanwhile: the current replicas keep serving, and
// writes also reach the new replicas.

// transferKinds are the key kinds that move with a partition. Hints stay
// with the node holding them: they are delivered, not transferred.
var transferKinds = []tenants.Kind{tenants.KindData, tenants.KindSystem}

// TransferStatus is the progress of one partition moving to this node.
type TransferStatus struct {
	Partition int       `json:"partition"`
	From      []string  `json:"from"`
	Keys      int64     `json:"keys"`
	Bytes     int64     `json:"bytes"`
	Total     int64     `json:"total_keys"` // estimate from the first donor
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished,omitzero"`
	Err       string    `json:"last_error,omitempty"`
}

type transfers struct {
	mu    sync.Mutex
	epoch string
	parts map[int]*TransferStatus
}

func (t *transfers) snapshot() []TransferStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TransferStatus, 0, len(t.parts))
	for _, s := range t.parts {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	return out
}

// needed lists, per partition this node must take over, its donors.
func needed(self string, st membership.State, n int) map[int][]string {
	out := map[int][]string{}
	serving, err := st.Serving()
	if err != nil {
		return out
	}
	target, err := st.Target()
	if err != nil {
		return out
	}
	for p := range target.Q() {
		tp, _ := target.Preference(ring.Partition(p), n)
		sp, _ := serving.Preference(ring.Partition(p), n)
		if !slices.Contains(tp, ring.NodeID(self)) || slices.Contains(sp, ring.NodeID(self)) {
			continue
		}
		for _, d := range sp {
			out[p] = append(out[p], string(d))
		}
	}
	return out
}

// startTransfers pulls the partitions of a ring change in the background
// and reports the outcome on the membership loop.
func (n *Node) startTransfers(ctx context.Context, st membership.State, epoch string, done func(error)) {
	need := needed(n.cfg.ID, st, n.cfg.TransferN)
	n.xfers.mu.Lock()
	n.xfers.epoch = epoch
	n.xfers.parts = map[int]*TransferStatus{}
	for p, donors := range need {
		n.xfers.parts[p] = &TransferStatus{Partition: p, From: donors}
	}
	n.xfers.mu.Unlock()
	if len(need) > 0 {
		n.log.Info("taking over partitions", "partitions", len(need), "epoch", epoch)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		var errs []error
		parts := make([]int, 0, len(need))
		for p := range need {
			parts = append(parts, p)
		}
		sort.Ints(parts)
		for _, p := range parts {
			if err := n.pullPartition(ctx, p, need[p]); err != nil {
				errs = append(errs, err)
			}
		}
		err := errors.Join(errs...)
		if err == nil && len(need) > 0 {
			n.log.Info("partitions taken over", "partitions", len(need))
		}
		select {
		case n.cl.in <- func() { done(err) }:
		case <-ctx.Done():
		}
	}()
}

func (n *Node) progress(p int, fn func(*TransferStatus)) {
	n.xfers.mu.Lock()
	if s := n.xfers.parts[p]; s != nil {
		fn(s)
	}
	n.xfers.mu.Unlock()
}

// pullPartition merges partition p from every donor that answers. A
// donor that is down does not block the transfer as long as one other
// donor served the partition: writes that only it holds come back through
// read repair and anti-entropy.
func (n *Node) pullPartition(ctx context.Context, p int, donors []string) error {
	n.progress(p, func(s *TransferStatus) { s.Started, s.Err = time.Now(), "" })
	served := 0
	var lastErr error
	for _, d := range donors {
		if err := n.pullFrom(ctx, p, d); err != nil {
			lastErr = err
			n.progress(p, func(s *TransferStatus) { s.Err = err.Error() })
			continue
		}
		served++
	}
	if served == 0 && lastErr != nil {
		return fmt.Errorf("partition %d: %w", p, lastErr)
	}
	n.progress(p, func(s *TransferStatus) { s.Finished = time.Now() })
	return nil
}

func (n *Node) pullFrom(ctx context.Context, p int, donor string) error {
	for _, kind := range transferKinds {
		after := ""
		for {
			req := &wire.TransferRequest{Kind: kind, Partition: uint32(p), After: after, Limit: 256}
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			data, err := n.conn.Request(rctx, n.subj.NodeOp(donor, "transfer"), wire.Encode(req))
			cancel()
			if err != nil {
				return fmt.Errorf("from %s: %w", donor, err)
			}
			m, err := wire.Decode(data)
			if err != nil {
				return fmt.Errorf("from %s: %w", donor, err)
			}
			r, ok := m.(*wire.Reply)
			if !ok || r.Err() != nil {
				return fmt.Errorf("from %s: %v", donor, r.Err())
			}
			if after == "" && kind == tenants.KindData {
				n.progress(p, func(s *TransferStatus) { s.Total = max(s.Total, int64(r.Count)) })
			}
			if kind == tenants.KindData {
				paused := false
				err := n.disk.waitRoom(ctx, func(err error) {
					paused = true
					n.progress(p, func(s *TransferStatus) { s.Err = "paused: " + wire.MessageOf(err) })
				})
				if err != nil {
					return err
				}
				if paused {
					n.progress(p, func(s *TransferStatus) { s.Err = "" })
				}
			}
			bytes, err := n.mergeAll(ctx, r.Items)
			if err != nil {
				return err
			}
			n.progress(p, func(s *TransferStatus) { s.Keys += int64(len(r.Items)); s.Bytes += bytes })
			if !r.More || len(r.Items) == 0 {
				break
			}
			after = r.Items[len(r.Items)-1].SK
		}
	}
	return nil
}

// mergeAll syncs received sets into the store, within the transfer rate,
// and waits until they are durable.
func (n *Node) mergeAll(ctx context.Context, items []wire.ScanItem) (int64, error) {
	var bytes int64
	for _, it := range items {
		bytes += int64(len(it.SK) + vclock.EncodedSize(it.Set))
	}
	if err := n.limits.waitTransfer(ctx, bytes); err != nil {
		return 0, err
	}
	errc := make(chan error, len(items))
	for _, it := range items {
		set := it.Set
		n.eng.Submit(engine.Update{
			Key: []byte(it.SK),
			Fn: func(_ *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) {
				next := cur.Sync(set)
				return next, !next.Same(cur), nil
			},
			Done: func(_ engine.Result, err error) {
				if errors.Is(err, engine.ErrPurged) {
					err = nil // a page read before the donor's purge
				}
				errc <- err
			},
		})
	}
	var errs []error
	for range items {
		if err := <-errc; err != nil {
			errs = append(errs, err)
		}
	}
	return bytes, errors.Join(errs...)
}

// serveTransfer answers a page of a partition's keys of one kind.
func (n *Node) serveTransfer(req *wire.TransferRequest) *wire.Reply {
	r := &wire.Reply{Tag: req.Tag, Items: []wire.ScanItem{}}
	if req.Partition >= uint32(n.cfg.Q) || !slices.Contains(transferKinds, req.Kind) {
		r.Code, r.Message = wire.CodeBadRequest, fmt.Sprintf("no partition %d of kind %v to transfer", req.Partition, req.Kind)
		return r
	}
	prefix := tenants.PartitionPrefix(req.Kind, req.Partition)
	limit := int(min(max(req.Limit, 1), 1024))
	rng := engine.ScanRange{Prefix: prefix, Limit: limit + 1}
	if req.After != "" {
		if len(req.After) < len(prefix) || req.After[:len(prefix)] != string(prefix) {
			r.Code, r.Message = wire.CodeBadRequest, "transfer cursor outside the partition"
			return r
		}
		rng.Start = append([]byte(req.After[len(prefix):]), 0)
	} else {
		cnt, err := n.eng.Count(prefix)
		if err == nil {
			r.Count = uint32(min(cnt, 1<<32-1))
		}
	}
	size := 0
	err := n.eng.Scan(rng, func(suffix []byte, s vclock.Set) bool {
		if len(r.Items) == limit || size > 4<<20 {
			r.More = true
			return false
		}
		r.Items = append(r.Items, wire.ScanItem{SK: string(prefix) + string(suffix), Set: s})
		size += len(suffix) + vclock.EncodedSize(s)
		return true
	})
	if err != nil {
		r.Code, r.Message, r.Items = wire.CodeInternal, err.Error(), nil
	}
	return r
}
