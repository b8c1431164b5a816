package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"
)

// The redo log. Badger's memtable log is a shared memory mapping, and an
// fdatasync of a mapped file makes the kernel write-protect every page it
// writes back (a TLB shootdown each, dear on a virtual machine) and fault
// the log's last page back in at the next append. So the engine keeps a
// log of its own, written with write(2) and synced with fdatasync, and
// never syncs Badger's: a batch is durable once its record is. Badger's
// memtable logs are deleted when their memtables are flushed to (synced)
// tables, usually long before the kernel would write them back.
//
// Records hold a batch's writes as final values (a key's new set, a
// deletion, a Merkle leaf, an outbox entry, the lease), so replaying one
// that Badger already holds writes the same values again. Each batch also
// stores its record's sequence number in Badger (metaRedo). After a crash,
// Open replays every record still in the log, in order, over whatever
// Badger kept of its unsynced memtable logs: a record is written before
// its batch is committed to Badger, so after a process crash the log
// holds everything Badger does. After a machine crash Badger may hold a
// later batch whose record was lost (the kernel wrote back its memtable
// log's page but not the record's). Such a batch was never acknowledged;
// replaying the older records over it can leave part of it behind, so
// the counter lease is kept at its highest and the Merkle trees are
// rebuilt from the data.
//
// A segment of the log is done with once every memtable that was in use
// when it was closed has been flushed. Such a segment is kept, renamed,
// and written over as a later segment (as Pebble recycles its logs): an
// fdatasync of a file whose blocks are all allocated and whose size does
// not change flushes the data alone, where an append also commits the
// file system's journal, and with it every other file's metadata change
// in flight (a new table, a deleted memtable log). What a recycled
// segment held before is told from its new records by their sequence
// numbers, which only grow; a segment is cut to its records' length when
// it is closed, so only the open one can end in stale records.
//
// Anything that writes Badger past the writer (a purge, the ring state)
// makes a checkpoint: every memtable log synced, the redo log emptied,
// so that no older record can be replayed over it.

const (
	redoDir         = "redo"
	redoSegmentSize = 32 << 20
	redoHeader      = 8 // payload length and CRC-32C, little-endian
	// redoFree is how many done segments are kept to be written over.
	redoFree        = 3
	opSet, opDelete = 1, 2
)

var castag = crc32.MakeTable(crc32.Castagnoli)

// redoLog is the writer's end of the log: owned by the writer goroutine.
type redoLog struct {
	dir     string
	memDir  string
	segSize int64    // a segment is closed once it is this large
	f       *os.File // the open segment; nil until the next record
	size    int64    // the length of f's records
	stale   int64    // f's length: more than size while it ends in stale records
	seq     uint64   // the last record's sequence number
	buf     []byte   // the record being built
	// closed are the segments before f, with the newest memtable log
	// when each was closed.
	closed []closedSegment
	// retired is a segment file the syncer must sync once more and
	// close: handed over with the next batch.
	retired []*os.File
	// free are done segments, renamed to be written over.
	free []string
}

type closedSegment struct {
	path   string
	maxMem int
}

func segmentPath(dir string, first uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x.redo", first))
}

// segmentFirst is the sequence number of a segment's first record.
func segmentFirst(path string) (uint64, error) {
	return strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".redo"), 16, 64)
}

// begin starts the record of a new transaction.
func (l *redoLog) begin() {
	l.buf = append(l.buf[:0], make([]byte, redoHeader+8)...)
}

func (l *redoLog) set(k, v []byte, expires uint64) {
	l.buf = append(l.buf, opSet)
	l.buf = binary.AppendUvarint(l.buf, uint64(len(k)))
	l.buf = append(l.buf, k...)
	l.buf = binary.AppendUvarint(l.buf, uint64(len(v)))
	l.buf = append(l.buf, v...)
	l.buf = binary.AppendUvarint(l.buf, expires)
}

func (l *redoLog) del(k []byte) {
	l.buf = append(l.buf, opDelete)
	l.buf = binary.AppendUvarint(l.buf, uint64(len(k)))
	l.buf = append(l.buf, k...)
}

