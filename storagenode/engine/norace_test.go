//go:build !race

// Tests too heavy for the race detector: each writes some 40 MiB through
// Badger to drive its compactions, which the detector slows many times
// over. CI runs them in a second, race-free pass: go test -run NoRace ./...

package engine

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Compaction keeps only an item's newest version: nothing the engine does
// holds Badger's read watermark back, or every overwrite would stay on
// disk for good and be rewritten by every compaction after.
func TestNoRaceCompactionDropsOverwrittenVersions(t *testing.T) {
	e := open(t, t.TempDir(), "n1")
	defer e.Close()
	for i := range 30 {
		put(t, e, "k", strconv.Itoa(i))
	}
	fillThroughLevel0(t, e)
	versions := func() (n int) {
		err := e.db.View(func(txn *badger.Txn) error {
			opts := badger.DefaultIteratorOptions
			opts.AllVersions, opts.PrefetchValues, opts.Prefix = true, false, []byte("k")
			it := txn.NewIterator(opts)
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for n := versions(); n != 1; n = versions() {
		if time.Now().After(deadline) {
			var levels []string
			for _, l := range e.db.Levels() {
				levels = append(levels, fmt.Sprintf("L%d: %d tables", l.Level, l.NumTables))
			}
			t.Fatalf("%d versions of k remain after its overwrites were compacted (%s), want 1", n, strings.Join(levels, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fillThroughLevel0 writes enough to push what was written before out of
// the memtables (of at most 12 MiB) and through level 0's compaction, with
// values small enough to stay in the tree rather than the value log: 40
// MiB of live items, each written several times.
func fillThroughLevel0(t *testing.T, e *Engine) {
	t.Helper()
	filler := strings.Repeat("x", 256<<10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range (level0Tables + 3) * 12 * 4 / 8 {
				put(t, e, fmt.Sprintf("f%d-%03d", g, i%20), filler)
			}
		})
	}
	wg.Wait()
}

// Compactions below level 0 write tables as large as a memtable, not
// Badger's 2 MiB: a compaction runs in parallel parts by those tables,
// and many small ones let one take every core.
func TestNoRaceCompactedTablesAreMemtableSized(t *testing.T) {
	e := open(t, t.TempDir(), "n1") // 8 MiB memtables
	defer e.Close()
	fillThroughLevel0(t, e)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		var largest int64
		for _, ti := range e.db.Tables() {
			if ti.Level > 0 {
				n++
				largest = max(largest, int64(ti.OnDiskSize))
			}
		}
		// Badger's own sizes (2 MiB at the base level, twice that at
		// each level below) made none larger than 5.3 MiB here.
		if n > 0 && largest > 7<<20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tables below level 0, the largest %d bytes: want some larger than 7 MiB, as the 8 MiB memtables are", n, largest)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
