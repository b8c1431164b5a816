package storagenode

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/storagenode/merkle"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// Active anti-entropy: for each partition it replicates, a node compares
// its Merkle tree with each other replica's (roots first, descending only
// into differing subtrees), fetches the items of the differing leaves from
// both sides, and sends each side what it lacks; both end with the
// reconciled siblings. Each pair of replicas is handled by the node with
// the smaller ID. After an exchange in which every replica of a partition
// turned out identical, tombstones older than the grace period are
// removed everywhere: every replica is known to hold them, so no replica
// can bring the deleted item back.

// AAEStatus is what a node reports of its anti-entropy.
type AAEStatus struct {
	Running    bool                `json:"running"`
	Done       int                 `json:"partitions_done"`
	Total      int                 `json:"partitions_total"`
	Repaired   int64               `json:"keys_repaired"`
	Bytes      int64               `json:"bytes_exchanged"`
	Removed    int64               `json:"tombstones_removed"`
	Started    time.Time           `json:"started,omitzero"`
	Finished   time.Time           `json:"finished,omitzero"`
	LastError  string              `json:"last_error,omitempty"`
	Partitions map[int]AAEExchange `json:"partitions,omitempty"` // last completed exchange per partition
}

// AAEExchange is the last completed exchange of one partition.
type AAEExchange struct {
	At       time.Time `json:"at"`
	Peers    []string  `json:"peers"`
	Repaired int       `json:"keys_repaired"`
}

type aae struct {
	n       *Node
	mu      sync.Mutex
	st      AAEStatus
	running atomic.Bool
	bytes   atomic.Int64
}

func newAAE(n *Node) *aae {
	return &aae{n: n, st: AAEStatus{Partitions: map[int]AAEExchange{}}}
}

func (a *aae) status() AAEStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.st
	s.Bytes = a.bytes.Load()
	s.Partitions = make(map[int]AAEExchange, len(a.st.Partitions))
	for k, v := range a.st.Partitions {
		s.Partitions[k] = v
	}
	return s
}

func (a *aae) loop(ctx context.Context) {
	if a.n.cfg.AAEInterval <= 0 {
		return
	}
	t := time.NewTicker(a.n.cfg.AAEInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Run(ctx, "", ""); err != nil && ctx.Err() == nil {
				a.n.log.Warn("anti-entropy run", "err", err)
			}
		}
	}
}

// shortOfDisk is a repair this node's disk refused: a run reports it once,
// not once per partition.
type shortOfDisk struct{ error }

func (e shortOfDisk) Unwrap() error { return e.error }

// errRunning is returned when a run is asked for while one is going on.
var errRunning = errors.New("an anti-entropy run is already in progress")

// Run exchanges every partition this node replicates with the other
// replicas (only the keys of one table when tenant and table are set).
func (a *aae) Run(ctx context.Context, tenant, table string) error {
	if !a.running.CompareAndSwap(false, true) {
		return errRunning
	}
	defer a.running.Store(false)
	snap := a.n.cl.snap.Load()
	if snap.serving == nil {
		return errors.New("the node has no ring yet")
	}
	self := ring.NodeID(a.n.cfg.ID)
	var parts []int
	for p := range snap.serving.Q() {
		pl, _ := snap.serving.Preference(ring.Partition(p), a.n.cfg.TransferN)
		if slices.Contains(pl, self) {
			parts = append(parts, p)
		}
	}
	a.bytes.Store(0)
	a.mu.Lock()
	a.st.Running, a.st.Done, a.st.Total, a.st.Repaired, a.st.Removed = true, 0, len(parts), 0, 0
	a.st.Started, a.st.Finished, a.st.LastError = time.Now(), time.Time{}, ""
	a.mu.Unlock()
	var errs []error
	var short error
	shortParts := 0
	for _, p := range parts {
		pl, _ := snap.serving.Preference(ring.Partition(p), a.n.cfg.TransferN)
		repaired, err := a.partition(ctx, uint32(p), pl, tenant, table)
		var sd shortOfDisk
		if errors.As(err, &sd) {
			short, err = sd.error, nil
			shortParts++
		}
		a.mu.Lock()
		a.st.Done++
		a.st.Repaired += int64(repaired)
		if err != nil {
			errs = append(errs, err)
			a.st.LastError = err.Error()
		}
		if short != nil {
			a.st.LastError = short.Error()
		}
		a.mu.Unlock()
		if ctx.Err() != nil {
			break
		}
	}
	a.mu.Lock()
	a.st.Running, a.st.Finished = false, time.Now()
	a.mu.Unlock()
	if short != nil {
		errs = append(errs, fmt.Errorf("%d partitions not repaired into this node: %w", shortParts, short))
	}
	return errors.Join(errs...)
}

