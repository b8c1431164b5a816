package engine

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/ringtable/ringtable/storagenode/merkle"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// Config configures an engine.
type Config struct {
	// Dir is the Badger directory; created if missing.
	Dir string
	// NodeID owns the directory. Opening it under another ID is refused,
	// so two nodes can never share one incarnation.
	NodeID string
	// Sync makes every batch durable before it is acknowledged. Only
	// benchmarks that measure the cost of durability turn it off.
	Sync bool
	// MaxBatch caps the updates committed together (default 1024): larger
	// batches amortise the fsync further but delay the first of them.
	MaxBatch int
	// MaxValue bounds a stored sibling set when decoding (default 64 MiB).
	MaxValue int
	// ExpiredGrace is how long a sibling set whose every version has
	// expired is kept before Badger drops it (default 1h): a replica that
	// missed a later, non-expiring write must not see the item vanish
	// under an older version it still holds before repair reaches it.
	ExpiredGrace time.Duration
	// NoTrees turns off Merkle tree maintenance: only benchmarks that
	// measure its cost do that.
	NoTrees bool
	// MemTableSize is Badger's memtable size (default 16 MiB), and the
	// size of the tables compactions write below level 0. Each node's
	// memtables add up to 47% of it, by its ID (see staggered).
	MemTableSize int64
	// BlockCacheSize is Badger's block cache (default 0: tables are not
	// compressed, so a read finds its block in the mapped table).
	BlockCacheSize int64
	// CacheSize bounds the cache of recently written and read sets
	// (cache.go) in bytes; 0 or less turns it off.
	CacheSize int64
	// PurgedFor is how long a purge is remembered, refusing writes to the
	// items it dropped (default DefaultPurgedFor).
	PurgedFor time.Duration
	// Logger receives Badger's warnings and errors.
	Logger *slog.Logger
}

// DefaultConfig returns a durable configuration for dir.
func DefaultConfig(dir, nodeID string) Config {
	return Config{
		Dir:            dir,
		NodeID:         nodeID,
		Sync:           true,
		MaxBatch:       1024,
		MaxValue:       64 << 20,
		ExpiredGrace:   time.Hour,
		MemTableSize:   16 << 20,
		BlockCacheSize: 0,
		CacheSize:      32 << 20,
		PurgedFor:      DefaultPurgedFor,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("engine: no data directory")
	case c.NodeID == "":
		return errors.New("engine: no node ID")
	case c.MaxBatch < 1:
		return errors.New("engine: MaxBatch must be at least 1")
	case c.MemTableSize < 8<<20:
		// Badger needs 15% of a memtable to hold its 1 MiB value threshold.
		return errors.New("engine: MemTableSize must be at least 8 MiB")
	}
	return nil
}

// Errors returned by the engine.
var (
	// ErrClosed is returned for updates submitted after Close.
	ErrClosed = errors.New("engine: closed")
	// ErrWrongNode is returned by Open when the directory belongs to
	// another node.
	ErrWrongNode = errors.New("engine: data directory belongs to another node")
	// ErrInUse is returned by Open when another process has the
	// directory open.
	ErrInUse = errors.New("engine: data directory in use")
)

// Engine is an open store.
type Engine struct {
	cfg   Config
	db    *badger.DB
	actor vclock.Actor
	// dropped is OnDrop's hook, owned by the writer goroutine.
	dropped func(tx *Tx, key []byte, v vclock.Version)
	tx      Tx // the update function's, reused by stage (writer goroutine)
	log     *slog.Logger

	mu         sync.RWMutex // guards closed against Update racing Close
	closed     bool
	ops        chan *op
	syncq      chan syncBatch
	syncFailed atomic.Bool
	// redoFailed is set by the syncer when a redo segment failed to
	// sync: the kernel may have dropped part of it, and a record missing
	// before others would end replay there, so the writer makes a
	// checkpoint before it commits anything more.
	redoFailed atomic.Bool
	stop       chan struct{}
	done       chan struct{}

	// Owned by the writer goroutine.
	counter, leaseEnd uint64
	budget            int64
	usage             map[usageKey]int64
	dirtyUsage        map[usageKey]bool
	usageKeys         map[string]usageKey // a key's encoded table names → its usageKey
	trees             map[uint32]*merkle.Tree
	purged            purgedSet
	bigValue          bool // the batch being staged holds a value-log value
	// staged is what the open transaction has written to cacheable keys,
	// published to cache once it commits.
	staged map[string]stagedSet
	cache  *setCache // nil: off
	// rlog is the writer's end of the redo log (redo.go); nil when
	// batches are not synced.
	rlog *redoLog
	// TrackTrees off skips Merkle maintenance (for measuring its cost).
	noTrees bool
	// afterCommit, set by tests on the writer goroutine, runs between a
	// batch's commit and its publishing to the cache.
	afterCommit func()
	// failSync, set by tests on the writer goroutine, makes the syncs of
	// batches sent after it fail while it returns an error.
	failSync func() error

	stats Stats
}

