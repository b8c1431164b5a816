package merkle_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/storagenode/merkle"
	"github.com/ringtable/ringtable/vclock"
)

// fuzzSet reads a sibling set from b: each 2 bytes are one version (actor
// from the first byte's low bits, tombstone from its high bit, counter
// from the second byte). Duplicate dots are dropped, as a set holds none.
func fuzzSet(b []byte) vclock.Set {
	var s vclock.Set
	for i := 0; i+1 < len(b); i += 2 {
		s = append(s, v(fmt.Sprintf("n%d", b[i]&3), uint64(b[i+1])+1, b[i]&0x80 != 0))
	}
	return vclock.Set{}.Sync(s)
}

// FuzzDelta: deltas chain, and ItemHash ignores everything but the dots
// and tombstone flags, and the siblings' order.
func FuzzDelta(f *testing.F) {
	f.Add([]byte("k"), []byte{1, 1}, []byte{1, 1, 2, 2}, []byte{0x81, 3})
	f.Add([]byte{}, []byte{}, []byte{5, 0}, []byte{})
	f.Fuzz(func(t *testing.T, key, a, b, c []byte) {
		x, y, z := fuzzSet(a), fuzzSet(b), fuzzSet(c)
		if got, want := merkle.Delta(key, x, y).Xor(merkle.Delta(key, y, z)), merkle.Delta(key, x, z); got != want {
			t.Fatalf("Delta(x,y)^Delta(y,z) = %#x, Delta(x,z) = %#x", got, want)
		}
		if !merkle.Delta(key, y, y).IsZero() {
			t.Fatal("Delta of an unchanged set is not zero")
		}
		h := merkle.ItemHash(key, y)
		if h.IsZero() != (len(y) == 0) {
			t.Fatalf("ItemHash = %#x for %d versions", h, len(y))
		}
		other := slices.Clone(y)
		for i := range other {
			other[i].Value = append([]byte("value"), a...)
			other[i].Clock.Past = vclock.Context{VV: vclock.VV{{Actor: "p", Counter: uint64(len(c)) + 1}}}
			other[i].Modified, other[i].Expires, other[i].Write = int64(i), int64(len(b)), uint64(i)
			other[i].Clock.Dot.Stamp = int64(len(key))
		}
		slices.Reverse(other)
		if merkle.ItemHash(key, other) != h {
			t.Fatal("ItemHash depends on more than dots, tombstones and key")
		}
		if len(y) > 0 {
			flipped := slices.Clone(y)
			flipped[0].Deleted = !flipped[0].Deleted
			if merkle.ItemHash(key, flipped) == h {
				t.Fatal("ItemHash ignores a tombstone flag")
			}
		}
	})
}

// FuzzApply: a history of writes, read from data (each 3 bytes: key,
// then a version as fuzzSet reads it; a zero second byte purges the key),
// gives the same tree applied in order, in reverse and by rebuilding from
// the final items; applying every delta twice more changes nothing, and
// DiffLeaves against an empty tree finds exactly the occupied buckets.
func FuzzApply(f *testing.F) {
	f.Add([]byte{1, 1, 1, 2, 1, 2, 1, 0x81, 3})
	f.Add([]byte{0, 0, 0, 0, 3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		cur := map[string]vclock.Set{}
		var ds []delta
		for i := 0; i+2 < len(data); i += 3 {
			key := fmt.Sprintf("key-%d", data[i]%32)
			var next vclock.Set
			if data[i+1] != 0 {
				next = fuzzSet(data[i+1 : i+3])
			}
			ds = append(ds, delta{merkle.Bucket([]byte(key)), merkle.Delta([]byte(key), cur[key], next)})
			cur[key] = next
		}
		forward, backward := merkle.New(), merkle.New()
		for i := range ds {
			forward.Apply(ds[i].leaf, ds[i].h)
			backward.Apply(ds[len(ds)-1-i].leaf, ds[len(ds)-1-i].h)
		}
		var items []item
		occupied := map[int]bool{}
		for k, s := range cur {
			items = append(items, item{[]byte(k), s})
			if len(s) > 0 {
				occupied[merkle.Bucket([]byte(k))] = true
			}
		}
		built := build(items)
		if !sameTree(forward, backward) || !sameTree(forward, built) {
			t.Fatalf("order matters: roots %#x, %#x, built %#x", forward.Root(), backward.Root(), built.Root())
		}
		for _, d := range ds {
			forward.Apply(d.leaf, d.h)
			forward.Apply(d.leaf, d.h)
		}
		if !sameTree(forward, built) {
			t.Fatal("deltas applied twice did not cancel")
		}
		calls := 0
		leaves, exchanges, err := merkle.DiffLeaves(built, peer(merkle.New(), &calls))
		if err != nil || exchanges > merkle.Depth+1 || len(leaves) != len(occupied) {
			t.Fatalf("DiffLeaves against empty: %v in %d exchanges (err %v), want %d buckets", leaves, exchanges, err, len(occupied))
		}
		for _, l := range leaves {
			if !occupied[l] {
				t.Fatalf("DiffLeaves found bucket %d, which holds nothing", l)
			}
		}
	})
}

