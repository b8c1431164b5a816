package storagenode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/storagenode/hints"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// handoff delivers the hints this node keeps (versions it accepted as a
// fallback for replicas that were down) back to their owners once they
// are reachable again. Hints survive restarts (they are keys in the
// store); one is deleted only after its owner acknowledged it, and only if
// no newer hint for the same key arrived meanwhile.
type handoff struct {
	n       *Node
	sched   *hints.Scheduler
	gate    scanGate
	mu      sync.Mutex
	pending map[string]int // owner → hinted keys, as of the last scan
	gauge   *prometheus.GaugeVec
}

func newHandoff(n *Node) *handoff {
	h := &handoff{n: n, sched: hints.New(), pending: map[string]int{},
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ringtable_node_hints_pending", Help: "Hinted keys waiting for delivery, by target node.",
			ConstLabels: prometheus.Labels{"node": n.cfg.ID},
		}, []string{"target"})}
	h.gate.note() // hints from before a restart
	n.m.add(h.gauge)
	return h
}

// noteHint records that a hint was written. It is called once the hint is
// committed: a scan that starts after it sees the hint.
func (h *handoff) noteHint() { h.gate.note() }

// scanGate spares the hint loop its scans while no hint exists. A scan
// that finds none closes the gate only for the hints noted before it
// began: a hint committed while it ran (which it may not have seen)
// opens the gate again. A flag cleared by an empty scan would lose that
// hint until the next one arrived.
type scanGate struct {
	noted   atomic.Uint64 // hints noted so far
	emptyAt uint64        // noted as of the start of the last scan that found none (the loop's own)
}

func (g *scanGate) note() { g.noted.Add(1) }

// begin reports whether a scan is worth it, and the count to pass to
// foundNone if it finds nothing.
func (g *scanGate) begin() (uint64, bool) {
	n := g.noted.Load()
	return n, n != g.emptyAt
}

func (g *scanGate) foundNone(at uint64) { g.emptyAt = at }

// Pending returns the hinted keys per target as of the last scan.
func (h *handoff) Pending() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.pending))
	for k, v := range h.pending {
		out[k] = v
	}
	return out
}

func (h *handoff) loop(ctx context.Context) {
	t := time.NewTicker(h.n.cfg.HintInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		at, worth := h.gate.begin()
		if !worth {
			continue
		}
		byOwner, err := h.scan()
		if err != nil {
			h.n.log.Warn("hint scan", "err", err)
			continue
		}
		if len(byOwner) == 0 {
			h.gate.foundNone(at)
		}
		snap := h.n.cl.snap.Load()
		reachable := func(owner string) bool {
			// A departed owner's hints go to the keys' replicas now.
			return departed(snap, owner) || owner != h.n.cfg.ID && !slices.Contains(snap.unreachable, owner)
		}
		counts := map[string]int{}
		for o, ks := range byOwner {
			counts[o] = len(ks)
		}
		for _, owner := range h.sched.Tick(counts, reachable) {
			gone := departed(snap, owner)
			if err := h.deliver(ctx, snap, owner, byOwner[owner]); err != nil {
				if !gone {
					h.n.cl.missed(owner)
				}
				wait := h.sched.Failed(owner)
				h.n.log.Info("hint delivery failed; backing off", "owner", owner, "departed", gone, "ticks", wait, "err", err)
			} else {
				if !gone {
					h.n.cl.heard(owner)
				}
				h.sched.Delivered(owner)
			}
		}
	}
}

