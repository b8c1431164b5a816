package vclock

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Size limits on decoded clocks and sets: a corrupt or hostile buffer must
// not make the decoder allocate without bound.
const (
	MaxActorLen   = 255
	MaxVVEntries  = 1024
	MaxSetEntries = 4096
)

// setFormat versions the binary encoding of a Set. WARNING: the encoding is
// stored on disk and sent between nodes; add a new format, never change one.
const setFormat = 1

// ErrCorrupt is returned by the decoders when a buffer is not a valid
// encoding (truncated, oversized or unordered).
var ErrCorrupt = errors.New("vclock: corrupt encoding")

// AppendVV appends the binary encoding of v to b.
func AppendVV(b []byte, v VV) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	for _, e := range v {
		b = appendString(b, string(e.Actor))
		b = binary.AppendUvarint(b, e.Counter)
		b = binary.AppendVarint(b, e.Stamp)
	}
	return b
}

// AppendContext appends the binary encoding of c to b.
func AppendContext(b []byte, c Context) []byte {
	b = AppendVV(b, c.VV)
	b = binary.AppendUvarint(b, uint64(len(c.Dots)))
	for _, d := range c.Dots {
		b = AppendDot(b, d)
	}
	return b
}

// AppendDot appends the binary encoding of d to b.
func AppendDot(b []byte, d Dot) []byte {
	b = appendString(b, string(d.Actor))
	b = binary.AppendUvarint(b, d.Counter)
	return binary.AppendVarint(b, d.Stamp)
}

// EncodedSize returns an upper bound of the encoded size of s, so callers
// can allocate once: re-growing a buffer around large values dominates the
// cost of encoding otherwise.
func EncodedSize(s Set) int {
	n := 16
	for _, v := range s {
		n += len(v.Value) + 64 + len(v.Clock.Dot.Actor)
		for _, e := range v.Clock.Past.VV {
			n += len(e.Actor) + 24
		}
		for _, e := range v.Clock.Past.Dots {
			n += len(e.Actor) + 24
		}
	}
	return n
}

// AppendSet appends the binary encoding of s to b.
func AppendSet(b []byte, s Set) []byte {
	b = append(b, setFormat)
	b = binary.AppendUvarint(b, uint64(len(s)))
	for _, v := range s {
		b = AppendDot(b, v.Clock.Dot)
		b = AppendContext(b, v.Clock.Past)
		var flags byte
		if v.Deleted {
			flags |= 1
		}
		b = append(b, flags)
		b = binary.AppendVarint(b, v.Modified)
		b = binary.AppendVarint(b, v.Expires)
		b = binary.AppendUvarint(b, v.Write)
		b = binary.AppendUvarint(b, uint64(len(v.Value)))
		b = append(b, v.Value...)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Decoder reads clock encodings from a buffer. It records the first error
// and turns every later read into a no-op, so callers check Err once.
type Decoder struct {
	buf []byte
	err error
}

// NewDecoder returns a decoder over b. Decoded values share no memory with
// b except Version.Value, which aliases it.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err returns the first decoding error.
func (d *Decoder) Err() error { return d.err }

// Rest returns the bytes not yet consumed.
func (d *Decoder) Rest() []byte { return d.buf }

// Fail records a decoding error found by the caller (a count out of
// bounds, say), unless one is already recorded.
func (d *Decoder) Fail(what string) { d.fail(what) }

func (d *Decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, what)
	}
}

// Uvarint reads an unsigned varint. Overlong (non-canonical) encodings are
// refused, so every accepted buffer re-encodes to the same bytes.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	var canon [binary.MaxVarintLen64]byte
	if n <= 0 || binary.PutUvarint(canon[:], v) != n {
		d.fail("bad uvarint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Varint reads a signed varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	var canon [binary.MaxVarintLen64]byte
	if n <= 0 || binary.PutVarint(canon[:], v) != n {
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.buf) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.buf[0]
	d.buf = d.buf[1:]
	return c
}

// Bytes reads a length-prefixed byte string of at most max bytes. The
// result aliases the buffer.
func (d *Decoder) Bytes(max int) []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(d.buf)) {
		d.fail("byte string too long or truncated")
		return nil
	}
	if n == 0 {
		return nil
	}
	out := d.buf[:n:n]
	d.buf = d.buf[n:]
	return out
}

