package merkle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"

	"github.com/ringtable/ringtable/vclock"
)

// Leaves is the number of buckets of a tree (a power of two).
const Leaves = 1024

// Depth is the number of levels above the leaves.
var Depth = bits.TrailingZeros(Leaves)

// Hash is a 128-bit node hash. The zero hash is an empty subtree.
type Hash [2]uint64

// Xor combines two hashes.
func (h Hash) Xor(o Hash) Hash { return Hash{h[0] ^ o[0], h[1] ^ o[1]} }

// IsZero reports an empty subtree.
func (h Hash) IsZero() bool { return h == Hash{} }

// Bucket is the leaf a key falls in.
func Bucket(key []byte) int {
	sum := sha256.Sum256(key)
	return int(binary.BigEndian.Uint32(sum[:4]) % Leaves)
}

// ItemHash is what a key with the given versions contributes to its leaf.
// Only the versions' identities count (dots and tombstone flags), so
// replicas agree whenever they hold the same versions. An absent key (nil
// set) contributes nothing.
func ItemHash(key []byte, s vclock.Set) Hash {
	if len(s) == 0 {
		return Hash{}
	}
	// What is hashed: the key and each version's dot ("actor:counter",
	// "!" after a tombstone's), each after its length as a uvarint, the
	// dots in byte order. Every replica write takes two of these (its
	// set before and after), so the dots and the message are built in
	// buffers on the stack rather than as strings and a hash state.
	var dotBuf [256]byte
	var spanBuf [8][2]int
	dots, spans := dotBuf[:0], spanBuf[:0]
	for _, v := range s {
		start := len(dots)
		dots = append(dots, v.Clock.Dot.Actor...)
		dots = append(dots, ':')
		dots = strconv.AppendUint(dots, v.Clock.Dot.Counter, 10)
		if v.Deleted {
			dots = append(dots, '!')
		}
		spans = append(spans, [2]int{start, len(dots)})
	}
	slices.SortFunc(spans, func(a, b [2]int) int {
		return bytes.Compare(dots[a[0]:a[1]], dots[b[0]:b[1]])
	})
	var msgBuf [512]byte
	msg := binary.AppendUvarint(msgBuf[:0], uint64(len(key)))
	msg = append(msg, key...)
	for _, sp := range spans {
		msg = binary.AppendUvarint(msg, uint64(sp[1]-sp[0]))
		msg = append(msg, dots[sp[0]:sp[1]]...)
	}
	sum := sha256.Sum256(msg)
	return Hash{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])}
}

// Delta is how a leaf changes when a key's set goes from old to new.
func Delta(key []byte, old, new vclock.Set) Hash {
	return ItemHash(key, old).Xor(ItemHash(key, new))
}

// Tree is one partition's tree: a complete binary tree stored by level,
// level 0 the root, level Depth the leaves. The zero Tree is not usable;
// call New.
//
// A write changes only its leaf; the levels above are derived again when
// one is next read. Trees are read only when replicas compare them, and a
// write that updated the whole path touched twice the pages: on a fresh
// node, each first touch of a page is a fault. Reading a tree can
// therefore change it: a Tree belongs to one goroutine, readers included.
type Tree struct {
	levels [][]Hash
	// stale is set when a leaf changed after the inner levels were derived.
	stale bool
}

// New returns an empty tree.
func New() *Tree {
	t := &Tree{levels: make([][]Hash, Depth+1)}
	for l := range t.levels {
		t.levels[l] = make([]Hash, 1<<l)
	}
	return t
}

// Apply XORs delta into leaf (and so into the path above it, once derived).
func (t *Tree) Apply(leaf int, delta Hash) {
	if delta.IsZero() {
		return
	}
	t.levels[Depth][leaf] = t.levels[Depth][leaf].Xor(delta)
	t.stale = true
}

// derive computes the inner levels from the leaves, if a leaf changed
// since they were last computed.
func (t *Tree) derive() {
	if !t.stale {
		return
	}
	for l := Depth - 1; l >= 0; l-- {
		up, down := t.levels[l], t.levels[l+1]
		for i := range up {
			up[i] = down[2*i].Xor(down[2*i+1])
		}
	}
	t.stale = false
}

// SetLeaf sets a leaf to h (when loading persisted leaves).
func (t *Tree) SetLeaf(leaf int, h Hash) {
	t.Apply(leaf, t.levels[Depth][leaf].Xor(h))
}

// Leaf returns a leaf's hash.
func (t *Tree) Leaf(leaf int) Hash { return t.levels[Depth][leaf] }

// Root returns the root hash.
func (t *Tree) Root() Hash {
	t.derive()
	return t.levels[0][0]
}

// Node returns the hash of node i of level l.
func (t *Tree) Node(l, i int) Hash {
	t.derive()
	return t.levels[l][i]
}

// Nodes returns the hashes of the given nodes of level l; out of range
// indices get the zero hash.
func (t *Tree) Nodes(l int, idx []int) []Hash {
	out := make([]Hash, len(idx))
	if l < 0 || l > Depth {
		return out
	}
	t.derive()
	for j, i := range idx {
		if i >= 0 && i < len(t.levels[l]) {
			out[j] = t.levels[l][i]
		}
	}
	return out
}

// Clone returns a copy.
func (t *Tree) Clone() *Tree {
	t.derive()
	c := &Tree{levels: make([][]Hash, len(t.levels))}
	for l := range t.levels {
		c.levels[l] = append([]Hash(nil), t.levels[l]...)
	}
	return c
}

// Children lists the children of the given nodes of level l (which must be
// above the leaves).
func Children(idx []int) []int {
	out := make([]int, 0, 2*len(idx))
	for _, i := range idx {
		out = append(out, 2*i, 2*i+1)
	}
	return out
}

// Diff compares the hashes two trees give for the same nodes and returns
// the indices (from idx) where they differ.
func Diff(idx []int, a, b []Hash) []int {
	var out []int
	for j, i := range idx {
		if j >= len(a) || j >= len(b) || a[j] != b[j] {
			out = append(out, i)
		}
	}
	return out
}

// DiffLeaves walks two trees top-down, reading only the subtrees whose
// hashes differ, and returns the differing leaves. remote answers the
// hashes of the other tree's nodes at one level. It is how a node
// compares with a peer; Exchanges counts the levels asked.
func DiffLeaves(local *Tree, remote func(level int, idx []int) ([]Hash, error)) (leaves []int, exchanges int, err error) {
	idx := []int{0}
	for l := 0; l <= Depth && len(idx) > 0; l++ {
		theirs, err := remote(l, idx)
		exchanges++
		if err != nil {
			return nil, exchanges, err
		}
		idx = Diff(idx, local.Nodes(l, idx), theirs)
		if l < Depth {
			idx = Children(idx)
		}
	}
	return idx, exchanges, nil
}
