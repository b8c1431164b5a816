package merkle_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/ringtable/ringtable/storagenode/merkle"
	"github.com/ringtable/ringtable/vclock"
)

// v is a version with dot actor:counter; del makes it a tombstone.
func v(actor string, counter uint64, del bool) vclock.Version {
	return vclock.Version{Clock: vclock.Clock{Dot: vclock.Dot{Actor: vclock.Actor(actor), Counter: counter}}, Deleted: del}
}

func set(vs ...vclock.Version) vclock.Set { return vclock.Set(vs) }

// sameTree reports whether every node of a and b is equal.
func sameTree(a, b *merkle.Tree) bool {
	for l := 0; l <= merkle.Depth; l++ {
		for i := range 1 << l {
			if a.Node(l, i) != b.Node(l, i) {
				return false
			}
		}
	}
	return true
}

func isEmpty(t *merkle.Tree) bool { return sameTree(t, merkle.New()) }

// TestStableEncoding pins Bucket and ItemHash: nodes persist leaves, so a
// change to either silently makes every stored tree disagree with its
// peers'. The values were checked against a separate implementation
// (sha256 of the key, and of the length-prefixed key and sorted
// "actor:counter[!]" dots).
func TestStableEncoding(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want int
	}{{"", 66}, {"a", 274}, {"k1", 491}, {"t1/items/k", 3}} {
		if got := merkle.Bucket([]byte(tt.key)); got != tt.want {
			t.Errorf("Bucket(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
	got := merkle.ItemHash([]byte("k"), set(v("n1", 3, false), v("n2", 1, true)))
	if want := (merkle.Hash{0x829b895eedcddb61, 0x6d872e59b41f8fe8}); got != want {
		t.Errorf("ItemHash = %#x, want %#x", got, want)
	}
}

func TestBucketInRangeAndStable(t *testing.T) {
	if merkle.Leaves != 1<<merkle.Depth {
		t.Fatalf("Leaves = %d, Depth = %d", merkle.Leaves, merkle.Depth)
	}
	hit := map[int]bool{}
	for i := range 20000 {
		key := []byte(fmt.Sprintf("key-%d", i))
		b := merkle.Bucket(key)
		if b < 0 || b >= merkle.Leaves {
			t.Fatalf("Bucket(%q) = %d, out of [0, %d)", key, b, merkle.Leaves)
		}
		if again := merkle.Bucket(append([]byte(nil), key...)); again != b {
			t.Fatalf("Bucket(%q) = %d, then %d", key, b, again)
		}
		hit[b] = true
	}
	// 20000 keys over 1024 buckets miss one with probability ~1e-5 each.
	if len(hit) < merkle.Leaves-5 {
		t.Errorf("20000 keys hit only %d of %d buckets", len(hit), merkle.Leaves)
	}
}

// TestItemHashIdentity: only the versions' identities (dots and tombstone
// flags) count, not values, pasts, timestamps, write ids, dot stamps or
// sibling order.
func TestItemHashIdentity(t *testing.T) {
	key := []byte("t1/items/k")
	base := set(v("a", 1, false), v("b", 2, true), v("c", 7, false))
	h := merkle.ItemHash(key, base)
	if h.IsZero() {
		t.Fatal("a non-empty set hashes to zero")
	}
	same := map[string]func(vclock.Set) vclock.Set{
		"values": func(s vclock.Set) vclock.Set {
			s[0].Value, s[2].Value = []byte(`{"x":1}`), []byte("other")
			return s
		},
		"pasts": func(s vclock.Set) vclock.Set {
			s[0].Clock.Past = vclock.Context{VV: vclock.VV{{Actor: "z", Counter: 9}}, Dots: []vclock.Dot{{Actor: "y", Counter: 4}}}
			return s
		},
		"metadata": func(s vclock.Set) vclock.Set {
			s[1].Modified, s[1].Expires, s[1].Write, s[1].Clock.Dot.Stamp = 1700000000000, 1800000000000, 42, 99
			return s
		},
		"sibling order": func(s vclock.Set) vclock.Set { slices.Reverse(s); return s },
		"codec round trip": func(s vclock.Set) vclock.Set {
			s[0].Value = []byte("v")
			out, err := vclock.DecodeSet(vclock.AppendSet(nil, s), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			return out
		},
	}
	for name, change := range same {
		t.Run("ignores "+name, func(t *testing.T) {
			if got := merkle.ItemHash(key, change(slices.Clone(base))); got != h {
				t.Errorf("hash changed: %#x, want %#x", got, h)
			}
		})
	}
	differ := map[string]struct {
		key []byte
		s   vclock.Set
	}{
		"tombstone flag":  {key, set(v("a", 1, true), v("b", 2, true), v("c", 7, false))},
		"counter":         {key, set(v("a", 1, false), v("b", 3, true), v("c", 7, false))},
		"actor":           {key, set(v("a", 1, false), v("b", 2, true), v("d", 7, false))},
		"missing sibling": {key, set(v("a", 1, false), v("b", 2, true))},
		"extra sibling":   {key, set(v("a", 1, false), v("b", 2, true), v("c", 7, false), v("c", 8, false))},
		"key":             {[]byte("t1/items/j"), base},
		"key prefix":      {[]byte("t1/items/"), base},
	}
	for name, tt := range differ {
		t.Run("depends on "+name, func(t *testing.T) {
			if got := merkle.ItemHash(tt.key, tt.s); got == h {
				t.Errorf("same hash %#x", got)
			}
		})
	}
	if !merkle.ItemHash(key, nil).IsZero() || !merkle.ItemHash(key, vclock.Set{}).IsZero() {
		t.Error("an absent key contributes a hash")
	}
}

// TestItemHashUnambiguous: the per-version strings are separated so that
// actor names holding ':' or '!' or digits cannot make two different
// version sets (or keys) look alike.
func TestItemHashUnambiguous(t *testing.T) {
	sets := []struct {
		key string
		s   vclock.Set
	}{
		{"k", set(v("a", 12, false))},
		{"k", set(v("a:1", 2, false))},
		{"k", set(v("a", 1, true))},
		{"k", set(v("a!", 1, false))},
		{"k", set(v("a:1!", 1, false))},
		{"k", set(v("a", 1, false), v("b", 2, false))},
		{"k", set(v("a", 1, false), v("b", 2, true))},
		{"k", set(v("a", 1, true), v("b", 2, false))},
		{"k", set(v("a:1b", 2, false))},
		{"k\x03", set(v("a", 1, false))},
		{"k", set(v("\x03a", 1, false))},
		{"", set(v("k", 1, false))},
	}
	seen := map[merkle.Hash]int{}
	for i, x := range sets {
		h := merkle.ItemHash([]byte(x.key), x.s)
		if j, dup := seen[h]; dup {
			t.Errorf("sets %d and %d hash alike: %+v, %+v", j, i, sets[j], x)
		}
		seen[h] = i
	}
}

// TestDelta: deltas chain (a→b then b→c is a→c), a no-op change is zero,
// and a first write contributes the item's hash.
func TestDelta(t *testing.T) {
	key := []byte("k")
	a := set(v("n1", 1, false))
	b := set(v("n1", 1, false), v("n2", 1, false))
	c := set(v("n2", 2, true))
	for _, tt := range []struct {
		name    string
		x, y, z vclock.Set
	}{
		{"write, sibling, delete", a, b, c},
		{"from absent", nil, a, b},
		{"to absent", a, b, nil},
		{"back and forth", a, b, a},
		{"unchanged", b, b, b},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := merkle.Delta(key, tt.x, tt.y).Xor(merkle.Delta(key, tt.y, tt.z)), merkle.Delta(key, tt.x, tt.z); got != want {
				t.Errorf("Delta(x,y)^Delta(y,z) = %#x, want Delta(x,z) = %#x", got, want)
			}
		})
	}
	if !merkle.Delta(key, b, b).IsZero() {
		t.Error("Delta of an unchanged set is not zero")
	}
	if merkle.Delta(key, nil, b) != merkle.ItemHash(key, b) {
		t.Error("a first write's delta is not the item's hash")
	}
}

// item is one key with its versions.
type item struct {
	key []byte
	s   vclock.Set
}

// build is the tree of a replica holding exactly items.
func build(items []item) *merkle.Tree {
	t := merkle.New()
	for _, it := range items {
		t.Apply(merkle.Bucket(it.key), merkle.ItemHash(it.key, it.s))
	}
	return t
}

// randomSet is one or two versions over a few actors.
func randomSet(rng *rand.Rand) vclock.Set {
	var s vclock.Set
	for range 1 + rng.IntN(2) {
		s = append(s, v(fmt.Sprintf("n%d", rng.IntN(3)), uint64(1+rng.IntN(1000)), rng.IntN(4) == 0))
	}
	return vclock.Set{}.Sync(s)
}

type delta struct {
	leaf int
	h    merkle.Hash
}

// history is a random sequence of writes to a few keys, as the deltas a
// node applies, and the items it ends with.
func history(rng *rand.Rand, n int) ([]delta, []item) {
	cur := map[string]vclock.Set{}
	var ds []delta
	for range n {
		key := fmt.Sprintf("k%d", rng.IntN(20))
		next := randomSet(rng)
		if rng.IntN(6) == 0 {
			next = nil // purged
		}
		ds = append(ds, delta{merkle.Bucket([]byte(key)), merkle.Delta([]byte(key), cur[key], next)})
		cur[key] = next
	}
	var items []item
	for k, s := range cur {
		items = append(items, item{[]byte(k), s})
	}
	return ds, items
}

// TestApplyOrderIndependent: any order of the same deltas gives the same
// tree, which is the tree built from the final items.
func TestApplyOrderIndependent(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		ds, items := history(rng, 1+rng.IntN(60))
		inOrder := merkle.New()
		for _, d := range ds {
			inOrder.Apply(d.leaf, d.h)
		}
		shuffled := merkle.New()
		for _, i := range rng.Perm(len(ds)) {
			shuffled.Apply(ds[i].leaf, ds[i].h)
		}
		if !sameTree(inOrder, shuffled) || !sameTree(inOrder, build(items)) {
			t.Fatalf("seed %d: trees differ (roots %#x, %#x, built %#x)", seed, inOrder.Root(), shuffled.Root(), build(items).Root())
		}
	}
}