// Stats are cumulative counters, safe to read at any time.
type Stats struct {
	Batches atomic.Uint64 // committed batches (fsyncs when Sync is on)
	Updates atomic.Uint64 // updates acknowledged
	Failed  atomic.Uint64 // updates that failed
	// CommitNanos is the total time spent committing batches to Badger;
	// SyncNanos and Syncs the time and number of syncs that made them
	// durable.
	CommitNanos atomic.Uint64
	SyncNanos   atomic.Uint64
	Syncs       atomic.Uint64
	// Replayed is how many redo records Open replayed.
	Replayed atomic.Uint64
	// CacheHits and CacheMisses count reads of cacheable keys (by Get and
	// by updates) that found their set in the cache or went to Badger.
	CacheHits, CacheMisses atomic.Uint64
}

var (
	metaIncarnation = []byte{byte(tenants.KindMeta), 'i'}
	metaLease       = []byte{byte(tenants.KindMeta), 'c'}
	metaRedo        = []byte{byte(tenants.KindMeta), 'r'} // the newest batch's redo record
)

// Memtables are small: with 16 MiB instead of 64, writes/s rose by a
// tenth and the p50 at half the maximum write rate fell by a third to a
// half (a small memtable's skiplist is shallower, and more of it stays in
// the CPU's caches). Small memtables fill level 0 four times as fast, and
// at Badger's default of 5 level-0 tables (writes stalled at 15)
// compactions fell behind and stalled writes for hundreds of
// milliseconds; 10 (stalled at 30) keep up, now that compactions drop
// overwritten versions (see commit). The price can be in the tail: level
// 0 is compacted every 10 flushes of 16 MiB instead of every 5 of 64 MiB,
// each compaction rewrites the base level, and on a slow machine the
// nodes share, a compaction's burst holds up every node; on a faster one
// the p99 was the same (docs/performance.md, "Compactions and memtables").
const (
	level0Tables = 10
	level0Stall  = 30
)

// leaseBlock is how many counters one durable lease write covers.
const leaseBlock = 1 << 16

// BadgerOptions are the options Open runs Badger with for cfg, without
// its logger: exported so that bench/ceiling's replicas run the same store
// as a node (its memtable size staggered by cfg.NodeID included).
func BadgerOptions(cfg Config) badger.Options {
	return badger.DefaultOptions(cfg.Dir).
		WithSyncWrites(false). // the syncer makes batches durable (sync.go)
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		WithMemTableSize(staggered(cfg.MemTableSize, cfg.NodeID)).
		WithNumLevelZeroTables(level0Tables).
		WithNumLevelZeroTablesStall(level0Stall).
		// Tables below level 0 as large as a memtable (Badger's
		// default is 2 MiB): a compaction runs in up to five parallel
		// parts, one per few tables of the level it merges into, and a
		// level-0 compaction into 2 MiB tables took both cores for a
		// second, which every node sharing the machine and the gateway
		// waited out. With larger tables it runs in one or two parts
		// (docs/performance.md, "Compactions' tables").
		WithBaseTableSize(cfg.MemTableSize).
		WithBlockCacheSize(cfg.BlockCacheSize).
		WithValueLogFileSize(256 << 20).
		WithMetricsEnabled(false).
		// Items are small JSON documents and the CPU is the scarcer
		// resource: compressing every flushed table cost more than the
		// disk it saved.
		WithCompression(options.None)
}

