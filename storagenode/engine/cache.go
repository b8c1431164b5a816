package engine

import (
	"hash/maphash"
	"math"
	"sync"
	"unsafe"

	"github.com/hashicorp/golang-lru/v2/simplelru"

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
	lru     *simplelru.LRU[string, []byte] // a nil value: the key is absent
}

// entryOverhead approximates a cached entry's bookkeeping (list element,
// map slot, string and slice headers).
const entryOverhead = 96

func cost(key string, val []byte) int64 { return int64(len(key)+len(val)) + entryOverhead }

// newSetCache returns a cache of about size bytes, nil if size <= 0.
func newSetCache(size int64) *setCache {
	if size <= 0 {
		return nil
	}
	c := &setCache{seed: maphash.MakeSeed(), limit: max(size/cacheShards, 1)}
	for i := range c.shards {
		// Bounded by bytes (add evicts), not by entries.
		c.shards[i].lru, _ = simplelru.NewLRU[string, []byte](math.MaxInt32, nil)
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
	case tenants.KindData, tenants.KindSystem, tenants.KindHint:
		return true
	}
	return false
}

// shard hashes a key given as bytes or as a string alike (maphash hashes
// the same content the same way).
func (c *setCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

func (c *setCache) shardOf(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// lookup returns key's cached set (nil val with hit: absent) or, on a
// miss, the shard's generation to pass to fill.
func (c *setCache) lookup(key []byte) (val []byte, hit bool, gen uint64) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	// The LRU does not keep the key it looks up: no copy of it is needed.
	val, hit = s.lru.Get(unsafe.String(unsafe.SliceData(key), len(key)))
	return val, hit, s.gen
}

// fill caches what a reader found in Badger (val nil: absent), unless a
// write was published to the shard since lookup returned gen.
func (c *setCache) fill(key, val []byte, gen uint64) {
	k := string(key)
	if cost(k, val) > c.limit/16 {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen == gen && s.pending == 0 {
		s.add(k, val, c.limit)
	}
}

// hold takes key out of the cache before a commit that writes it, and
// keeps readers from filling its shard until release.
func (c *setCache) hold(key string) {
	s := c.shardOf(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.pending++
	s.remove(key)
}

// publish records the writer's committed set of key (nil: absent); forget
// removes a key whose state the writer cannot vouch for.
func (c *setCache) publish(key string, val []byte) {
	s := c.shardOf(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release()
	s.gen++
	if cost(key, val) > c.limit/16 {
		s.remove(key)
		return
	}
	s.add(key, val, c.limit)
}

func (c *setCache) forget(key string) {
	s := c.shardOf(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release()
	s.gen++
	s.remove(key)
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
		s.lru.Purge()
		s.bytes = 0
		s.mu.Unlock()
	}
}

func (s *cacheShard) add(key string, val []byte, limit int64) {
	if old, ok := s.lru.Peek(key); ok {
		s.bytes -= cost(key, old)
	}
	s.lru.Add(key, val)
	s.bytes += cost(key, val)
	for s.bytes > limit {
		k, v, ok := s.lru.RemoveOldest()
		if !ok {
			break
		}
		s.bytes -= cost(k, v)
	}
}

func (s *cacheShard) remove(key string) {
	if v, ok := s.lru.Peek(key); ok {
		s.lru.Remove(key)
		s.bytes -= cost(key, v)
	}
}
