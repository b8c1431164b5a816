package engine

import (
	"hash/maphash"
	"sync"

	"github.com/ringtable/ringtable/tenants"
)

// setCache keeps the encoded sets of keys recently written or read, so a
// read and the writer's read-modify-write skip Badger's search of its
// memtables and level-0 tables (a sixth of a node's CPU on reads, a tenth
// on writes, in the harness's profiles).
//
// It stays coherent with Badger because only the writer goroutine changes
// stored sets (Purge runs on it too). Before Badger commits a batch, the
// writer takes the batch's keys out of the cache and holds their shards
// (pending); once the commit is done it publishes the new sets, or removes
// a key it cannot vouch for, and lets go. A reader that missed fills in
// what it read from Badger only if no shard hold or publish came since it
// looked (gen) and none is in progress. So a read never meets an older set
// in the cache than one Badger has shown: while Badger starts to show a
// batch's sets, their keys are not in the cache, and a read that raced
// the commit never leaves the older set behind.
//
// Each shard evicts by CLOCK rather than by strict recency: a hit or a
// write only marks its entry, where a list-ordered LRU moves the entry to
// the front of a linked list on every hit (a third of the cache's time
// in a read-only profile, in pointer stores to entries scattered over
// the heap). Entries are found by the key's 64-bit hash, which picks the
// shard too, so a key is hashed once a lookup; two keys of one hash
// share a slot, the later replacing the earlier.
type setCache struct {
	seed   maphash.Seed
	limit  int64 // bytes per shard
	shards [cacheShards]cacheShard
}

const cacheShards = 32

type cacheShard struct {
	mu      sync.Mutex
	gen     uint64
	pending int // keys of the commit in progress in this shard
	bytes   int64
	index   map[uint64]int32 // a key's hash: its slot in entries
	entries []cacheEntry
	free    []int32 // slots of evicted or removed entries
	hand    int     // the clock's next slot to visit
}

type cacheEntry struct {
	key  string
	val  []byte // nil: the key is absent
	hash uint64
	live bool
	used bool // hit since the hand last passed
}

// entryOverhead approximates a cached entry's bookkeeping (its slot, its
// index entry, the key's bytes' header).
const entryOverhead = 96

func cost(key string, val []byte) int64 { return int64(len(key)+len(val)) + entryOverhead }

// newSetCache returns a cache of about size bytes, nil if size <= 0.
func newSetCache(size int64) *setCache {
	if size <= 0 {
		return nil
	}
	c := &setCache{seed: maphash.MakeSeed(), limit: max(size/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].index = map[uint64]int32{}
	}
	return c
}

// cacheable reports whether key's kind is one whose every write goes
// through an update's Key (commit.go put): the sets of items, system
// tables and hints. Other kinds are written as extras or directly.
func cacheable(key []byte) bool {
	if len(key) == 0 {
		return false
	}
	switch tenants.Kind(key[0]) {
	case tenants.KindData, tenants.KindSystem, tenants.KindHint, tenants.KindSystemHint:
		return true
	}
	return false
}

// shard hashes a key given as bytes or as a string alike (maphash hashes
// the same content the same way) and returns its shard and hash.
func (c *setCache) shard(key []byte) (*cacheShard, uint64) {
	h := maphash.Bytes(c.seed, key)
	return &c.shards[h%cacheShards], h
}

func (c *setCache) shardOf(key string) (*cacheShard, uint64) {
	h := maphash.String(c.seed, key)
	return &c.shards[h%cacheShards], h
}

// lookup returns key's cached set (nil val with hit: absent) or, on a
// miss, the shard's generation to pass to fill.
func (c *setCache) lookup(key []byte) (val []byte, hit bool, gen uint64) {
	s, h := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.find(h, key); e != nil {
		if !e.used {
			e.used = true
		}
		return e.val, true, s.gen
	}
	return nil, false, s.gen
}

// fill caches what a reader found in Badger (val nil: absent), unless a
// write was published to the shard since lookup returned gen.
func (c *setCache) fill(key, val []byte, gen uint64) {
	k := string(key)
	if cost(k, val) > c.limit/16 {
		return
	}
	s, h := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen == gen && s.pending == 0 {
		s.add(h, k, val, c.limit, false)
	}
}

// hold takes key out of the cache before a commit that writes it, and
// keeps readers from filling its shard until release.
func (c *setCache) hold(key string) {
	s, h := c.shardOf(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.pending++
	s.remove(h, key)
}

// publish records the writer's committed set of key (nil: absent); forget
// removes a key whose state the writer cannot vouch for.
func (c *setCache) publish(key string, val []byte) {
	s, h := c.shardOf(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release()
	s.gen++
	if cost(key, val) > c.limit/16 {
		s.remove(h, key)
		return
	}
	// Marked as used: the key was just updated, and the writer read it
	// first. A list-ordered LRU would move it to the front.
	s.add(h, key, val, c.limit, true)
}

func (c *setCache) forget(key string) {
	s, h := c.shardOf(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release()
	s.gen++
	s.remove(h, key)
}

// release ends a key's hold: the writer publishes or forgets exactly the
// keys it held.
func (s *cacheShard) release() {
	if s.pending > 0 {
		s.pending--
	}
}

// clear empties the cache (after Purge dropped keys behind its back).
func (c *setCache) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.gen++
		s.index = map[uint64]int32{}
		s.entries, s.free, s.hand, s.bytes = nil, nil, 0, 0
		s.mu.Unlock()
	}
}

// find returns key's entry, nil if the key is not cached.
func (s *cacheShard) find(h uint64, key []byte) *cacheEntry {
	i, ok := s.index[h]
	if !ok {
		return nil
	}
	if e := &s.entries[i]; e.key == string(key) {
		return e
	}
	return nil // another key of the same hash
}

// add caches key's set; used marks it as if hit since the hand passed.
func (s *cacheShard) add(h uint64, key string, val []byte, limit int64, used bool) {
	if i, ok := s.index[h]; ok {
		e := &s.entries[i]
		s.bytes += cost(key, val) - cost(e.key, e.val)
		e.key, e.val = key, val
		e.used = e.used || used
	} else {
		e := cacheEntry{key: key, val: val, hash: h, live: true, used: used}
		if n := len(s.free); n > 0 {
			i = s.free[n-1]
			s.free = s.free[:n-1]
			s.entries[i] = e
		} else {
			i = int32(len(s.entries))
			s.entries = append(s.entries, e)
		}
		s.index[h] = i
		s.bytes += cost(key, val)
	}
	for s.bytes > limit && s.evictOne() {
	}
}

// evictOne moves the hand to the first entry not used (hit or written)
// since the hand last passed it, clearing the marks it passes, and evicts
// that entry. Every live entry's cost is at most a sixteenth of the
// limit, so an over-full shard holds more than one, and the hand meets an
// unmarked one within two turns; false if it did not (the shard holds
// nothing).
func (s *cacheShard) evictOne() bool {
	for range 2 * len(s.entries) {
		if s.hand >= len(s.entries) {
			s.hand = 0
		}
		e := &s.entries[s.hand]
		s.hand++
		if !e.live {
			continue
		}
		if e.used {
			e.used = false
			continue
		}
		s.drop(int32(s.hand - 1))
		return true
	}
	return false
}

func (s *cacheShard) remove(h uint64, key string) {
	if i, ok := s.index[h]; ok && s.entries[i].key == key {
		s.drop(i)
	}
}

func (s *cacheShard) drop(i int32) {
	e := &s.entries[i]
	delete(s.index, e.hash)
	s.bytes -= cost(e.key, e.val)
	*e = cacheEntry{}
	s.free = append(s.free, i)
}
