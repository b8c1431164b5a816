package engine

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/vclock"
)

func open(t *testing.T, dir, node string) *Engine {
	t.Helper()
	cfg := DefaultConfig(dir, node)
	cfg.MemTableSize = 8 << 20
	cfg.BlockCacheSize = 4 << 20
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func put(t *testing.T, e *Engine, key string, val string) {
	t.Helper()
	_, err := e.Apply([]byte(key), func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
		d := vclock.Dot{Actor: tx.Actor(), Counter: tx.NextCounter(0)}
		return cur.Update(vclock.Context{}, vclock.Version{Clock: vclock.Clock{Dot: d}, Value: []byte(val)}, 10), true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAcknowledgedUpdatesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				put(t, e, fmt.Sprintf("k%d-%d", g, i), fmt.Sprintf("v%d", i))
			}
		}()
	}
	wg.Wait()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open(t, dir, "n1")
	defer e.Close()
	for g := range 8 {
		for i := range 50 {
			s, err := e.Get([]byte(fmt.Sprintf("k%d-%d", g, i)))
			if err != nil || len(s) != 1 || string(s[0].Value) != fmt.Sprintf("v%d", i) {
				t.Fatalf("k%d-%d after reopen: %v %v", g, i, s, err)
			}
		}
	}
}

// Counters are never handed out twice in a directory's life, even across
// restarts: a reused counter would make a new version look already seen.
func TestCountersNeverRepeatAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	seen := map[uint64]bool{}
	var last uint64
	for round := range 3 {
		e := open(t, dir, "n1")
		for i := range 100 {
			_, err := e.Apply([]byte("k"), func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
				c := tx.NextCounter(0)
				if seen[c] || c <= last {
					return nil, false, fmt.Errorf("round %d write %d: counter %d after %d", round, i, c, last)
				}
				seen[c], last = true, c
				return cur, false, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNextCounterStaysAboveMin(t *testing.T) {
	e := open(t, t.TempDir(), "n1")
	defer e.Close()
	_, err := e.Apply([]byte("k"), func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
		if c := tx.NextCounter(1 << 40); c <= 1<<40 {
			return nil, false, fmt.Errorf("counter %d not above min", c)
		}
		if c := tx.NextCounter(5); c <= 1<<40 {
			return nil, false, fmt.Errorf("counter %d went back", c)
		}
		return cur, false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDirectoryInUseSaysSo(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	defer e.Close()
	_, err := Open(DefaultConfig(dir, "n1"))
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), dir+" is held by another process") {
		t.Fatalf("opening an open directory: %v, want ErrInUse naming it", err)
	}
}

func TestDirectoryBelongsToOneNode(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	actor := e.Actor()
	e.Close()
	if _, err := Open(DefaultConfig(dir, "n2")); !errors.Is(err, ErrWrongNode) {
		t.Fatalf("opening n1's directory as n2: %v, want ErrWrongNode", err)
	}
	e = open(t, dir, "n1")
	defer e.Close()
	if e.Actor() != actor {
		t.Fatalf("actor changed across reopen: %s → %s", actor, e.Actor())
	}
	fresh := open(t, t.TempDir(), "n1")
	defer fresh.Close()
	if fresh.Actor() == actor {
		t.Fatalf("a fresh directory reused incarnation %s", actor)
	}
}

func TestUpdateErrorsAndClose(t *testing.T) {
	e := open(t, t.TempDir(), "n1")
	boom := errors.New("boom")
	_, err := e.Apply([]byte("k"), func(*Tx, vclock.Set) (vclock.Set, bool, error) { return nil, false, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("update error: %v", err)
	}
	if s, _ := e.Get([]byte("k")); s != nil {
		t.Fatalf("a failed update stored %v", s)
	}
	e.Close()
	if _, err := e.Apply([]byte("k"), func(*Tx, vclock.Set) (vclock.Set, bool, error) { return nil, true, nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("update after close: %v, want ErrClosed", err)
	}
}

func TestScanRanges(t *testing.T) {
	e := open(t, t.TempDir(), "n1")
	defer e.Close()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		put(t, e, "p/"+k, k)
	}
	put(t, e, "q/z", "other prefix")
	scan := func(r ScanRange) string {
		var out string
		if err := e.Scan(r, func(sfx []byte, _ vclock.Set) bool { out += string(sfx); return true }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	p := []byte("p/")
	cases := []struct {
		r    ScanRange
		want string
	}{
		{ScanRange{Prefix: p}, "abcde"},
		{ScanRange{Prefix: p, Start: []byte("b"), End: []byte("d")}, "bc"},
		{ScanRange{Prefix: p, Limit: 2}, "ab"},
		{ScanRange{Prefix: p, Reverse: true}, "edcba"},
		{ScanRange{Prefix: p, Reverse: true, Start: []byte("b"), End: []byte("d")}, "cb"},
		{ScanRange{Prefix: p, Reverse: true, Limit: 2}, "ed"},
		{ScanRange{Prefix: p, Start: []byte("x")}, ""},
	}
	for _, c := range cases {
		if got := scan(c.r); got != c.want {
			t.Errorf("scan %+v = %q, want %q", c.r, got, c.want)
		}
	}
}

func TestStaggeredMemtableSizes(t *testing.T) {
	const base = 64 << 20
	seen := map[int64]string{}
	for _, id := range []string{"n1", "n2", "n3", "n4", "n5"} {
		got := staggered(base, id)
		if got < base || got > base+base*15/32 {
			t.Errorf("%s: memtable of %d bytes, want %d to %d", id, got, base, base+base*15/32)
		}
		if got != staggered(base, id) {
			t.Errorf("%s: size changes between calls", id)
		}
		if other, ok := seen[got]; ok {
			t.Errorf("%s and %s get the same memtable size %d: their flushes would coincide", id, other, got)
		}
		seen[got] = id
	}
}

// BadgerOptions are what Open runs Badger with: bench/ceiling builds its
// replicas' stores from them and is compared with the engine as equals.
func TestOpenRunsBadgerOptions(t *testing.T) {
	// The options that shape the store's work; Dir and Logger differ.
	shape := func(o badger.Options) string {
		return fmt.Sprintf("memtable %d, tables %d, level 0 %d (stall %d), sync %v, compression %v, block cache %d, value log files %d",
			o.MemTableSize, o.BaseTableSize, o.NumLevelZeroTables, o.NumLevelZeroTablesStall,
			o.SyncWrites, o.Compression, o.BlockCacheSize, o.ValueLogFileSize)
	}
	sizes := map[int64]bool{}
	for _, id := range []string{"n1", "n2", "n3"} {
		cfg := DefaultConfig(t.TempDir(), id)
		e, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		got := e.db.Opts()
		if g, w := shape(got), shape(BadgerOptions(cfg)); g != w {
			t.Errorf("%s: Open ran Badger with %s; BadgerOptions gives %s", id, g, w)
		}
		if got.SyncWrites {
			t.Errorf("%s: Badger syncs its own writes; the engine's syncer should", id)
		}
		sizes[got.MemTableSize] = true
	}
	if len(sizes) != 3 {
		t.Errorf("three nodes share memtable sizes %v: their flushes would coincide", sizes)
	}
}

// OnDrop reports exactly the versions of the engine's own actor that an
// update removes, and what its hook stages is written in the same batch.
func TestOnDropReportsOwnVersionsRemoved(t *testing.T) {
	e := open(t, t.TempDir(), "n1")
	defer e.Close()
	var got []string
	if err := e.OnDrop(func(tx *Tx, key []byte, v vclock.Version) {
		got = append(got, fmt.Sprintf("%s:%s", key, v.Value))
		tx.Set([]byte("dropped/"+string(v.Value)), []byte(key))
	}); err != nil {
		t.Fatal(err)
	}
	foreign := vclock.Version{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n9~x", Counter: 1}}, Value: []byte("f")}
	apply := func(key string, fn UpdateFunc) {
		t.Helper()
		if _, err := e.Apply([]byte(key), fn); err != nil {
			t.Fatal(err)
		}
	}
	stamp := func(val string, ctx vclock.Context) UpdateFunc {
		return func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
			d := vclock.Dot{Actor: tx.Actor(), Counter: tx.NextCounter(0)}
			return cur.Update(ctx, vclock.Version{Clock: vclock.Clock{Dot: d}, Value: []byte(val)}, 10), true, nil
		}
	}
	steps := []struct {
		name string
		key  string
		fn   UpdateFunc
		want []string
	}{
		{"a first version drops nothing", "a", stamp("a1", vclock.Context{}), nil},
		{"a concurrent one keeps it", "a", stamp("a2", vclock.Context{}), nil},
		{"one that covers both drops both", "a", func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
			return stamp("a3", cur.Context())(tx, cur)
		}, []string{"a:a1", "a:a2"}},
		{"not writing drops nothing", "a", func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) { return nil, false, nil }, nil},
		{"another actor's version", "b", func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
			return vclock.Set{foreign}, true, nil
		}, nil},
		{"dropping another actor's version", "b", func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
			return stamp("b1", cur.Context())(tx, cur)
		}, nil},
		{"deleting the key", "a", func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) { return nil, true, nil }, []string{"a:a3"}},
	}
	for _, s := range steps {
		got = nil
		apply(s.key, s.fn)
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("%s: dropped %v, want %v", s.name, got, s.want)
		}
	}
	for _, k := range []string{"a1", "a2", "a3"} {
		var v []byte
		if err := e.DB().View(func(txn *badger.Txn) error {
			var err error
			v, err = getRaw(txn, []byte("dropped/"+k))
			return err
		}); err != nil || string(v) != "a" {
			t.Errorf("the hook's write for %s: %q, %v", k, v, err)
		}
	}
}