// Open opens or creates the store.
func Open(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PurgedFor <= 0 {
		cfg.PurgedFor = DefaultPurgedFor
	}
	if cfg.MaxValue == 0 {
		cfg.MaxValue = 64 << 20
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := BadgerOptions(cfg).WithLogger(badgerLogger{log})
	db, err := badger.Open(opts)
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		// Badger's message names itself, not what the operator did.
		return nil, fmt.Errorf("%w: %s is held by another process (is a ringtable dev or node already running on it?)", ErrInUse, cfg.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("engine: open %s: %w", cfg.Dir, err)
	}
	e := &Engine{
		cfg:        cfg,
		db:         db,
		log:        log,
		ops:        make(chan *op, cfg.MaxBatch*4),
		syncq:      make(chan syncBatch, 64),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		budget:     opts.MemTableSize * 15 / 100 / 2,
		usage:      map[usageKey]int64{},
		dirtyUsage: map[usageKey]bool{},
		usageKeys:  map[string]usageKey{},
		trees:      map[uint32]*merkle.Tree{},
		noTrees:    cfg.NoTrees,
		staged:     map[string]stagedSet{},
		cache:      newSetCache(cfg.CacheSize),
	}
	if err := e.recover(); err != nil {
		db.Close()
		return nil, err
	}
	go e.run()
	go e.syncLoop()
	return e, nil
}

// recover replays the redo log, loads what the engine keeps in memory
// and makes a checkpoint, so that the log starts empty.
func (e *Engine) recover() error {
	// Replayed even when batches are not synced: records left by an
	// earlier life must not be replayed over later writes one day.
	dir := filepath.Join(e.cfg.Dir, redoDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("engine: redo log: %w", err)
	}
	free, err := freeSegments(dir)
	if err != nil {
		return err
	}
	e.rlog = &redoLog{dir: dir, memDir: e.cfg.Dir, segSize: redoSegmentSize, free: free}
	var leaseBefore []byte
	err = e.db.View(func(txn *badger.Txn) error {
		var err error
		leaseBefore, err = getRaw(txn, metaLease)
		return err
	})
	if err != nil {
		return err
	}
	rp, err := replay(e.db, dir)
	if err != nil {
		return err
	}
	e.stats.Replayed.Store(uint64(rp.records))
	if rp.records > 0 {
		e.log.Info("redo log replayed", "records", rp.records, "last", rp.last)
	}
	if rp.ahead && len(leaseBefore) == 8 {
		// Counters up to the higher lease may be in Badger's versions.
		err := e.db.Update(func(txn *badger.Txn) error {
			now, err := getRaw(txn, metaLease)
			if err != nil || len(now) == 8 && binary.BigEndian.Uint64(now) >= binary.BigEndian.Uint64(leaseBefore) {
				return err
			}
			return txn.Set(metaLease, leaseBefore)
		})
		if err != nil {
			return fmt.Errorf("engine: redo log: %w", err)
		}
	}
	if err := e.loadMeta(); err != nil {
		return err
	}
	if e.rlog.seq, err = storedSeq(e.db); err != nil {
		return err
	}
	if rp.ahead {
		// Part of a batch that was never acknowledged may be left beside
		// older records replayed over the rest: the trees are rebuilt
		// from the data.
		e.log.Warn("redo log: the store held a batch the log did not; rebuilding Merkle trees", "records", rp.records)
		parts := make([]uint32, 0, len(e.trees))
		for p := range e.trees {
			parts = append(parts, p)
		}
		if err := e.rebuild(parts); err != nil {
			return err
		}
	}
	if err := e.checkpoint(); err != nil {
		return err
	}
	if !e.cfg.Sync {
		e.rlog = nil // nothing is synced: no log
		return removeSegments(dir)
	}
	return nil
}

// checkpoint makes everything Badger holds durable and empties the redo
// log. It runs on the writer goroutine, or before it starts.
func (e *Engine) checkpoint() error {
	if e.rlog == nil {
		return nil
	}
	if err := syncMemLogs(e.db, e.cfg.Dir); err != nil {
		return err
	}
	return e.rlog.empty()
}

// Checkpoint makes every write to Badger so far durable, including those
// made past the engine (DB): call it after such a write.
func (e *Engine) Checkpoint() error { return e.onWriter(e.checkpoint) }

// staggered is a node's memtable size: the configured size plus 0 to 15
// thirty-seconds of it, chosen by the node's ID. Replicas receive the same
// writes, so equal memtables would fill, and be flushed to tables, at the
// same moment on every replica of a partition. A flush writes a whole
// memtable to disk, and the node's log syncs wait behind it for hundreds
// of milliseconds; with every replica flushing at once, no quorum can
// avoid the wait (and nodes sharing a machine also share the CPU the
// flushes take). With sizes that differ by a few percent, replicas flush
// seconds apart and a write's quorum can be formed by the others.
func staggered(size int64, nodeID string) int64 {
	h := fnv.New32a()
	h.Write([]byte(nodeID))
	return size + size*int64(h.Sum32()%16)/32
}

// loadMeta reads or creates the incarnation and the counter lease.
func (e *Engine) loadMeta() error {
	return e.db.Update(func(txn *badger.Txn) error {
		inc, err := getRaw(txn, metaIncarnation)
		if err != nil {
			return err
		}
		if inc == nil {
			var b [5]byte
			if _, err := rand.Read(b[:]); err != nil {
				return fmt.Errorf("engine: incarnation: %w", err)
			}
			inc = []byte(e.cfg.NodeID + "~" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:])))
			if err := txn.Set(metaIncarnation, inc); err != nil {
				return err
			}
		}
		if node, _, _ := strings.Cut(string(inc), "~"); node != e.cfg.NodeID {
			return fmt.Errorf("%w: %s is %q's, not %q's", ErrWrongNode, e.cfg.Dir, node, e.cfg.NodeID)
		}
		e.actor = vclock.Actor(inc)
		lease, err := getRaw(txn, metaLease)
		if err != nil {
			return err
		}
		if len(lease) == 8 {
			// Counters up to the old lease end may have been used.
			e.counter = binary.BigEndian.Uint64(lease)
			e.leaseEnd = e.counter
		}
		if err := e.loadUsage(txn); err != nil {
			return err
		}
		if err := e.loadPurged(txn); err != nil {
			return err
		}
		return e.loadTrees(txn)
	})
}

