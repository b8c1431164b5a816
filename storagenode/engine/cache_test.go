package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

func TestSetCacheGenerations(t *testing.T) {
	c := newSetCache(cacheShards * 64 << 10)
	k := []byte{byte(tenants.KindData), 0, 1, 'a'}
	if _, hit, _ := c.lookup(k); hit {
		t.Fatal("hit in an empty cache")
	}
	_, _, gen := c.lookup(k)
	// A commit is published while a reader is in Badger: what the reader
	// read may be older and must not be cached.
	c.publish(string(k), []byte("new"))
	c.fill(k, []byte("old"), gen)
	if v, hit, _ := c.lookup(k); !hit || string(v) != "new" {
		t.Fatalf("after a raced fill: %q %v, want the published set", v, hit)
	}
	c.forget(string(k))
	_, hit, gen := c.lookup(k)
	if hit {
		t.Fatal("forgotten key still cached")
	}
	c.fill(k, nil, gen)
	if v, hit, _ := c.lookup(k); !hit || v != nil {
		t.Fatalf("absent key: %q %v, want a cached absence", v, hit)
	}
	_, _, gen = c.lookup(k)
	c.clear()
	c.fill(k, []byte("before the purge"), gen)
	if _, hit, _ := c.lookup(k); hit {
		t.Fatal("a fill that raced clear was cached")
	}
	if newSetCache(0) != nil {
		t.Fatal("size 0 must turn the cache off")
	}
}

func TestSetCacheStaysWithinItsSize(t *testing.T) {
	const size = cacheShards * 16 << 10
	c := newSetCache(size)
	val := bytes.Repeat([]byte("v"), 500)
	for i := range 5000 {
		c.publish(fmt.Sprintf("\x01key%05d", i), val)
	}
	var total int64
	for i := range c.shards {
		s := &c.shards[i]
		if s.bytes > c.limit {
			t.Fatalf("shard %d holds %d bytes, limit %d", i, s.bytes, c.limit)
		}
		var sum int64
		for _, e := range s.entries {
			if e.live {
				sum += cost(e.key, e.val)
			}
		}
		if sum != s.bytes {
			t.Fatalf("shard %d counts %d bytes, holds %d", i, s.bytes, sum)
		}
		total += s.bytes
	}
	if total < size/2 {
		t.Fatalf("cache holds %d bytes of %d after 5000 inserts", total, size)
	}
	// The newest keys stay, the oldest go.
	if _, hit, _ := c.lookup([]byte("\x01key04999")); !hit {
		t.Fatal("newest key evicted")
	}
	if _, hit, _ := c.lookup([]byte("\x01key00000")); hit {
		t.Fatal("oldest key kept")
	}
	// A set too large for a shard's share is not cached, and a smaller
	// one it replaces is dropped.
	c.publish("\x01big", []byte("small"))
	c.publish("\x01big", bytes.Repeat([]byte("b"), int(c.limit/8)))
	if _, hit, _ := c.lookup([]byte("\x01big")); hit {
		t.Fatal("oversized set cached")
	}
}

func dataKey(pk string) []byte {
	return tenants.Key{Kind: tenants.KindData, Partition: 1, Tenant: "t", Table: "x", PK: pk}.Encode()
}

func one(tx *Tx, val []byte) vclock.Set {
	return vclock.Set{{Clock: vclock.Clock{Dot: vclock.Dot{Actor: tx.Actor(), Counter: tx.NextCounter(0)}}, Value: val}}
}

