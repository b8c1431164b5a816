package merkle_test

import (
	"testing"

	"github.com/ringtable/ringtable/storagenode/merkle"
)

// BenchmarkApply is a node's write load on its trees: one leaf of one of
// 256 partitions' trees (all of dev's on each node) per write, spread as
// uniform keys spread them, so that most of what a write touches is not
// in the processor's caches.
func BenchmarkApply(b *testing.B) {
	trees := make([]*merkle.Tree, 256)
	for i := range trees {
		trees[i] = merkle.New()
	}
	rng := newRand(1)
	const n = 1 << 16
	leaf, part := make([]int, n), make([]int, n)
	for i := range n {
		leaf[i], part[i] = rng.IntN(merkle.Leaves), rng.IntN(len(trees))
	}
	i := 0
	for b.Loop() {
		trees[part[i%n]].Apply(leaf[i%n], merkle.Hash{uint64(i) | 1, 1})
		i++
	}
}

// BenchmarkApplyThenRoot is a tree written and then read (an anti-entropy
// exchange asks for a level after writes): the cost of a read that
// follows writes.
func BenchmarkApplyThenRoot(b *testing.B) {
	t := merkle.New()
	i := 0
	for b.Loop() {
		t.Apply(i%merkle.Leaves, merkle.Hash{uint64(i) | 1, 1})
		_ = t.Root()
		i++
	}
}

// BenchmarkDelta is a replica write's hashing: a key's set before (one
// version) and after (the new version that replaced it).
func BenchmarkDelta(b *testing.B) {
	key := []byte("t1/items/user-000123")
	old, new := set(v("n1", 41, false)), set(v("n2", 42, false))
	for b.Loop() {
		merkle.Delta(key, old, new)
	}
}