func getRaw(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// Actor is this directory's incarnation: the clock actor of every version
// this node stamps.
func (e *Engine) Actor() vclock.Actor { return e.actor }

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// DB exposes Badger for packages that keep their own key kinds (hints,
// Merkle trees, ring state) in the same store.
func (e *Engine) DB() *badger.DB { return e.db }

// Get returns the stored sibling set of key, nil if none.
func (e *Engine) Get(key []byte) (vclock.Set, error) {
	v, err := e.GetEncoded(key)
	if err != nil {
		return nil, err
	}
	s, _, err := e.decode(key, v)
	return s, err
}

// GetEncoded returns the stored sibling set of key as it is stored
// (vclock.AppendSet), nil if none. The bytes may be shared: callers must
// not modify them.
func (e *Engine) GetEncoded(key []byte) ([]byte, error) {
	c, gen := e.cache, uint64(0)
	if c != nil && cacheable(key) {
		v, hit, g := c.lookup(key)
		if hit {
			e.stats.CacheHits.Add(1)
			return v, nil
		}
		e.stats.CacheMisses.Add(1)
		gen = g
	} else {
		c = nil
	}
	var v []byte
	var expires uint64
	err := e.db.View(func(txn *badger.Txn) error {
		var err error
		v, expires, err = readRaw(txn, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	if c != nil && expires == 0 {
		c.fill(key, v, gen)
	}
	return v, nil
}

// readRaw returns key's stored bytes (nil if absent) and Badger expiry.
func readRaw(txn *badger.Txn, key []byte) ([]byte, uint64, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("engine: get: %w", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, 0, fmt.Errorf("engine: get: %w", err)
	}
	return v, item.ExpiresAt(), nil
}

// decode decodes a stored set (nil: absent) and returns its encoded size.
// The decoded set's values alias v, which may be shared with the cache
// and the open transaction: that is safe because no one writes into a
// set's bytes once encoded (a staged set, a cached one and Badger's copy
// are never changed, only replaced), and the decoder caps every value at
// its length, so an append to one copies it.
func (e *Engine) decode(key, v []byte) (vclock.Set, int, error) {
	if v == nil {
		return nil, 0, nil
	}
	s, err := vclock.DecodeSet(v, e.cfg.MaxValue)
	if err != nil {
		return nil, 0, fmt.Errorf("engine: stored set of %x: %w", key, err)
	}
	return s, len(v), nil
}

// current is the writer's read of key: what the open transaction staged,
// else the cache, else Badger through txn. It also returns the encoded size
// of the set. It does not fill the cache: a key the writer changes is
// published once committed.
func (e *Engine) current(txn *badger.Txn, key []byte) (vclock.Set, int, error) {
	if st, ok := e.staged[string(key)]; ok {
		if !st.unknown {
			return e.decode(key, st.val)
		}
		// Else txn holds the staged write.
	} else if e.cache != nil && cacheable(key) {
		if v, hit, _ := e.cache.lookup(key); hit {
			e.stats.CacheHits.Add(1)
			return e.decode(key, v)
		}
		e.stats.CacheMisses.Add(1)
	}
	v, _, err := readRaw(txn, key)
	if err != nil {
		return nil, 0, err
	}
	return e.decode(key, v)
}

// ScanRange describes the keys of one prefix to visit.
type ScanRange struct {
	Prefix  []byte // every visited key starts with it
	Start   []byte // first suffix (inclusive); empty: from the beginning
	End     []byte // suffix bound (exclusive); empty: to the end
	Reverse bool
	Limit   int // 0: no limit
}

// Scan calls fn for each key in r, in key order (or reverse), with the
// suffix after the prefix and the stored set. fn returning false stops.
func (e *Engine) Scan(r ScanRange, fn func(suffix []byte, s vclock.Set) bool) error {
	return e.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = r.Prefix
		opts.Reverse = r.Reverse
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		start := append(append([]byte{}, r.Prefix...), r.Start...)
		if r.Reverse {
			if len(r.End) > 0 {
				start = append(append([]byte{}, r.Prefix...), r.End...)
			} else {
				start = append(append([]byte{}, r.Prefix...), 0xff, 0xff, 0xff, 0xff)
			}
		}
		n := 0
		for it.Seek(start); it.ValidForPrefix(r.Prefix); it.Next() {
			item := it.Item()
			suffix := item.KeyCopy(nil)[len(r.Prefix):]
			if r.Reverse {
				if len(r.End) > 0 && string(suffix) >= string(r.End) {
					continue // Seek lands on End itself, which is excluded
				}
				if string(suffix) < string(r.Start) {
					break
				}
			} else if len(r.End) > 0 && string(suffix) >= string(r.End) {
				break
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("engine: scan: %w", err)
			}
			s, err := vclock.DecodeSet(v, e.cfg.MaxValue)
			if err != nil {
				return fmt.Errorf("engine: stored set of %x: %w", item.Key(), err)
			}
			if !fn(suffix, s) {
				return nil
			}
			if n++; r.Limit > 0 && n >= r.Limit {
				return nil
			}
		}
		return nil
	})
}

// Close stops the writer after completing accepted updates, then closes
// Badger.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.stop)
	e.mu.Unlock()
	<-e.done
	if e.rlog != nil {
		for _, f := range append(e.rlog.retired, e.rlog.f) {
			if f != nil {
				f.Close()
			}
		}
	}
	if err := e.db.Close(); err != nil {
		return err
	}
	if e.rlog == nil {
		return nil
	}
	// Badger flushed its memtables to (synced) tables: once their logs
	// are gone, the redo log holds nothing Badger lacks.
	if mems, err := memLogs(e.cfg.Dir); err != nil || len(mems) > 0 {
		return err
	}
	return removeSegments(e.rlog.dir)
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, v ...any) {
	b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, v...)))
}
func (b badgerLogger) Warningf(f string, v ...any) {
	b.l.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(f, v...)))
}

// Infof is Badger's chatter (compactions, flushes, stalls): at debug level,
// where an operator chasing latency can find it.
func (b badgerLogger) Infof(f string, v ...any) {
	if b.l.Enabled(context.Background(), slog.LevelDebug) {
		b.l.Debug("badger: " + strings.TrimSpace(fmt.Sprintf(f, v...)))
	}
}
func (b badgerLogger) Debugf(string, ...any) {}

// Count returns the number of keys with the prefix, reading keys only.
func (e *Engine) Count(prefix []byte) (int, error) { return e.CountUpTo(prefix, 0) }

// CountUpTo counts the keys under prefix, stopping at limit (0: none).
func (e *Engine) CountUpTo(prefix []byte, limit int) (int, error) {
	n := 0
	err := e.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid() && (limit == 0 || n < limit); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}