// TestReadsBetweenWrites: every way of reading a tree sees the writes made
// since the last read, whichever way that read was: inner nodes are
// derived from the leaves when read, and derived again after more writes.
func TestReadsBetweenWrites(t *testing.T) {
	rng := newRand(9)
	ds, _ := history(rng, 300)
	tree, want := merkle.New(), merkle.New()
	for i, d := range ds {
		tree.Apply(d.leaf, d.h)
		want.SetLeaf(d.leaf, want.Leaf(d.leaf).Xor(d.h))
		var root merkle.Hash
		for leaf := range merkle.Leaves {
			root = root.Xor(want.Leaf(leaf))
		}
		l := i % (merkle.Depth + 1)
		node := d.leaf >> (merkle.Depth - l)
		var sub merkle.Hash // the XOR of the leaves under node
		for leaf := node << (merkle.Depth - l); leaf < (node+1)<<(merkle.Depth-l); leaf++ {
			sub = sub.Xor(want.Leaf(leaf))
		}
		var got merkle.Hash
		switch i % 4 {
		case 0:
			got = tree.Node(l, node)
		case 1:
			got = tree.Nodes(l, []int{node})[0]
		case 2:
			got = tree.Clone().Node(l, node)
		case 3:
			if r := tree.Root(); r != root {
				t.Fatalf("write %d: root %#x, want %#x", i, r, root)
			}
			got = tree.Node(l, node)
		}
		if got != sub {
			t.Fatalf("write %d: node %d of level %d is %#x, want %#x", i, node, l, got, sub)
		}
	}
	if !sameTree(tree, want) {
		t.Fatal("trees built by the same writes differ")
	}
}