// partition exchanges one partition with each other replica.
func (a *aae) partition(ctx context.Context, p uint32, replicas []ring.NodeID, tenant, table string) (int, error) {
	repaired, identical := 0, true
	var peers []string
	var short error
	for _, r := range replicas {
		peer := string(r)
		if peer == a.n.cfg.ID {
			continue
		}
		peers = append(peers, peer)
		if peer < a.n.cfg.ID && tenant == "" {
			// The peer leads this pair; it still counts for tombstone
			// collection, which needs every replica's agreement.
			same, err := a.sameRoot(ctx, p, peer)
			if err != nil || !same {
				identical = false
			}
			continue
		}
		n, err := a.exchange(ctx, p, peer, tenant, table)
		repaired += n
		if errors.As(err, new(shortOfDisk)) {
			// The other peers are still repaired where this node has
			// what they lack.
			short, identical = err, false
			continue
		}
		if err != nil {
			return repaired, fmt.Errorf("partition %d with %s: %w", p, peer, err)
		}
		same, err := a.sameRoot(ctx, p, peer)
		if err != nil || !same {
			identical = false
		}
	}
	if identical && len(peers) > 0 && tenant == "" {
		removed, err := a.collectTombstones(ctx, p, peers)
		a.mu.Lock()
		a.st.Removed += int64(removed)
		a.mu.Unlock()
		if err != nil {
			return repaired, err
		}
	}
	a.mu.Lock()
	a.st.Partitions[int(p)] = AAEExchange{At: time.Now(), Peers: peers, Repaired: repaired}
	a.mu.Unlock()
	return repaired, short
}

// ask sends a request to a peer, counting the bytes both ways.
func (a *aae) ask(ctx context.Context, peer string, m wire.Message) (*wire.Reply, error) {
	req := wire.Encode(m)
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	data, err := a.n.conn.Request(rctx, a.n.subj.NodeOp(peer, m.Type().String()), req)
	a.bytes.Add(int64(len(req) + len(data)))
	if err != nil {
		a.n.cl.missed(peer)
		return nil, err
	}
	dm, err := wire.Decode(data)
	if err != nil {
		return nil, err
	}
	r, ok := dm.(*wire.Reply)
	if !ok {
		return nil, fmt.Errorf("unexpected %v", dm.Type())
	}
	return r, r.Err()
}

func (a *aae) remoteNodes(ctx context.Context, peer string, p uint32) func(int, []int) ([]merkle.Hash, error) {
	return func(level int, idx []int) ([]merkle.Hash, error) {
		req := &wire.MerkleRequest{Partition: p, Level: uint32(level)}
		for _, i := range idx {
			req.Indices = append(req.Indices, uint32(i))
		}
		r, err := a.ask(ctx, peer, req)
		if err != nil {
			return nil, err
		}
		return decodeHashes(r.Data), nil
	}
}

func (a *aae) sameRoot(ctx context.Context, p uint32, peer string) (bool, error) {
	mine, err := a.n.eng.TreeNodes(p, 0, []int{0})
	if err != nil {
		return false, err
	}
	theirs, err := a.remoteNodes(ctx, peer, p)(0, []int{0})
	if err != nil || len(theirs) != 1 {
		return false, err
	}
	return mine[0] == theirs[0], nil
}