// write appends the record under seq and returns the segment it is in.
// On an error nothing of it stays in the log.
func (l *redoLog) write(seq uint64) (*os.File, error) {
	if l.f != nil && l.size >= l.segSize {
		if err := l.rotate(); err != nil {
			return nil, err
		}
	}
	if l.f == nil {
		if err := l.open(seq); err != nil {
			return nil, err
		}
	}
	payload := l.buf[redoHeader:]
	binary.LittleEndian.PutUint64(payload, seq)
	binary.LittleEndian.PutUint32(l.buf, uint32(len(payload)))
	binary.LittleEndian.PutUint32(l.buf[4:], crc32.Checksum(payload, castag))
	if _, err := l.f.Write(l.buf); err != nil {
		if terr := l.unwrite(); terr != nil {
			return nil, errors.Join(err, terr)
		}
		return nil, fmt.Errorf("engine: redo log: %w", err)
	}
	l.seq = seq
	return l.f, nil
}

// open starts the segment whose first record is seq, on a free one if
// there is one.
func (l *redoLog) open(seq uint64) error {
	path := segmentPath(l.dir, seq)
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if n := len(l.free); n > 0 {
		if err := os.Rename(l.free[n-1], path); err != nil {
			return fmt.Errorf("engine: redo log: %w", err)
		}
		l.free = l.free[:n-1]
		flags = os.O_WRONLY
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("engine: redo log: %w", err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = syncDir(l.dir)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("engine: redo log: %w", err)
	}
	l.f, l.size, l.stale = f, 0, fi.Size()
	return nil
}

// unwrite takes the last written record (or a torn part of it) back off.
func (l *redoLog) unwrite() error {
	if err := l.f.Truncate(l.size); err != nil {
		return fmt.Errorf("engine: redo log: take back a record: %w", err)
	}
	l.stale = l.size
	_, err := l.f.Seek(l.size, io.SeekStart)
	return err
}

// wrote records that the last write is kept.
func (l *redoLog) wrote() { l.size += int64(len(l.buf)) }

// rotate closes the open segment and frees the closed ones whose
// memtables have all been flushed.
func (l *redoLog) rotate() error {
	mems, err := memLogs(l.memDir)
	if err != nil {
		return err
	}
	if l.stale > l.size {
		// The syncer's last fdatasync of the segment makes this durable
		// before any record of the next one is acknowledged.
		if err := l.f.Truncate(l.size); err != nil {
			return fmt.Errorf("engine: redo log: %w", err)
		}
	}
	newest := 0
	if len(mems) > 0 {
		newest = mems[len(mems)-1]
	}
	l.closed = append(l.closed, closedSegment{path: l.f.Name(), maxMem: newest})
	l.retired = append(l.retired, l.f)
	l.f = nil
	keep := l.closed[:0]
	for _, s := range l.closed {
		if len(mems) == 0 || s.maxMem < mems[0] {
			if err := l.discard(s.path); err != nil {
				return err
			}
			continue
		}
		keep = append(keep, s)
	}
	l.closed = keep
	return nil
}

// discard frees a segment Badger durably holds, or deletes it if enough
// are free. Either is durable once the directory is next synced, before
// a new segment's first record; until then a crash can bring the
// segment back, ahead of every later one, and replaying them all in
// order still ends in the same values.
func (l *redoLog) discard(path string) error {
	if len(l.free) >= redoFree {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("engine: redo log: %w", err)
		}
		return nil
	}
	free := strings.TrimSuffix(path, ".redo") + ".free"
	if err := os.Rename(path, free); err != nil {
		return fmt.Errorf("engine: redo log: %w", err)
	}
	l.free = append(l.free, free)
	return nil
}

// empty frees every segment: Badger durably holds what they hold.
func (l *redoLog) empty() error {
	if l.f != nil {
		l.retired = append(l.retired, l.f)
		l.f = nil
	}
	l.closed = nil
	segs, err := segments(l.dir)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if err := l.discard(s); err != nil {
			return err
		}
	}
	return syncDir(l.dir)
}

