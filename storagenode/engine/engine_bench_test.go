package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// The value written by the benchmarks: one version of a 1 KiB item.
func benchSet(i uint64) vclock.Set {
	return vclock.Set{{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n1~a", Counter: i + 1}}, Value: make([]byte, 1024)}}
}

// BenchmarkGroupCommit measures durable writes from 64 concurrent
// writers through the engine's group commit.
func BenchmarkGroupCommit(b *testing.B) {
	cfg := DefaultConfig(b.TempDir(), "n1")
	e, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var next atomic.Uint64
	b.SetParallelism(32) // 64 goroutines on 2 CPUs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			_, err := e.Apply([]byte(fmt.Sprintf("k%d", i)), func(_ *Tx, _ vclock.Set) (vclock.Set, bool, error) {
				return benchSet(i), true, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/float64(max(e.Stats().Syncs.Load(), 1)), "writes/sync")
}

// BenchmarkSyncPerWrite is the baseline: each writer commits its own
// Badger transaction with SyncWrites, so every write pays its own sync.
func BenchmarkSyncPerWrite(b *testing.B) {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithSyncWrites(true).WithLogger(nil).WithDetectConflicts(false))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var next atomic.Uint64
	var mu sync.Mutex
	_ = &mu
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			err := db.Update(func(txn *badger.Txn) error {
				return txn.Set([]byte(fmt.Sprintf("k%d", i)), vclock.AppendSet(nil, benchSet(i)))
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMerkleCost is the cost a write pays to keep its partition's
// Merkle tree current: the same durable writes from 64 concurrent writers
// (group commit), with the tree maintained and without.
func BenchmarkMerkleCost(b *testing.B) {
	for _, trees := range []bool{false, true} {
		b.Run(map[bool]string{false: "without-tree", true: "with-tree"}[trees], func(b *testing.B) {
			cfg := DefaultConfig(b.TempDir(), "n1")
			cfg.NoTrees = !trees
			e, err := Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			var next atomic.Uint64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					k := []byte{byte(tenants.KindData), 0, byte(i), 1, 't', 1, 'x', 4, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)} // 256 partitions
					if _, err := e.Apply(k, func(_ *Tx, _ vclock.Set) (vclock.Set, bool, error) { return benchSet(i), true, nil }); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
