package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ringtable/ringtable/storagenode/merkle"
	"github.com/ringtable/ringtable/vclock"
)

// memLogHeader is the part of a Badger memtable log before its entries.
const memLogHeader = 20

// crashCopy copies the directory of an open, idle engine as a machine
// crash would leave it if the kernel had written back none of Badger's
// unsynced memtable logs: their entries are zeros. The redo log, synced
// before every acknowledgement, is copied as it is.
func crashCopy(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := copyTree(src, dst, true); err != nil {
		t.Fatal(err)
	}
	return dst
}

// copyTree copies a directory tree but Badger's lock, with the entries
// of the memtable logs zeroed if zeroMem.
func copyTree(src, dst string, zeroMem bool) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if d.Name() == "LOCK" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if zeroMem && strings.HasSuffix(d.Name(), ".mem") && len(b) > memLogHeader {
			clear(b[memLogHeader:])
		}
		return os.WriteFile(to, b, 0o644)
	})
}

func redoSegments(t *testing.T, dir string) []string {
	t.Helper()
	segs, err := segments(filepath.Join(dir, redoDir))
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

func wantValue(t *testing.T, e *Engine, key []byte, want string) {
	t.Helper()
	s, err := e.Get(key)
	if err != nil || len(s) != 1 || string(s[0].Value) != want {
		t.Fatalf("%q: %d versions %v (%v), want one of %q", key, len(s), s, err, want)
	}
}

// Every acknowledged write is in the redo log: a store whose memtable
// logs were lost gets them all back from it, Merkle trees included.
func TestRedoLogRestoresWhatBadgerLost(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	defer e.Close()
	for i := range 60 {
		put(t, e, string(dataKey(fmt.Sprint(i))), fmt.Sprintf("v%d", i))
	}
	put(t, e, string(dataKey("7")), "v7 again") // a sibling of v7
	tree, err := e.Tree(1)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Root() == (merkle.Hash{}) {
		t.Fatal("the partition's tree is empty after 60 writes")
	}
	crashed := crashCopy(t, dir)

	// Without the redo log, nothing of the writes is left.
	bare := crashCopy(t, dir)
	if err := os.RemoveAll(filepath.Join(bare, redoDir)); err != nil {
		t.Fatal(err)
	}
	b := open(t, bare, "n1")
	if s, err := b.Get(dataKey("0")); err != nil || len(s) != 0 {
		t.Fatalf("the copy's memtable logs still hold writes (%v, %v): the test shows nothing", s, err)
	}
	b.Close()

	r := open(t, crashed, "n1")
	defer r.Close()
	if n := r.Stats().Replayed.Load(); n < 61 {
		t.Fatalf("%d redo records replayed, want at least 61", n)
	}
	for i := range 60 {
		k := dataKey(fmt.Sprint(i))
		want, err := e.Get(k)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := r.Get(k); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("key %d after replay: %v (%v), before the crash %v", i, got, err, want)
		}
	}
	got, err := r.Tree(1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Root() != tree.Root() {
		t.Fatalf("tree root after replay %x, before the crash %x", got.Root(), tree.Root())
	}
	// Replay ends in a checkpoint: the log starts empty, and what it
	// held is durable in Badger's own logs.
	if segs := redoSegments(t, crashed); len(segs) != 0 {
		t.Fatalf("redo segments after recovery: %v", segs)
	}
	put(t, r, string(dataKey("after")), "x")
	wantValue(t, r, dataKey("after"), "x")
}

// A record cut short by the crash (its batch never acknowledged) is
// dropped and cut off the log; the records before it are replayed.
func TestRedoLogDropsATornTail(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	defer e.Close()
	for i := range 20 {
		put(t, e, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i))
	}
	crashed := crashCopy(t, dir)
	segs := redoSegments(t, crashed)
	if len(segs) != 1 {
		t.Fatalf("redo segments: %v", segs)
	}
	fi, err := os.Stat(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	// Half of a record: a header announcing 100 bytes, and 10 of them.
	f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := binary.LittleEndian.AppendUint32(nil, 100)
	torn = binary.LittleEndian.AppendUint32(torn, 12345)
	f.Write(append(torn, make([]byte, 10)...))
	f.Close()

	recs, intact, err := readSegment(segs[0], 0)
	if err != nil || len(recs) != 20 || intact != fi.Size() {
		t.Fatalf("read %d records, %d intact bytes of %d (%v); want 20 and all", len(recs), intact, fi.Size(), err)
	}
	r := open(t, crashed, "n1")
	defer r.Close()
	for i := range 20 {
		wantValue(t, r, []byte(fmt.Sprintf("k%d", i)), fmt.Sprintf("v%d", i))
	}
}

// A record whose checksum fails ends the log there, even with intact
// records after it: those came later and are not replayed over a gap.
func TestRedoLogStopsAtACorruptRecord(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	defer e.Close()
	for i := range 10 {
		put(t, e, fmt.Sprintf("k%d", i), "v")
	}
	crashed := crashCopy(t, dir)
	seg := redoSegments(t, crashed)[0]
	recs, _, err := readSegment(seg, 0)
	if err != nil || len(recs) != 10 {
		t.Fatalf("%d records (%v)", len(recs), err)
	}
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside the sixth record's payload.
	off := 0
	for range 5 {
		off += redoHeader + int(binary.LittleEndian.Uint32(b[off:]))
	}
	b[off+redoHeader+9] ^= 0xff
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := open(t, crashed, "n1")
	defer r.Close()
	if n := r.Stats().Replayed.Load(); n != 5 {
		t.Fatalf("%d records replayed, want the 5 before the corrupt one", n)
	}
	wantValue(t, r, []byte("k4"), "v")
	if s, err := r.Get([]byte("k5")); err != nil || len(s) != 0 {
		t.Fatalf("k5, whose record is corrupt, came back: %v %v", s, err)
	}
}

// Segments are deleted once the memtables their batches went to are
// flushed, so the log stays a few segments long however much is written;
// a clean close leaves none, and everything is there after it.
func TestRedoSegmentsGoOnceFlushed(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	if err := e.onWriter(func() error { e.rlog.segSize = 1 << 20; return nil }); err != nil {
		t.Fatal(err)
	}
	val := strings.Repeat("x", 64<<10) // 8 MiB memtables: a flush every ~100 writes
	most := 0
	const n = 1500 // 94 MiB
	for i := range n {
		put(t, e, fmt.Sprintf("k%d", i), val)
		most = max(most, len(redoSegments(t, dir)))
	}
	// However far flushes lag, Badger holds at most its 5 memtables
	// (under 12 MiB each here) and the one it flushes.
	t.Logf("at most %d segments at once", most)
	if most > 6*12+2 {
		t.Fatalf("%d redo segments of 1 MiB at once for %d MiB written", most, n*64>>10)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if segs := redoSegments(t, dir); len(segs) != 0 {
		t.Fatalf("segments after a clean close: %v", segs)
	}
	if free, err := freeSegments(filepath.Join(dir, redoDir)); err != nil || len(free) != 0 {
		t.Fatalf("free segments after a clean close: %v (%v)", free, err)
	}
	e = open(t, dir, "n1")
	defer e.Close()
	if n := e.Stats().Replayed.Load(); n != 0 {
		t.Fatalf("%d records replayed after a clean close", n)
	}
	for i := range n {
		s, err := e.Get([]byte(fmt.Sprintf("k%d", i)))
		if err != nil || len(s) != 1 || len(s[0].Value) != len(val) {
			t.Fatalf("k%d after reopen: %d versions, %v", i, len(s), err)
		}
	}
}

// After a machine crash Badger may hold a batch whose record was lost.
// Replaying the older records over it must not take the counter lease
// back, or counters would be handed out twice, and must leave Merkle
// trees that agree with the data.
func TestRedoReplayKeepsTheHigherLease(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	defer e.Close()
	// a and b share a leaf: replaying a's record rewrites that leaf as
	// it was before b.
	ka, kb := dataKey("a"), []byte(nil)
	for i := 0; kb == nil; i++ {
		if k := dataKey(fmt.Sprintf("b%d", i)); merkle.Bucket(k) == merkle.Bucket(ka) {
			kb = k
		}
	}
	put(t, e, string(ka), "1")
	var leaseBefore uint64
	if err := e.onWriter(func() error { leaseBefore = e.leaseEnd; return nil }); err != nil {
		t.Fatal(err)
	}
	// Move the counter past the lease: the next batch writes a new one.
	if err := e.onWriter(func() error { e.counter = e.leaseEnd; return nil }); err != nil {
		t.Fatal(err)
	}
	put(t, e, string(kb), "2")
	var c uint64
	if err := e.onWriter(func() error { c = e.counter; return nil }); err != nil {
		t.Fatal(err)
	}
	if c <= leaseBefore {
		t.Fatalf("counter %d not past the first lease %d", c, leaseBefore)
	}
	// The copy keeps Badger's memtable log (written back by the kernel)
	// but loses the last record.
	dst := t.TempDir()
	if err := copyTree(dir, dst, false); err != nil {
		t.Fatal(err)
	}
	seg := redoSegments(t, dst)[0]
	recs, _, err := readSegment(seg, 0)
	if err != nil || len(recs) < 2 {
		t.Fatalf("%d records (%v)", len(recs), err)
	}
	keep := int64(0)
	for _, p := range recs[:len(recs)-1] {
		keep += int64(redoHeader + len(p))
	}
	if err := os.Truncate(seg, keep); err != nil {
		t.Fatal(err)
	}
	r := open(t, dst, "n1")
	defer r.Close()
	_, err = r.Apply(dataKey("c"), func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
		got := tx.NextCounter(0)
		if got <= c {
			return nil, false, fmt.Errorf("counter %d handed out again after recovery (the lost batch used %d)", got, c)
		}
		return nil, false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, r, kb, "2")
	want := merkle.New()
	for _, k := range [][]byte{ka, kb} {
		set, err := r.Get(k)
		if err != nil {
			t.Fatal(err)
		}
		want.Apply(merkle.Bucket(k), merkle.ItemHash(k, set))
	}
	got, err := r.Tree(1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Root() != want.Root() {
		t.Fatalf("tree root after recovery %x, the data's %x", got.Root(), want.Root())
	}
}

// A failed sync may leave a gap in the redo log, and replay stops at a
// gap: no later batch is acknowledged until a checkpoint has made
// Badger's own logs durable and started the redo log afresh.
func TestRedoLogCheckpointsAfterAFailedSync(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	defer e.Close()
	put(t, e, "a", "1")
	var fail atomic.Bool
	fail.Store(true)
	err := e.onWriter(func() error {
		e.failSync = func() error {
			if fail.Swap(false) {
				return errors.New("injected sync failure")
			}
			return nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Apply([]byte("b"), func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
		d := vclock.Dot{Actor: tx.Actor(), Counter: tx.NextCounter(0)}
		return cur.Update(vclock.Context{}, vclock.Version{Clock: vclock.Clock{Dot: d}, Value: []byte("2")}, 10), true, nil
	})
	if err == nil {
		t.Fatal("a write whose sync failed was acknowledged")
	}
	put(t, e, "c", "3")
	// The checkpoint emptied the log: it holds c's record alone.
	segs := redoSegments(t, dir)
	if len(segs) != 1 {
		t.Fatalf("redo segments after the checkpoint: %v", segs)
	}
	recs, _, err := readSegment(segs[0], 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("%d records after the checkpoint (%v), want c's alone", len(recs), err)
	}
	if _, ops, err := decodeRecord(recs[0]); err != nil || !slicesContainKey(ops, "c") {
		t.Fatalf("the record after the checkpoint: %v (%v), want c's", ops, err)
	}
	wantValue(t, e, []byte("a"), "1")
	wantValue(t, e, []byte("c"), "3")
}

func slicesContainKey(ops []redoOp, k string) bool {
	for _, o := range ops {
		if string(o.k) == k {
			return true
		}
	}
	return false
}

// A segment written over holds what it held before behind its new
// records: intact records, numbered before the new ones. Reading stops
// at the first of them.
func TestReadSegmentStopsAtStaleRecords(t *testing.T) {
	dir := t.TempDir()
	l := &redoLog{dir: dir, memDir: dir, segSize: 1 << 20} // no memtables: done once closed
	record := func(seq uint64, val string) {
		t.Helper()
		l.begin()
		l.set([]byte("k"), []byte(val), 0)
		if _, err := l.write(seq); err != nil {
			t.Fatal(err)
		}
		l.wrote()
	}
	for seq := uint64(1); seq <= 6; seq++ {
		record(seq, fmt.Sprintf("old%d", seq))
	}
	if err := l.rotate(); err != nil {
		t.Fatal(err)
	}
	if len(l.free) != 1 {
		t.Fatalf("free segments after closing a done one: %v", l.free)
	}
	record(7, "new7")
	record(8, "new8")
	path := segmentPath(dir, 7)
	if l.f.Name() != path || len(l.free) != 0 {
		t.Fatalf("segment %s, free %v: the done segment was not written over", l.f.Name(), l.free)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, intact, err := readSegment(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range recs {
		seq, ops, err := decodeRecord(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", seq, ops[0].v))
	}
	if want := []string{"7:new7", "8:new8"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	if intact != fi.Size()*2/6 {
		t.Fatalf("%d intact bytes of %d, want the first third", intact, fi.Size())
	}
	// Records that do not follow the segments before are stale too.
	if recs, _, err := readSegment(path, 7); err != nil || len(recs) != 0 {
		t.Fatalf("%d records after 7 (%v), want none: 8 must follow 7 in this segment", len(recs), err)
	}
	if err := l.f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, segmentPath(dir, 9)); err != nil {
		t.Fatal(err)
	}
	if recs, _, err := readSegment(segmentPath(dir, 9), 0); err != nil || len(recs) != 0 {
		t.Fatalf("a segment named for record 9 gave %d records (%v), want none", len(recs), err)
	}
}

// Done segments are written over as later ones, and what such a segment
// held before (older values of the same keys) is not replayed after a
// crash.
func TestRedoLogWritesOverDoneSegments(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	defer e.Close()
	if err := e.onWriter(func() error { e.rlog.segSize = 1 << 20; return nil }); err != nil {
		t.Fatal(err)
	}
	overwrite := func(key, val string) {
		t.Helper()
		_, err := e.Apply([]byte(key), func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
			d := vclock.Dot{Actor: tx.Actor(), Counter: tx.NextCounter(0)}
			return cur.Update(cur.Context(), vclock.Version{Clock: vclock.Clock{Dot: d}, Value: []byte(val)}, 10), true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	const keys = 8
	pad := strings.Repeat("x", 64<<10)
	latest := map[string]string{}
	var stale string // the open segment, ending in an earlier use's records
	for round := 0; round < 400 && stale == ""; round++ {
		for k := range keys {
			key := fmt.Sprintf("k%d", k)
			latest[key] = fmt.Sprintf("%04d", round) + pad
			overwrite(key, latest[key])
		}
		segs := redoSegments(t, dir)
		last := segs[len(segs)-1]
		_, intact, err := readSegment(last, 0)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(last); err != nil {
			t.Fatal(err)
		} else if fi.Size() > intact {
			stale = last
		}
		if free, err := freeSegments(filepath.Join(dir, redoDir)); err != nil || len(free) > redoFree {
			t.Fatalf("free segments: %v (%v), want at most %d", free, err, redoFree)
		}
	}
	if stale == "" {
		t.Fatal("no segment was written over")
	}
	crashed := crashCopy(t, dir)
	r := open(t, crashed, "n1")
	defer r.Close()
	for key, want := range latest {
		s, err := r.Get([]byte(key))
		if err != nil || len(s) != 1 || string(s[0].Value) != want {
			got := "?"
			if len(s) > 0 && len(s[0].Value) >= 4 {
				got = string(s[0].Value[:4])
			}
			t.Fatalf("%s after recovery: %d versions, round %s (%v), want round %s", key, len(s), got, err, want[:4])
		}
	}
}