// removeSegments deletes the log, free segments too.
func removeSegments(dir string) error {
	segs, err := segments(dir)
	if err != nil {
		return err
	}
	free, err := freeSegments(dir)
	if err != nil {
		return err
	}
	for _, s := range append(segs, free...) {
		if err := os.Remove(s); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("engine: redo log: %w", err)
		}
	}
	return syncDir(dir)
}

// segments lists the log's segment files in order.
func segments(dir string) ([]string, error) { return redoFiles(dir, ".redo") }

// freeSegments lists the free segments in dir.
func freeSegments(dir string) ([]string, error) { return redoFiles(dir, ".free") }

func redoFiles(dir, suffix string) ([]string, error) {
	names, err := namesEnding(dir, suffix)
	if err != nil {
		return nil, fmt.Errorf("engine: redo log: %w", err)
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, n)
	}
	slices.Sort(out) // fixed-width hexadecimal names
	return out, nil
}

// memLogs lists the IDs of Badger's memtable logs in dir, in order.
func memLogs(dir string) ([]int, error) {
	names, err := namesEnding(dir, ".mem")
	if err != nil {
		return nil, fmt.Errorf("engine: memtable logs: %w", err)
	}
	var ids []int
	for _, n := range names {
		if id, err := strconv.Atoi(strings.TrimSuffix(n, ".mem")); err == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func namesEnding(dir, suffix string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ent := range ents {
		if strings.HasSuffix(ent.Name(), suffix) {
			out = append(out, ent.Name())
		}
	}
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("engine: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("engine: sync %s: %w", dir, err)
	}
	return nil
}

// redoOp is one write of a record.
type redoOp struct {
	del     bool
	k, v    []byte
	expires uint64
}

// errTorn marks the end of what a log holds intact.
var errTorn = errors.New("torn record")

// decodeRecord parses a record's payload.
func decodeRecord(p []byte) (seq uint64, ops []redoOp, err error) {
	if len(p) < 8 {
		return 0, nil, errTorn
	}
	seq = binary.LittleEndian.Uint64(p)
	p = p[8:]
	field := func() ([]byte, bool) {
		n, w := binary.Uvarint(p)
		if w <= 0 || n > uint64(len(p)-w) {
			return nil, false
		}
		b := p[w : w+int(n)]
		p = p[w+int(n):]
		return b, true
	}
	for len(p) > 0 {
		kind := p[0]
		p = p[1:]
		k, ok := field()
		if !ok {
			return 0, nil, errTorn
		}
		switch kind {
		case opDelete:
			ops = append(ops, redoOp{del: true, k: k})
		case opSet:
			v, ok := field()
			if !ok {
				return 0, nil, errTorn
			}
			exp, w := binary.Uvarint(p)
			if w <= 0 {
				return 0, nil, errTorn
			}
			p = p[w:]
			ops = append(ops, redoOp{k: k, v: v, expires: exp})
		default:
			return 0, nil, errTorn
		}
	}
	return seq, ops, nil
}

// readSegment returns the records of one segment up to the first that is
// not whole or is stale (numbered before the segment's first record or
// not after the one before it, as left by the segment's earlier use),
// and the length of the intact part. after is the last record's sequence
// number in the segments before.
func readSegment(path string, after uint64) (recs [][]byte, intact int64, err error) {
	first, err := segmentFirst(path)
	if err != nil {
		return nil, 0, fmt.Errorf("engine: redo log: segment %s: %w", filepath.Base(path), err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("engine: redo log: %w", err)
	}
	if first > 0 {
		after = max(after, first-1)
	}
	off := 0
	for len(b)-off >= redoHeader {
		n := int(binary.LittleEndian.Uint32(b[off:]))
		sum := binary.LittleEndian.Uint32(b[off+4:])
		if n < 8 || n > len(b)-off-redoHeader {
			break
		}
		p := b[off+redoHeader : off+redoHeader+n]
		if crc32.Checksum(p, castag) != sum {
			break
		}
		seq := binary.LittleEndian.Uint64(p)
		if seq <= after {
			break
		}
		after = seq
		recs = append(recs, p)
		off += redoHeader + n
	}
	return recs, int64(off), nil
}

// replayed is what replay found.
type replayed struct {
	records int
	last    uint64 // the last record's sequence number (0: none)
	ahead   bool   // Badger held a batch later than the last record
}

// replay writes every intact record of the log in dir into db, in order,
// and truncates the log after the last of them: a record that is not
// whole, and anything after it, was never acknowledged.
func replay(db *badger.DB, dir string) (replayed, error) {
	var out replayed
	segs, err := segments(dir)
	if err != nil {
		return out, err
	}
	if len(segs) == 0 {
		return out, nil
	}
	held, err := storedSeq(db)
	if err != nil {
		return out, err
	}
	for i, path := range segs {
		recs, intact, err := readSegment(path, out.last)
		if err != nil {
			return out, err
		}
		for _, p := range recs {
			seq, ops, err := decodeRecord(p)
			if err != nil {
				return out, fmt.Errorf("engine: redo log %s: record %d: %w", filepath.Base(path), out.records, err)
			}
			if err := applyRecord(db, seq, ops); err != nil {
				return out, err
			}
			out.records++
			out.last = seq
		}
		if fi, err := os.Stat(path); err == nil && fi.Size() > intact {
			// The rest of the log holds nothing acknowledged.
			if err := os.Truncate(path, intact); err != nil {
				return out, fmt.Errorf("engine: redo log: %w", err)
			}
			for _, later := range segs[i+1:] {
				if err := os.Remove(later); err != nil {
					return out, fmt.Errorf("engine: redo log: %w", err)
				}
			}
			break
		}
	}
	if out.records > 0 && held > out.last {
		out.ahead = true
		// Sequence numbers go on from the highest Badger has seen.
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(metaRedo, seqBytes(held)) }); err != nil {
			return out, fmt.Errorf("engine: redo log: %w", err)
		}
	}
	return out, nil
}

func applyRecord(db *badger.DB, seq uint64, ops []redoOp) error {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, o := range ops {
		var err error
		if o.del {
			err = wb.Delete(o.k)
		} else {
			err = wb.SetEntry(&badger.Entry{Key: o.k, Value: o.v, ExpiresAt: o.expires})
		}
		if err != nil {
			return fmt.Errorf("engine: redo log: replay record %d: %w", seq, err)
		}
	}
	if err := wb.Set(metaRedo, seqBytes(seq)); err != nil {
		return fmt.Errorf("engine: redo log: replay record %d: %w", seq, err)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("engine: redo log: replay record %d: %w", seq, err)
	}
	return nil
}

func seqBytes(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// storedSeq is the sequence number of the newest batch Badger holds.
func storedSeq(db *badger.DB) (uint64, error) {
	var seq uint64
	err := db.View(func(txn *badger.Txn) error {
		v, err := getRaw(txn, metaRedo)
		if len(v) == 8 {
			seq = binary.BigEndian.Uint64(v)
		}
		return err
	})
	return seq, err
}

// syncMemLogs makes every memtable log in dir durable, and the value log.
func syncMemLogs(db *badger.DB, dir string) error {
	if err := db.Sync(); err != nil {
		return fmt.Errorf("engine: sync: %w", err)
	}
	ids, err := memLogs(dir)
	if err != nil {
		return err
	}
	for _, id := range ids {
		f, err := os.Open(filepath.Join(dir, fmt.Sprintf("%05d.mem", id)))
		if os.IsNotExist(err) {
			continue // flushed and deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("engine: sync: %w", err)
		}
		err = unix.Fdatasync(int(f.Fd()))
		f.Close()
		if err != nil {
			return fmt.Errorf("engine: sync %s: %w", f.Name(), err)
		}
	}
	return nil
}