// TestApplyTwiceCancels: applying a delta twice leaves the tree as it was.
func TestApplyTwiceCancels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	ds, items := history(rng, 50)
	tree := build(items)
	before := tree.Clone()
	for _, d := range ds {
		tree.Apply(d.leaf, d.h)
		tree.Apply(d.leaf, d.h)
		if !sameTree(tree, before) {
			t.Fatalf("delta %#x applied twice to leaf %d changed the tree", d.h, d.leaf)
		}
	}
	tree.Apply(5, merkle.Hash{})
	if !sameTree(tree, before) {
		t.Error("a zero delta changed the tree")
	}
}

// TestTreeStructure: every inner node is the XOR of its children, the
// root the XOR of all item hashes; SetLeaf reproduces a tree from its
// leaves; a clone is independent.
func TestTreeStructure(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	_, items := history(rng, 200)
	tree := build(items)
	var root merkle.Hash
	for _, it := range items {
		root = root.Xor(merkle.ItemHash(it.key, it.s))
	}
	if tree.Root() != root || tree.Root() != tree.Node(0, 0) {
		t.Errorf("root %#x, want %#x", tree.Root(), root)
	}
	for l := 0; l < merkle.Depth; l++ {
		for i := range 1 << l {
			if tree.Node(l, i) != tree.Node(l+1, 2*i).Xor(tree.Node(l+1, 2*i+1)) {
				t.Fatalf("node %d/%d is not the XOR of its children", l, i)
			}
		}
	}
	loaded := merkle.New()
	loaded.SetLeaf(3, merkle.Hash{1, 2}) // stale, overwritten below
	for i := range merkle.Leaves {
		loaded.SetLeaf(i, tree.Leaf(i))
	}
	if !sameTree(loaded, tree) {
		t.Error("a tree loaded leaf by leaf differs")
	}
	c := tree.Clone()
	c.Apply(0, merkle.Hash{1, 1})
	if sameTree(c, tree) || tree.Root() != root {
		t.Error("a clone shares nodes with its original")
	}
}