// FuzzDiffLeaves: trees over random keys that differ in k of them differ
// in exactly those keys' buckets (see TestDiffLeaves).
func FuzzDiffLeaves(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint8(3))
	f.Add(uint64(2), uint16(0), uint8(0))
	f.Add(uint64(3), uint16(2000), uint8(200))
	f.Fuzz(func(t *testing.T, seed uint64, keys uint16, k uint8) {
		n := int(keys % 4000)
		changed := min(int(k), n)
		a, b, want := diverged(newRand(seed), n, changed)
		calls := 0
		got, exchanges, err := merkle.DiffLeaves(a, peer(b, &calls))
		if err != nil || !slices.Equal(got, want) || exchanges > merkle.Depth+1 || (changed == 0 && exchanges != 1) {
			t.Fatalf("%d keys, %d changed: leaves %v in %d exchanges (err %v), want %v", n, changed, got, exchanges, err, want)
		}
	})
}

// refItemHash is ItemHash as first written, with strings, sort.Strings
// and a hash state: what the stored leaves of every node were computed
// with, so ItemHash must give the same for every set.
func refItemHash(key []byte, s vclock.Set) merkle.Hash {
	if len(s) == 0 {
		return merkle.Hash{}
	}
	dots := make([]string, len(s))
	for i, v := range s {
		d := string(v.Clock.Dot.Actor) + ":" + strconv.FormatUint(v.Clock.Dot.Counter, 10)
		if v.Deleted {
			d += "!"
		}
		dots[i] = d
	}
	sort.Strings(dots)
	h := sha256.New()
	h.Write(binary.AppendUvarint(nil, uint64(len(key))))
	h.Write(key)
	for _, d := range dots {
		h.Write(binary.AppendUvarint(nil, uint64(len(d))))
		h.Write([]byte(d))
	}
	sum := h.Sum(nil)
	return merkle.Hash{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])}
}

// FuzzItemHashReference: ItemHash agrees with refItemHash, for sets
// larger than its stack buffers (more than 8 versions, dots longer than
// 256 bytes in all, keys longer than 512) as well as small ones. data
// gives the versions: each 3 bytes an actor's length (times 7, so some
// are long), a counter and a tombstone flag.
func FuzzItemHashReference(f *testing.F) {
	f.Add([]byte("k"), []byte{1, 3, 0, 2, 1, 1})
	f.Add(bytes.Repeat([]byte("x"), 600), bytes.Repeat([]byte{40, 9, 1}, 12))
	f.Add([]byte{}, []byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, key, data []byte) {
		var s vclock.Set
		for i := 0; i+2 < len(data); i += 3 {
			actor := strings.Repeat(string(rune('a'+i%26)), int(data[i])*7%300+1)
			counter := uint64(data[i+1])<<uint(i%40) + 1
			s = append(s, v(actor+strconv.Itoa(i), counter, data[i+2]&1 == 1))
		}
		if got, want := merkle.ItemHash(key, s), refItemHash(key, s); got != want {
			t.Fatalf("ItemHash = %#x, the reference %#x (%d versions)", got, want, len(s))
		}
	})
}