// scan lists the hint keys per owner, and updates the pending view.
func (h *handoff) scan() (map[string][][]byte, error) {
	out := map[string][][]byte{}
	err := h.n.eng.DB().View(func(txn *badger.Txn) error {
		for _, kind := range tenants.HintKinds {
			opts := badger.DefaultIteratorOptions
			opts.Prefix = []byte{byte(kind)}
			opts.PrefetchValues = false
			it := txn.NewIterator(opts)
			for it.Rewind(); it.Valid(); it.Next() {
				k := it.Item().KeyCopy(nil)
				owner, _, err := tenants.DecodeHintKey(k)
				if err != nil {
					continue
				}
				out[owner] = append(out[owner], k)
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	for o := range h.pending {
		if _, ok := out[o]; !ok {
			h.gauge.DeleteLabelValues(o)
		}
	}
	h.pending = map[string]int{}
	for o, ks := range out {
		h.pending[o] = len(ks)
		h.gauge.WithLabelValues(o).Set(float64(len(ks)))
	}
	h.mu.Unlock()
	return out, nil
}

// departed reports whether a hint's owner is no longer a member: it left
// (or is unknown here) while others held writes for it.
func departed(snap *snapshot, owner string) bool {
	m, ok := snap.state.Members[owner]
	return !ok || m.Status == membership.Left
}

// targets are the nodes a hint of owner for k goes to: the owner, or, once
// it has departed, the key's replicas in the serving ring (its partitions
// went to them, pulled from replicas that may lack what it was owed).
func (h *handoff) targets(snap *snapshot, owner string, k tenants.Key) []string {
	if !departed(snap, owner) {
		return []string{owner}
	}
	if snap.serving == nil {
		return nil
	}
	pl, _ := snap.serving.Preference(ring.Partition(k.Partition), h.n.cfg.TransferN)
	out := make([]string, len(pl))
	for i, x := range pl {
		out[i] = string(x)
	}
	return out
}

// deliver sends an owner its hints, within the hint rate, stopping at the
// first failure.
func (h *handoff) deliver(ctx context.Context, snap *snapshot, owner string, keys [][]byte) error {
	sort.Slice(keys, func(i, j int) bool { return string(keys[i]) < string(keys[j]) })
	for _, hk := range keys {
		if err := h.n.limits.waitHint(ctx); err != nil {
			return err
		}
		set, err := h.n.eng.Get(hk)
		if err != nil {
			return err
		}
		if len(set) == 0 {
			continue
		}
		_, k, err := tenants.DecodeHintKey(hk)
		if err != nil {
			continue
		}
		to := h.targets(snap, owner, k)
		if len(to) == 0 {
			return fmt.Errorf("hint for departed %s: no ring to place it in", owner)
		}
		for _, node := range to {
			if err := h.send(ctx, node, k, set); err != nil {
				return fmt.Errorf("hint for %s, to %s: %w", owner, node, err)
			}
		}
		// Acknowledged: forget the hint unless a newer one came in.
		_, err = h.n.eng.Apply(hk, func(_ *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) {
			if cur.Same(set) {
				return nil, true, nil
			}
			return cur, false, nil
		})
		if err != nil && !errors.Is(err, engine.ErrClosed) && !errors.Is(err, engine.ErrPurged) {
			return err
		}
		h.n.m.hintsDelivered.Inc()
	}
	return nil
}

// send stores a hinted set on node (this one included, for a departed
// owner's key it now replicates).
func (h *handoff) send(ctx context.Context, node string, k tenants.Key, set vclock.Set) error {
	if node == h.n.cfg.ID {
		_, err := h.n.eng.Apply(k.Encode(), func(_ *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) {
			next := cur.Sync(set)
			return next, !next.Same(cur), nil
		})
		if errors.Is(err, engine.ErrPurged) {
			return nil // its table is gone: nothing to deliver
		}
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	data, err := h.n.conn.Request(rctx, h.n.subj.NodeOp(node, "replicate"), wire.Encode(&wire.ReplicateRequest{Key: k, Set: set}))
	if err != nil {
		return err
	}
	m, err := wire.Decode(data)
	if err != nil {
		return err
	}
	r, ok := m.(*wire.Reply)
	if !ok {
		return fmt.Errorf("unexpected %v", m.Type())
	}
	return r.Err()
}