// String reads a length-prefixed string of at most max bytes.
func (d *Decoder) String(max int) string { return string(d.Bytes(max)) }

// actor reads an actor's name.
func (d *Decoder) actor() Actor {
	b := d.Bytes(MaxActorLen)
	if len(b) == 0 {
		return ""
	}
	return actorOf(b)
}

// VV reads a version vector.
func (d *Decoder) VV() VV {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > MaxVVEntries {
		d.fail("version vector too long")
		return nil
	}
	if n == 0 {
		return nil
	}
	v := make(VV, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		v = append(v, Entry{Actor: d.actor(), Counter: d.Uvarint(), Stamp: d.Varint()})
	}
	if d.err == nil && !v.Valid() {
		d.fail("version vector not sorted or has zero entries")
	}
	return v
}

// Context reads a context.
func (d *Decoder) Context() Context {
	c := Context{VV: d.VV()}
	n := d.Uvarint()
	if d.err != nil {
		return Context{}
	}
	if n > MaxVVEntries {
		d.fail("too many context dots")
		return Context{}
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		c.Dots = append(c.Dots, d.Dot())
	}
	if d.err == nil && !c.Valid() {
		d.fail("context dots not sorted, zero or covered")
	}
	return c
}

// Dot reads a dot.
func (d *Decoder) Dot() Dot {
	return Dot{Actor: d.actor(), Counter: d.Uvarint(), Stamp: d.Varint()}
}

// Set reads a sibling set; values may be up to maxValue bytes each.
func (d *Decoder) Set(maxValue int) Set {
	if f := d.Byte(); d.err == nil && f != setFormat {
		d.fail(fmt.Sprintf("unknown set format %d", f))
	}
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > MaxSetEntries {
		d.fail("too many siblings")
		return nil
	}
	if n == 0 {
		return nil
	}
	s := make(Set, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		var v Version
		v.Clock.Dot = d.Dot()
		v.Clock.Past = d.Context()
		flags := d.Byte()
		if flags&^1 != 0 {
			d.fail("unknown version flags")
		}
		v.Deleted = flags&1 != 0
		v.Modified = d.Varint()
		v.Expires = d.Varint()
		v.Write = d.Uvarint()
		v.Value = d.Bytes(maxValue)
		if d.err == nil && (v.Clock.Dot.IsZero() || v.Clock.Dot.Actor == "") {
			d.fail("version without a dot")
		}
		s = append(s, v)
	}
	if d.err == nil {
		for i := 1; i < len(s); i++ {
			if !dotLess(s[i-1].Clock.Dot, s[i].Clock.Dot) {
				d.fail("siblings not sorted by dot")
				break
			}
		}
	}
	return s
}

// DecodeSet decodes a whole buffer as one set.
func DecodeSet(b []byte, maxValue int) (Set, error) {
	d := NewDecoder(b)
	s := d.Set(maxValue)
	if d.err == nil && len(d.buf) != 0 {
		d.fail("trailing bytes")
	}
	return s, d.err
}

// DecodeContext decodes a whole buffer as one context.
func DecodeContext(b []byte) (Context, error) {
	d := NewDecoder(b)
	c := d.Context()
	if d.err == nil && len(d.buf) != 0 {
		d.fail("trailing bytes")
	}
	return c, d.err
}

// DecodeVV decodes a whole buffer as one version vector.
func DecodeVV(b []byte) (VV, error) {
	d := NewDecoder(b)
	v := d.VV()
	if d.err == nil && len(d.buf) != 0 {
		d.fail("trailing bytes")
	}
	return v, d.err
}