// exchange reconciles one partition with one peer and returns how many
// keys were repaired on either side.
func (a *aae) exchange(ctx context.Context, p uint32, peer, tenant, table string) (int, error) {
	tree, err := a.n.eng.Tree(p)
	if err != nil {
		return 0, err
	}
	leaves, _, err := merkle.DiffLeaves(tree, a.remoteNodes(ctx, peer, p))
	if err != nil || len(leaves) == 0 {
		return 0, err
	}
	// The peer answers as many of the leaves as fit in a reply (a node
	// back from a long outage differs in most of them): the rest are
	// asked for again, about twice as many as last fitted at a time, so
	// that the peer does not read the whole rest for each reply.
	repaired, batch := 0, len(leaves)
	var short error
	for len(leaves) > 0 {
		req := &wire.BucketRequest{Partition: p}
		for _, l := range leaves[:min(batch, len(leaves))] {
			req.Leaves = append(req.Leaves, uint32(l))
		}
		r, err := a.ask(ctx, peer, req)
		if err != nil {
			return repaired, err
		}
		served := len(req.Leaves)
		if r.More && r.Count > 0 && int(r.Count) < served {
			served = int(r.Count)
			batch = 2 * served
		}
		n, err := a.reconcile(ctx, p, peer, tenant, table, leaves[:served], r.Items)
		repaired += n
		if errors.As(err, new(shortOfDisk)) {
			short, err = err, nil
		}
		if err != nil {
			return repaired, err
		}
		leaves = leaves[served:]
	}
	return repaired, short
}

