package engine

import (
	"bytes"
	"fmt"
	"testing"
)

// checkShard verifies a shard's bookkeeping: its byte count is what its
// live entries cost, and the index points at exactly those entries.
func checkShard(t *testing.T, s *cacheShard, limit int64) {
	t.Helper()
	var sum int64
	live := 0
	for i, e := range s.entries {
		if !e.live {
			continue
		}
		live++
		sum += cost(e.key, e.val)
		if j, ok := s.index[e.hash]; !ok || int(j) != i {
			t.Fatalf("entry %d (%q) not indexed at its slot (%d, %v)", i, e.key, j, ok)
		}
	}
	if live != len(s.index) {
		t.Fatalf("%d live entries, %d indexed", live, len(s.index))
	}
	if sum != s.bytes {
		t.Fatalf("shard counts %d bytes, holds %d", s.bytes, sum)
	}
	if s.bytes > limit {
		t.Fatalf("shard holds %d bytes, limit %d", s.bytes, limit)
	}
}

// A key hit since the hand last passed gets a second chance: filling a
// shard past its limit evicts the keys nobody read before one that was.
func TestCacheClockKeepsKeysThatWereHit(t *testing.T) {
	s := &cacheShard{index: map[uint64]int32{}}
	val := bytes.Repeat([]byte("v"), 100)
	per := cost("k00", val)
	limit := 10 * per
	for i := range 10 {
		s.add(uint64(i), fmt.Sprintf("k%02d", i), val, limit)
	}
	if e := s.find(0, []byte("k00")); e == nil {
		t.Fatal("k00 not cached before the shard is full")
	} else {
		e.used = true // what lookup does on a hit
	}
	for i := 10; i < 15; i++ {
		s.add(uint64(i), fmt.Sprintf("k%02d", i), val, limit)
		checkShard(t, s, limit)
	}
	if s.find(0, []byte("k00")) == nil {
		t.Fatal("k00, read before the shard filled, was evicted")
	}
	for i := 1; i <= 5; i++ {
		if s.find(uint64(i), []byte(fmt.Sprintf("k%02d", i))) != nil {
			t.Fatalf("k%02d, never read, outlived k00's second chance", i)
		}
	}
	for i := 6; i < 15; i++ {
		if s.find(uint64(i), []byte(fmt.Sprintf("k%02d", i))) == nil {
			t.Fatalf("k%02d evicted before older keys", i)
		}
	}
}

// Two keys of one hash share a slot: the later replaces the earlier, a
// lookup of the earlier misses instead of returning the later's set, and
// removing the earlier leaves the later in place.
func TestCacheKeysOfOneHash(t *testing.T) {
	s := &cacheShard{index: map[uint64]int32{}}
	const limit = 1 << 20
	s.add(7, "a", []byte("set of a"), limit)
	s.add(7, "b", []byte("set of b"), limit)
	checkShard(t, s, limit)
	if e := s.find(7, []byte("a")); e != nil {
		t.Fatalf("lookup of a returned %q", e.val)
	}
	if e := s.find(7, []byte("b")); e == nil || string(e.val) != "set of b" {
		t.Fatalf("lookup of b: %v", e)
	}
	s.remove(7, "a")
	if e := s.find(7, []byte("b")); e == nil {
		t.Fatal("removing a removed b")
	}
	checkShard(t, s, limit)
	s.remove(7, "b")
	if len(s.index) != 0 || s.bytes != 0 {
		t.Fatalf("after removing b: %d indexed, %d bytes", len(s.index), s.bytes)
	}
}

// FuzzSetCache runs a script of publishes, forgets, holds, fills and
// lookups against a model of what Badger holds: a hit must always be the
// model's set, and every shard's bookkeeping must add up. The keys all
// fall in one shard, more than it holds, so the script evicts.
func FuzzSetCache(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add(bytes.Repeat([]byte{0x01, 0x41, 0x82, 0xc3, 0x85, 0xc5}, 64))
	// A read that misses, a commit, the read's fill, a read again.
	f.Add([]byte{0x81, 0x01, 0xc0, 0x81})
	f.Fuzz(func(t *testing.T, script []byte) {
		c := newSetCache(cacheShards * 4096) // 4 KiB a shard: 20-40 entries
		var keys []string
		for i := 0; len(keys) < 64; i++ {
			k := fmt.Sprintf("\x01k%d", i)
			if s, _ := c.shardOf(k); s == &c.shards[0] {
				keys = append(keys, k)
			}
		}
		model := map[string][]byte{}
		// Reads that missed and are still in Badger: what they found
		// there, to be filled in later, after other steps.
		type read struct {
			key string
			val []byte
			gen uint64
		}
		var reads []read
		for i, b := range script {
			key := keys[b&63]
			switch b >> 6 {
			case 0: // a commit of a new set (or a deletion)
				var val []byte
				if i%5 != 0 {
					val = bytes.Repeat([]byte{byte(i)}, 8+i%120)
				}
				c.hold(key)
				model[key] = val
				c.publish(key, val)
			case 1: // a commit the writer cannot vouch for
				c.hold(key)
				model[key] = []byte(fmt.Sprintf("unknown %d", i))
				c.forget(key)
			case 2: // a read: a hit must be what Badger holds
				v, hit, gen := c.lookup([]byte(key))
				if hit && !bytes.Equal(v, model[key]) {
					t.Fatalf("step %d: %q cached as %q, holds %q", i, key, v, model[key])
				}
				if !hit {
					reads = append(reads, read{key, model[key], gen})
				}
			case 3: // the oldest read still in Badger fills the cache
				if len(reads) > 0 {
					r := reads[0]
					reads = reads[1:]
					c.fill([]byte(r.key), r.val, r.gen)
				}
			}
			checkShard(t, &c.shards[0], c.limit)
		}
	})
}