func openCached(t *testing.T, size int64) *Engine {
	t.Helper()
	cfg := DefaultConfig(t.TempDir(), "n1")
	cfg.MemTableSize = 8 << 20
	cfg.CacheSize = size
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func getValue(t *testing.T, e *Engine, k []byte) string {
	t.Helper()
	s, err := e.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	return valueOf(s)
}

// valueOf is a one-version set's value, or says how many versions it has.
func valueOf(s vclock.Set) string {
	if len(s) != 1 {
		return fmt.Sprintf("<%d versions>", len(s))
	}
	return string(s[0].Value)
}

// badgerValue reads k from Badger itself, past the cache.
func badgerValue(t *testing.T, e *Engine, k []byte) string {
	t.Helper()
	v, err := readBadger(e, k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readBadger(e *Engine, k []byte) (string, error) {
	var v []byte
	if err := e.DB().View(func(txn *badger.Txn) error {
		var err error
		v, _, err = readRaw(txn, k)
		return err
	}); err != nil {
		return "", err
	}
	s, _, err := e.decode(k, v)
	if err != nil {
		return "", err
	}
	return valueOf(s), nil
}

// setValue writes k as one version holding val ("": deletes it).
func setValue(t *testing.T, e *Engine, k []byte, val string) {
	t.Helper()
	if _, err := e.Apply(k, func(tx *Tx, _ vclock.Set) (vclock.Set, bool, error) {
		if val == "" {
			return nil, true, nil
		}
		return one(tx, []byte(val)), true, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestCacheFollowsWritesDeletesAndPurges(t *testing.T) {
	e := openCached(t, 1<<20)
	k := dataKey("a")
	set := func(val string) { t.Helper(); setValue(t, e, k, val) }
	set("v1")
	hits := e.Stats().CacheHits.Load()
	if got := getValue(t, e, k); got != "v1" {
		t.Fatalf("got %q, want v1", got)
	}
	if e.Stats().CacheHits.Load() != hits+1 {
		t.Fatal("a read of a key just written missed the cache")
	}
	set("v2")
	if got := getValue(t, e, k); got != "v2" {
		t.Fatalf("after overwrite: %q, want v2", got)
	}
	set("")
	if s, err := e.Get(k); err != nil || s != nil {
		t.Fatalf("after delete: %v %v, want nothing", s, err)
	}
	set("v3")
	// A purge that finds nothing to drop (sent again, or to a node that
	// never held the items) leaves the cache as it is.
	if err := e.Purge([][]byte{tenants.TenantPrefix(tenants.KindData, 1, "gone")}, "gone", ""); err != nil {
		t.Fatal(err)
	}
	hits = e.Stats().CacheHits.Load()
	if got := getValue(t, e, k); got != "v3" || e.Stats().CacheHits.Load() != hits+1 {
		t.Fatalf("after a purge of nothing: %q, cache hit %v; want v3 from the cache", got, e.Stats().CacheHits.Load() == hits+1)
	}
	if err := e.Purge([][]byte{tenants.TenantPrefix(tenants.KindData, 1, "t")}, "t", ""); err != nil {
		t.Fatal(err)
	}
	if s, err := e.Get(k); err != nil || s != nil {
		t.Fatalf("after purge: %v %v, want nothing", s, err)
	}
	// A set that expires is Badger's to drop: never served from the cache.
	k = tenants.Key{Kind: tenants.KindData, Partition: 1, Tenant: "u", Table: "x", PK: "a"}.Encode()
	if _, err := e.Apply(k, func(tx *Tx, _ vclock.Set) (vclock.Set, bool, error) {
		s := one(tx, []byte("ttl"))
		s[0].Expires = time.Now().Add(time.Hour).UnixMilli()
		return s, true, nil
	}); err != nil {
		t.Fatal(err)
	}
	hits = e.Stats().CacheHits.Load()
	for range 3 {
		if got := getValue(t, e, k); got != "ttl" {
			t.Fatalf("expiring set: %q", got)
		}
	}
	if e.Stats().CacheHits.Load() != hits {
		t.Fatal("an expiring set was served from the cache")
	}
	// Keys of other kinds are written as extras, behind the cache.
	if cacheable([]byte("k1")) || cacheable(tenants.OutboxKey(1)) || !cacheable(k) {
		t.Fatal("cacheable kinds")
	}
}

// Increments read-modify-write counters under concurrent readers, with
// rounds of sets big enough to overflow a transaction (the writer then
// commits part of a batch and redoes the rest): every increment must read
// the last committed or staged value, readers must never see a counter go
// back, and at the end the cache and Badger must agree.
func TestCacheCoherentUnderConcurrentReadsAndWrites(t *testing.T) {
	e := openCached(t, 4<<20)
	const keys, writers, incs = 20, 4, 60
	big := strings.Repeat("x", 100<<10)
	count := func(s vclock.Set) int {
		if len(s) != 1 {
			return 0
		}
		n, _ := strconv.Atoi(strings.SplitN(string(s[0].Value), "|", 2)[0])
		return n
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 4 {
		readers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			last := make([]int, keys)
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(keys)
				s, err := e.Get(dataKey(strconv.Itoa(i)))
				if err != nil {
					errs <- err
					return
				}
				if n := count(s); n < last[i] {
					errs <- fmt.Errorf("key %d went back from %d to %d", i, last[i], n)
					return
				} else {
					last[i] = n
				}
			}
		})
	}
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			var batch sync.WaitGroup
			for round := range incs {
				for i := range keys {
					pad := ""
					if round%15 == w {
						pad = big // a round of these overflows a transaction
					}
					batch.Add(1)
					e.Submit(Update{Key: dataKey(strconv.Itoa(i)),
						Fn: func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
							return one(tx, []byte(strconv.Itoa(count(cur)+1)+"|"+pad)), true, nil
						},
						Done: func(_ Result, err error) {
							if err != nil {
								errs <- err
							}
							batch.Done()
						}})
				}
				batch.Wait()
			}
		})
	}
	writersWG.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range keys {
		k := dataKey(strconv.Itoa(i))
		got, want := getValue(t, e, k), badgerValue(t, e, k)
		if got != want {
			t.Fatalf("key %d: cache gives %.20q, Badger %.20q", i, got, want)
		}
		if n, _ := strconv.Atoi(strings.SplitN(got, "|", 2)[0]); n != writers*incs {
			t.Fatalf("key %d counted %d increments, want %d", i, n, writers*incs)
		}
	}
	if e.Stats().CacheHits.Load() == 0 {
		t.Fatal("the cache was never used")
	}
}