// reconcile brings this node's and peer's items of some leaves of
// partition p to their merge; theirs are the peer's.
func (a *aae) reconcile(ctx context.Context, p uint32, peer, tenant, table string, leaves []int, items []wire.ScanItem) (int, error) {
	theirs := map[string]vclock.Set{}
	for _, it := range items {
		theirs[it.SK] = it.Set
	}
	mine, err := a.n.eng.BucketItems(p, leaves)
	if err != nil {
		return 0, err
	}
	keys := map[string]bool{}
	for k := range theirs {
		keys[k] = true
	}
	for k := range mine {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	repaired := 0
	var short error // this node's disk refused a repair
	for _, raw := range sorted {
		k, err := tenants.Decode([]byte(raw))
		if err != nil || (tenant != "" && (k.Tenant != tenant || k.Table != table)) {
			continue
		}
		merged := mine[raw].Sync(theirs[raw])
		fix := !merged.Same(mine[raw]) || !merged.Same(theirs[raw])
		if !fix {
			continue
		}
		if err := a.n.limits.waitAAE(ctx, 1); err != nil {
			return repaired, err
		}
		did := false
		if !merged.Same(mine[raw]) {
			if err := a.n.disk.refuse(); err != nil && k.Kind == tenants.KindData && holdsValues(merged) {
				// No new values here while the disk is short; the peer
				// is still repaired.
				short = shortOfDisk{err}
			} else {
				if _, err := a.n.eng.Apply([]byte(raw), func(_ *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) {
					next := cur.Sync(merged)
					return next, !next.Same(cur), nil
				}); err != nil && !errors.Is(err, engine.ErrPurged) {
					return repaired, err
				}
				did = true
			}
		}
		if !merged.Same(theirs[raw]) {
			if _, err := a.ask(ctx, peer, &wire.ReplicateRequest{Key: k, Set: merged}); err != nil {
				return repaired, err
			}
			did = true
		}
		if did {
			repaired++
		}
	}
	return repaired, short
}

// collectTombstones removes, on this node and on the peers, the keys of
// partition p whose every version is a tombstone older than the grace
// period. It runs only after every replica was found identical.
func (a *aae) collectTombstones(ctx context.Context, p uint32, peers []string) (int, error) {
	cutoff := a.n.cfg.Clock.Now().Add(-a.n.cfg.TombstoneGrace).UnixMilli()
	var dead []wire.ScanItem
	for _, kind := range []tenants.Kind{tenants.KindData, tenants.KindSystem} {
		err := a.n.eng.Scan(engine.ScanRange{Prefix: tenants.PartitionPrefix(kind, p)}, func(suffix []byte, s vclock.Set) bool {
			if tombstonesOlderThan(s, cutoff) {
				dead = append(dead, wire.ScanItem{SK: string(tenants.PartitionPrefix(kind, p)) + string(suffix), Set: s})
			}
			return len(dead) < wire.MaxScanLimit
		})
		if err != nil {
			return 0, err
		}
	}
	if len(dead) == 0 {
		return 0, nil
	}
	for _, peer := range peers {
		if _, err := a.ask(ctx, peer, &wire.GCRequest{Items: dead}); err != nil {
			return 0, err
		}
	}
	return a.n.removeTombstones(dead)
}

func tombstonesOlderThan(s vclock.Set, cutoff int64) bool {
	if len(s) == 0 {
		return false
	}
	for _, v := range s {
		if !v.Deleted || v.Modified > cutoff {
			return false
		}
	}
	return true
}

// removeTombstones deletes the given keys if they still hold exactly the
// given tombstones.
func (n *Node) removeTombstones(items []wire.ScanItem) (int, error) {
	removed := 0
	cutoff := n.cfg.Clock.Now().Add(-n.cfg.TombstoneGrace).UnixMilli()
	for _, it := range items {
		want := it.Set
		if !tombstonesOlderThan(want, cutoff) {
			continue
		}
		res, err := n.eng.Apply([]byte(it.SK), func(_ *engine.Tx, cur vclock.Set) (vclock.Set, bool, error) {
			if cur.Same(want) && tombstonesOlderThan(cur, cutoff) {
				return nil, true, nil
			}
			return cur, false, nil
		})
		if errors.Is(err, engine.ErrPurged) {
			continue // gone with its table
		}
		if err != nil {
			return removed, err
		}
		if res.Written {
			removed++
		}
	}
	return removed, nil
}

func encodeHashes(hs []merkle.Hash) []byte {
	b := make([]byte, 0, 16*len(hs))
	for _, h := range hs {
		b = binary.BigEndian.AppendUint64(b, h[0])
		b = binary.BigEndian.AppendUint64(b, h[1])
	}
	return b
}

func decodeHashes(b []byte) []merkle.Hash {
	out := make([]merkle.Hash, len(b)/16)
	for i := range out {
		out[i] = merkle.Hash{binary.BigEndian.Uint64(b[16*i:]), binary.BigEndian.Uint64(b[16*i+8:])}
	}
	return out
}

// serveMerkle answers tree hashes.
func (n *Node) serveMerkle(req *wire.MerkleRequest) *wire.Reply {
	r := &wire.Reply{Tag: req.Tag}
	if req.Partition >= uint32(n.cfg.Q) || int(req.Level) > merkle.Depth {
		r.Code, r.Message = wire.CodeBadRequest, "no such tree node"
		return r
	}
	idx := make([]int, len(req.Indices))
	for i, x := range req.Indices {
		idx[i] = int(x)
	}
	hs, err := n.eng.TreeNodes(req.Partition, int(req.Level), idx)
	if err != nil {
		r.Code, r.Message = wire.CodeInternal, err.Error()
		return r
	}
	r.Data = encodeHashes(hs)
	return r
}

// serveBucket answers the items of some leaves: whole leaves, in the
// order asked, up to ScanReplyBytes (at least one leaf). With fewer than
// asked, More is set and Count says how many leaves the reply holds.
func (n *Node) serveBucket(req *wire.BucketRequest) *wire.Reply {
	r := &wire.Reply{Tag: req.Tag, Items: []wire.ScanItem{}}
	leaves := make([]int, len(req.Leaves))
	for i, x := range req.Leaves {
		leaves[i] = int(x)
	}
	items, err := n.eng.BucketItems(req.Partition, leaves)
	if err != nil {
		r.Code, r.Message, r.Items = wire.CodeInternal, err.Error(), nil
		return r
	}
	byLeaf := map[int][]wire.ScanItem{}
	sizes := map[int]int{}
	for k, s := range items {
		l := merkle.Bucket([]byte(k))
		byLeaf[l] = append(byLeaf[l], wire.ScanItem{SK: k, Set: s})
		sizes[l] += len(k) + setBytes(s)
	}
	size := 0
	for i, l := range leaves {
		if i > 0 && size+sizes[l] > n.cfg.ScanReplyBytes {
			r.More, r.Count = true, uint32(i)
			break
		}
		r.Items = append(r.Items, byLeaf[l]...)
		size += sizes[l]
	}
	sort.Slice(r.Items, func(i, j int) bool { return r.Items[i].SK < r.Items[j].SK })
	return r
}

func (n *Node) serveGC(req *wire.GCRequest) *wire.Reply {
	r := &wire.Reply{Tag: req.Tag}
	removed, err := n.removeTombstones(req.Items)
	if err != nil {
		r.Code, r.Message = wire.CodeInternal, err.Error()
	}
	r.Count = uint32(removed)
	return r
}