func TestNodesOutOfRange(t *testing.T) {
	tree := build([]item{{[]byte("a"), set(v("n1", 1, false))}, {[]byte("b"), set(v("n2", 1, false))}})
	full := make([]int, merkle.Leaves)
	for i := range full {
		full[i] = i
	}
	for _, tt := range []struct {
		name  string
		level int
		idx   []int
	}{
		{"level below the root", -1, []int{0}},
		{"level past the leaves", merkle.Depth + 1, []int{0, 1}},
		{"negative index", 3, []int{-1}},
		{"index past the level", 3, []int{8, 1 << 20}},
		{"leaf index past the tree", merkle.Depth, []int{merkle.Leaves}},
		{"no indices", 2, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tree.Nodes(tt.level, tt.idx)
			if len(got) != len(tt.idx) {
				t.Fatalf("%d hashes for %d indices", len(got), len(tt.idx))
			}
			for j, h := range got {
				if !h.IsZero() {
					t.Errorf("node %d/%d = %#x, want zero", tt.level, tt.idx[j], h)
				}
			}
		})
	}
	// In range, Nodes agrees with Node, and mixed requests are answered
	// index by index.
	got := tree.Nodes(merkle.Depth, append(full, -1))
	for i, h := range got[:merkle.Leaves] {
		if h != tree.Leaf(i) {
			t.Fatalf("Nodes gives leaf %d = %#x, Leaf %#x", i, h, tree.Leaf(i))
		}
	}
	if !got[merkle.Leaves].IsZero() {
		t.Error("an out-of-range index among valid ones is not zero")
	}
}

func TestDiff(t *testing.T) {
	h1, h2 := merkle.Hash{1, 0}, merkle.Hash{0, 2}
	for _, tt := range []struct {
		name string
		idx  []int
		a, b []merkle.Hash
		want []int
	}{
		{"equal", []int{4, 5}, []merkle.Hash{h1, h2}, []merkle.Hash{h1, h2}, nil},
		{"one differs", []int{4, 5}, []merkle.Hash{h1, h2}, []merkle.Hash{h1, h1}, []int{5}},
		{"short answer counts as different", []int{4, 5, 6}, []merkle.Hash{h1, h2, {}}, []merkle.Hash{h1}, []int{5, 6}},
		{"empty", nil, nil, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := merkle.Diff(tt.idx, tt.a, tt.b); !slices.Equal(got, tt.want) {
				t.Errorf("Diff = %v, want %v", got, tt.want)
			}
		})
	}
	if got := merkle.Children([]int{0, 3}); !slices.Equal(got, []int{0, 1, 6, 7}) {
		t.Errorf("Children = %v", got)
	}
}