// Between Badger's commit of a batch and the cache's publishing of its
// sets, a read may see the new set in Badger; a read after it must not
// get the older set from the cache.
func TestCacheNeverServesOlderThanBadgerShowed(t *testing.T) {
	e := openCached(t, 4<<20)
	k := dataKey("a")
	setValue(t, e, k, "old")
	if got := getValue(t, e, k); got != "old" { // and the cache holds it
		t.Fatalf("read %q, want old", got)
	}
	seen := make(chan [2]string, 1)
	hook := func(f func()) {
		if err := e.onWriter(func() error { e.afterCommit = f; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	hook(func() {
		inBadger, err := readBadger(e, k)
		if err != nil {
			inBadger = err.Error()
		}
		after, _ := e.Get(k)
		select {
		case seen <- [2]string{inBadger, valueOf(after)}:
		default:
		}
	})
	defer hook(nil)
	setValue(t, e, k, "new")
	got := <-seen
	if got[0] != "new" {
		t.Fatalf("Badger showed %q after the commit, want new", got[0])
	}
	if got[1] != "new" {
		t.Fatalf("after Badger showed new, a read got %q", got[1])
	}
}

// The writer's update function gets the stored set decoded in place, its
// values aliasing the cached (or Badger's) bytes: appending to a value it
// was handed must not write into those bytes, which the next reader
// decodes.
func TestUpdateCannotChangeTheSetItWasHanded(t *testing.T) {
	for _, size := range []int64{1 << 20, 0} {
		e := openCached(t, size)
		k := dataKey("a")
		if _, err := e.Apply(k, func(tx *Tx, _ vclock.Set) (vclock.Set, bool, error) {
			s := append(one(tx, []byte(`{"v":1}`)), one(tx, []byte(`{"v":2}`))...)
			return s, true, nil
		}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := e.Apply(k, func(_ *Tx, cur vclock.Set) (vclock.Set, bool, error) {
				for _, v := range cur {
					_ = append(v.Value, `,"x":"overwritten"}`...)
				}
				return cur, false, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		s, err := e.Get(k)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 2 || string(s[0].Value) != `{"v":1}` || string(s[1].Value) != `{"v":2}` {
			t.Fatalf("cache of %d bytes: the set is now %v", size, s)
		}
	}
}
