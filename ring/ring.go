package ring

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sort"
)

// NodeID names a physical storage node. It is a NATS subject token, so it
// is limited to [A-Za-z0-9_-].
type NodeID string

// Partition is the index of one of the Q equal ranges of the hash space.
type Partition uint32

// DefaultQ is the default number of partitions.
const DefaultQ = 256

// MaxQ bounds Q so a ring stays small enough to gossip.
const MaxQ = 1 << 16

// maxWeight bounds Member.Weight so the share arithmetic cannot overflow.
const maxWeight = 1 << 16

// Member is one node of the member list the ring is replayed from.
type Member struct {
	ID     NodeID
	Weight int    // relative share of partitions; 0 means 1, at most 65536
	Joined uint64 // join sequence: members join in (Joined, ID) order
	Left   uint64 // when non-zero, the member left at this sequence
}

// Errors returned by New.
var (
	ErrBadQ      = errors.New("ring: Q must be a power of two between 1 and 65536")
	ErrNoMembers = errors.New("ring: no members")
	ErrBadMember = errors.New("ring: invalid member")
)

// Ring is an immutable assignment of partitions to nodes.
type Ring struct {
	q      int
	shift  uint
	owners []NodeID   // partition → owner
	walks  [][]NodeID // partition → every node, in preference order
	nodes  []NodeID   // sorted active nodes
}

// ValidNodeID reports whether id can name a node.
func ValidNodeID(id NodeID) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// New replays members into a ring of q partitions.
func New(q int, members []Member) (*Ring, error) {
	if q < 1 || q > MaxQ || q&(q-1) != 0 {
		return nil, fmt.Errorf("%w (got %d)", ErrBadQ, q)
	}
	seen := make(map[NodeID]bool, len(members))
	for _, m := range members {
		if !ValidNodeID(m.ID) || m.Weight < 0 || m.Weight > maxWeight || (m.Left != 0 && m.Left < m.Joined) {
			return nil, fmt.Errorf("%w: %+v", ErrBadMember, m)
		}
		if seen[m.ID] {
			return nil, fmt.Errorf("%w: duplicate id %q", ErrBadMember, m.ID)
		}
		seen[m.ID] = true
	}
	a := newAssigner(q)
	for _, ev := range events(members) {
		if ev.leave {
			a.leave(ev.m)
		} else {
			a.join(ev.m)
		}
	}
	if len(a.weight) == 0 {
		return nil, ErrNoMembers
	}
	r := &Ring{q: q, shift: uint(64 - bits.TrailingZeros(uint(q))), owners: a.owners}
	for id := range a.weight {
		r.nodes = append(r.nodes, id)
	}
	sort.Slice(r.nodes, func(i, j int) bool { return r.nodes[i] < r.nodes[j] })
	r.walks = make([][]NodeID, q)
	for p := range q {
		r.walks[p] = r.walk(Partition(p))
	}
	return r, nil
}

type event struct {
	seq   uint64
	leave bool
	m     Member
}

// events orders joins and leaves: by sequence, joins before leaves at the
// same sequence, then by ID.
func events(members []Member) []event {
	var evs []event
	for _, m := range members {
		evs = append(evs, event{seq: m.Joined, m: m})
		if m.Left != 0 {
			evs = append(evs, event{seq: m.Left, leave: true, m: m})
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		if a.leave != b.leave {
			return !a.leave
		}
		return a.m.ID < b.m.ID
	})
	return evs
}

// walk lists every node in preference order from partition p.
func (r *Ring) walk(p Partition) []NodeID {
	out := make([]NodeID, 0, len(r.nodes))
	seen := make(map[NodeID]bool, len(r.nodes))
	for i := 0; i < r.q && len(out) < len(r.nodes); i++ {
		o := r.owners[(int(p)+i)%r.q]
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	// Nodes that own no partition (more nodes than Q, or a tiny weight)
	// still belong to every walk, after the owners, in ID order.
	for _, n := range r.nodes {
		if !seen[n] {
			out = append(out, n)
		}
	}
	return out
}

// Q returns the number of partitions.
func (r *Ring) Q() int { return r.q }

// Nodes returns the active nodes, sorted. The slice must not be modified.
func (r *Ring) Nodes() []NodeID { return r.nodes }

// Owner returns the node that owns partition p.
func (r *Ring) Owner(p Partition) NodeID { return r.owners[p] }

// Walk returns every active node in preference order from p: the first N
// are p's preference list, the rest its fallbacks. The slice is shared and
// must not be modified.
func (r *Ring) Walk(p Partition) []NodeID { return r.walks[p] }

// Preference returns p's first n distinct nodes (fewer if the ring is
// smaller) and the fallbacks after them. Both slices are shared.
func (r *Ring) Preference(p Partition, n int) (primary, fallbacks []NodeID) {
	w := r.walks[p]
	if n > len(w) {
		n = len(w)
	}
	return w[:n:n], w[n:]
}

// PartitionOf maps a 64-bit key hash to its partition.
func (r *Ring) PartitionOf(h uint64) Partition {
	if r.shift == 64 {
		return 0
	}
	return Partition(h >> r.shift)
}

// Partitions lists the partitions node id owns, in order.
func (r *Ring) Partitions(id NodeID) []Partition {
	var out []Partition
	for p, o := range r.owners {
		if o == id {
			out = append(out, Partition(p))
		}
	}
	return out
}

// Replicates lists the partitions for which id is among the first n nodes
// of the preference list: the ranges whose data it holds.
func (r *Ring) Replicates(id NodeID, n int) []Partition {
	var out []Partition
	for p := range r.walks {
		pl, _ := r.Preference(Partition(p), n)
		for _, x := range pl {
			if x == id {
				out = append(out, Partition(p))
				break
			}
		}
	}
	return out
}

// KeyHash is MD5 over the length-prefixed tenant ID, table ID and partition
// key, folded to its first 64 bits. Length prefixes keep ("ab","c") and
// ("a","bc") apart.
func KeyHash(tenantID, tableID, partitionKey string) uint64 {
	h := md5.New()
	var lb [binary.MaxVarintLen64]byte
	for _, s := range [...]string{tenantID, tableID, partitionKey} {
		n := binary.PutUvarint(lb[:], uint64(len(s)))
		h.Write(lb[:n])
		h.Write([]byte(s))
	}
	var sum [md5.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}