// peer answers DiffLeaves from another tree, counting its exchanges.
func peer(t *merkle.Tree, calls *int) func(int, []int) ([]merkle.Hash, error) {
	return func(level int, idx []int) ([]merkle.Hash, error) {
		*calls++
		return t.Nodes(level, idx), nil
	}
}

// diverged builds two replicas' trees over random keys that differ in k
// random keys (a key only one holds, or different versions), and returns
// the buckets of those keys.
func diverged(rng *rand.Rand, keys, k int) (a, b *merkle.Tree, want []int) {
	var itemsA, itemsB []item
	changed := map[int]bool{}
	for _, i := range rng.Perm(keys)[:k] {
		changed[i] = true
	}
	buckets := map[int]bool{}
	for i := range keys {
		key := []byte(fmt.Sprintf("t%d/items/%x", rng.IntN(3), rng.Uint64()))
		s := randomSet(rng)
		itemsA = append(itemsA, item{key, s})
		if !changed[i] {
			itemsB = append(itemsB, item{key, s})
			continue
		}
		buckets[merkle.Bucket(key)] = true
		switch rng.IntN(3) {
		case 0: // only a holds it
		case 1: // b holds a newer version
			itemsB = append(itemsB, item{key, set(v("n9", s[0].Clock.Dot.Counter+1, false))})
		case 2: // same dots, a tombstone on one side
			s2 := slices.Clone(s)
			s2[0].Deleted = !s2[0].Deleted
			itemsB = append(itemsB, item{key, s2})
		}
	}
	for bkt := range buckets {
		want = append(want, bkt)
	}
	sort.Ints(want)
	return build(itemsA), build(itemsB), want
}

// TestDiffLeaves: two trees that differ in k keys are found to differ in
// exactly those keys' buckets, in at most Depth+1 exchanges, and equal
// trees in one exchange with nothing found. Reference: Dynamo §4.7.
func TestDiffLeaves(t *testing.T) {
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 2))
		keys := rng.IntN(1500)
		k := 0
		if keys > 0 && rng.IntN(5) > 0 {
			k = 1 + rng.IntN(min(keys, 40))
		}
		a, b, want := diverged(rng, keys, k)
		for _, dir := range []struct {
			name        string
			local, peer *merkle.Tree
		}{{"a→b", a, b}, {"b→a", b, a}} {
			calls := 0
			got, exchanges, err := merkle.DiffLeaves(dir.local, peer(dir.peer, &calls))
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("seed %d %s (%d keys, %d changed): leaves %v, want %v (err %v)", seed, dir.name, keys, k, got, want, err)
			}
			if exchanges != calls || exchanges > merkle.Depth+1 || (k == 0 && exchanges != 1) {
				t.Fatalf("seed %d %s: %d exchanges (%d calls), %d keys changed", seed, dir.name, exchanges, calls, k)
			}
		}
	}
}

func TestDiffLeavesError(t *testing.T) {
	a, _, _ := diverged(rand.New(rand.NewPCG(1, 1)), 100, 0)
	boom := errors.New("peer gone")
	level := 0
	leaves, exchanges, err := merkle.DiffLeaves(a, func(l int, idx []int) ([]merkle.Hash, error) {
		level = l
		if l == 2 {
			return nil, boom
		}
		return make([]merkle.Hash, len(idx)), nil // an empty peer: everything differs
	})
	if !errors.Is(err, boom) || leaves != nil || exchanges != 3 || level != 2 {
		t.Errorf("DiffLeaves = %v, %d, %v at level %d; want the peer's error after 3 exchanges", leaves, exchanges, err, level)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 2)) }
