package vclock

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const testMaxValue = 4096

func TestVVRoundTrip(t *testing.T) {
	long := Actor(strings.Repeat("x", MaxActorLen))
	many := make([]Entry, MaxVVEntries)
	for i := range many {
		many[i] = Entry{Actor: Actor(string(rune('a'+i/256)) + string(rune('a'+i%256/16)) + string(rune('a'+i%16))), Counter: uint64(i + 1)}
	}
	for _, tc := range []struct {
		name string
		v    VV
	}{
		{"nil", nil},
		{"one", VV{{Actor: "n1", Counter: 1, Stamp: 1700000000000}}},
		{"several", VV{{Actor: "a", Counter: 3}, {Actor: "b", Counter: 1 << 40, Stamp: -5}, {Actor: "n1~B", Counter: 7}}},
		{"max counter and stamps", VV{{Actor: "a", Counter: ^uint64(0), Stamp: -1 << 63}, {Actor: "b", Counter: 1, Stamp: 1<<63 - 1}}},
		{"longest actor", VV{{Actor: long, Counter: 1}}},
		{"binary actor", VV{{Actor: "\x00\xff", Counter: 2}, {Actor: "\xff", Counter: 3}}},
		{"max entries", Normalize(many)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.v.Valid() {
				t.Fatalf("test vector not valid")
			}
			enc := AppendVV(nil, tc.v)
			got, err := DecodeVV(enc)
			if err != nil {
				t.Fatalf("DecodeVV: %v", err)
			}
			if !eqVV(got, tc.v) {
				t.Fatalf("round trip = %+v, want %+v", got, tc.v)
			}
			if again := AppendVV([]byte("prefix"), got); !bytes.Equal(again[6:], enc) || string(again[:6]) != "prefix" {
				t.Fatalf("AppendVV does not append")
			}
		})
	}
}

func TestSetRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xff, 0x00}, testMaxValue/2)
	for _, tc := range []struct {
		name string
		s    Set
	}{
		{"nil", nil},
		{"one value", Set{ver(Dot{Actor: "n1", Counter: 1, Stamp: 5}, nil, `{"a":1}`)}},
		{"write id", Set{{Clock: Clock{Dot: dot("n1", 1)}, Value: []byte("v"), Write: 1 << 40}}},
		{"tombstone", Set{{Clock: Clock{Dot: dot("n1", 9), Past: parseCtx(t, "n1:8 n2:3")}, Deleted: true, Modified: 77}}},
		{"past with single dots", Set{{Clock: Clock{Dot: dot("n1", 9), Past: parseCtx(t, "n2:3@4 | n1:5@-2 n2:7 n3:1@9")}, Value: []byte("d")}}},
		{"past with only single dots", Set{{Clock: Clock{Dot: dot("n1", 9), Past: parseCtx(t, "| n1:8@1")}, Value: []byte("d")}}},
		{"empty value", Set{{Clock: Clock{Dot: dot("n1", 1)}, Value: []byte{}}}},
		{"siblings", Set{
			{Clock: Clock{Dot: Dot{Actor: "n1~A", Counter: 4, Stamp: -1}, Past: parseCtx(t, "n1~A:3@2 n2:1@1")}, Value: []byte("x"), Modified: -3, Expires: 1 << 50},
			{Clock: Clock{Dot: dot("n1~B", 1), Past: parseCtx(t, "| n1~A:4@-1")}, Value: []byte{0, 1, 2, 0xff}, Write: ^uint64(0)},
			{Clock: Clock{Dot: dot("n2", 2)}, Value: big, Expires: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := AppendSet(nil, tc.s)
			got, err := DecodeSet(enc, testMaxValue)
			if err != nil {
				t.Fatalf("DecodeSet: %v", err)
			}
			if !eqSet(got, tc.s) {
				t.Fatalf("round trip = %+v, want %+v", got, tc.s)
			}
			if again := AppendSet(nil, got); !bytes.Equal(again, enc) {
				t.Fatalf("re-encoding differs")
			}
			// Every strict prefix is an error.
			for i := range enc {
				if _, err := DecodeSet(enc[:i], testMaxValue); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("prefix of %d/%d bytes: err = %v, want ErrCorrupt", i, len(enc), err)
				}
			}
		})
	}
}

// TestCodecGolden pins the on-disk format: a change here breaks stored data.
func TestCodecGolden(t *testing.T) {
	v := VV{{Actor: "a", Counter: 1, Stamp: -1}, {Actor: "bc", Counter: 300, Stamp: 2}}
	if got, want := hex.EncodeToString(AppendVV(nil, v)), "02"+"0161"+"01"+"01"+"026263"+"ac02"+"04"; got != want {
		t.Errorf("AppendVV = %s, want %s", got, want)
	}
	c := Context{VV: VV{{Actor: "a", Counter: 1, Stamp: -1}}, Dots: []Dot{{Actor: "b", Counter: 2, Stamp: 3}, {Actor: "c", Counter: 300, Stamp: -2}}}
	if got, want := hex.EncodeToString(AppendContext(nil, c)), "01"+"0161"+"01"+"01"+ // VV {a:1@-1}
		"02"+"0162"+"02"+"06"+"0163"+"ac02"+"03"; got != want { // dots b:2@3, c:300@-2
		t.Errorf("AppendContext = %s, want %s", got, want)
	}
	if got := hex.EncodeToString(AppendContext(nil, Context{})); got != "0000" {
		t.Errorf("AppendContext of the empty context = %s", got)
	}
	s := Set{{Clock: Clock{Dot: Dot{Actor: "n", Counter: 2, Stamp: 3}, Past: Closed(VV{{Actor: "n", Counter: 1}})}, Value: []byte("hi"), Deleted: true, Modified: 1, Expires: -1, Write: 300}}
	want := "01" + "01" + // format, one version
		"016e" + "02" + "06" + // dot n:2@3
		"01" + "016e" + "01" + "00" + "00" + // past {n:1@0}, no single dots
		"01" + "02" + "01" + // flags (deleted), modified 1, expires -1
		"ac02" + // write 300
		"02" + "6869" // value
	if got := hex.EncodeToString(AppendSet(nil, s)); got != want {
		t.Errorf("AppendSet = %s, want %s", got, want)
	}
	s = Set{{Clock: Clock{Dot: Dot{Actor: "n", Counter: 3}, Past: Context{Dots: []Dot{{Actor: "m", Counter: 1, Stamp: 1}}}}}}
	want = "01" + "01" + // format, one version
		"016e" + "03" + "00" + // dot n:3@0
		"00" + "01" + "016d" + "01" + "02" + // past: empty VV, single dot m:1@1
		"00" + "00" + "00" + "00" + "00" // flags, modified, expires, write, no value
	if got := hex.EncodeToString(AppendSet(nil, s)); got != want {
		t.Errorf("AppendSet with a past dot = %s, want %s", got, want)
	}
	if got := hex.EncodeToString(AppendDot(nil, Dot{Actor: "n", Counter: 2, Stamp: 3})); got != "016e0206" {
		t.Errorf("AppendDot = %s", got)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeVVErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string // hex, spaces ignored
	}{
		{"empty buffer", ""},
		{"truncated count", "80"},
		{"count without entries", "01"},
		{"truncated actor", "01 05 6161"},
		{"truncated counter", "01 0161"},
		{"truncated stamp", "01 0161 01"},
		{"too many entries", "8108"},                                        // 1025
		{"actor too long", "01 8002" + strings.Repeat("61", 256) + "01 00"}, // 256 bytes
		{"zero counter", "01 0161 00 00"},
		{"empty actor", "01 00 01 00"},
		{"unsorted", "02 0162 01 00 0161 01 00"},
		{"duplicate actor", "02 0161 01 00 0161 02 00"},
		{"trailing bytes", "00 00"},
		{"overlong count", "8000"},
		{"overlong counter", "01 0161 8100 00"},
		{"overlong stamp", "01 0161 01 8000"},
		{"overlong actor length", "01 8100 61 01 00"},
		{"counter overflows 64 bits", "01 0161 ffffffffffffffffff7f 00"},
		{"huge actor length", "01 ffffffffffffffff7f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeVV(mustHex(t, tc.in))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeVV(%s): err = %v, want ErrCorrupt", tc.in, err)
			}
		})
	}
}

// TestDecodeSizeLimits: the largest vector and set decode; one entry more
// is refused even when every entry is well formed.
func TestDecodeSizeLimits(t *testing.T) {
	entries := make(VV, MaxVVEntries+1)
	for i := range entries {
		entries[i] = Entry{Actor: Actor(fmt.Sprintf("a%05d", i)), Counter: 1}
	}
	if _, err := DecodeVV(AppendVV(nil, entries[:MaxVVEntries])); err != nil {
		t.Fatalf("DecodeVV of %d entries: %v", MaxVVEntries, err)
	}
	if _, err := DecodeVV(AppendVV(nil, entries)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeVV of %d entries: err = %v, want ErrCorrupt", MaxVVEntries+1, err)
	}

	dots := make([]Dot, MaxVVEntries+1)
	for i := range dots {
		dots[i] = Dot{Actor: "a", Counter: uint64(i + 1)}
	}
	if _, err := DecodeContext(AppendContext(nil, Context{VV: entries[:MaxVVEntries], Dots: dots[:MaxVVEntries]})); err != nil {
		t.Fatalf("DecodeContext of %d entries and %d dots: %v", MaxVVEntries, MaxVVEntries, err)
	}
	if _, err := DecodeContext(AppendContext(nil, Context{Dots: dots})); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeContext of %d dots: err = %v, want ErrCorrupt", MaxVVEntries+1, err)
	}

	s := make(Set, MaxSetEntries+1)
	for i := range s {
		s[i] = ver(dot("n", uint64(i+1)), nil, "")
	}
	if _, err := DecodeSet(AppendSet(nil, s[:MaxSetEntries]), 0); err != nil {
		t.Fatalf("DecodeSet of %d versions: %v", MaxSetEntries, err)
	}
	if _, err := DecodeSet(AppendSet(nil, s), 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeSet of %d versions: err = %v, want ErrCorrupt", MaxSetEntries+1, err)
	}

	long := VV{{Actor: Actor(strings.Repeat("x", MaxActorLen+1)), Counter: 1}}
	if _, err := DecodeVV(AppendVV(nil, long)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeVV of a %d-byte actor: err = %v", MaxActorLen+1, err)
	}
	value := Set{ver(dot("n", 1), nil, "abcd")}
	if _, err := DecodeSet(AppendSet(nil, value), 4); err != nil {
		t.Fatalf("value at the limit refused: %v", err)
	}
	if _, err := DecodeSet(AppendSet(nil, value), 3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("value over the limit: err = %v", err)
	}
}

// setHex assembles a one- or two-version set encoding field by field (hex,
// spaces ignored): dot, past, flags, modified, expires, write, value.
type vHex struct{ dot, past, flags, modified, expires, write, value string }

func (v vHex) String() string {
	return strings.Join([]string{v.dot, v.past, v.flags, v.modified, v.expires, v.write, v.value}, " ")
}

// goodV is a well-formed version n:1 with no past and no value.
var goodV = vHex{dot: "016e 01 00", past: "00 00", flags: "00", modified: "00", expires: "00", write: "00", value: "00"}

func with(f func(*vHex)) vHex { v := goodV; f(&v); return v }

func TestDecodeSetErrors(t *testing.T) {
	valid := "01 01 " + goodV.String()
	if _, err := DecodeSet(mustHex(t, valid), 8); err != nil {
		t.Fatalf("the base case must decode: %v", err)
	}
	n2 := with(func(v *vHex) { v.dot = "016e 02 00" })
	for _, tc := range []struct {
		name     string
		in       string
		maxValue int
	}{
		{"empty buffer", "", 8},
		{"unknown format", "02 00", 8},
		{"format zero", "00 00", 8},
		{"no count", "01", 8},
		{"too many siblings", "01 8120", 8}, // 4097
		{"count without versions", "01 02 " + goodV.String(), 8},
		{"zero dot counter", "01 01 " + with(func(v *vHex) { v.dot = "016e 00 00" }).String(), 8},
		{"empty dot actor", "01 01 " + with(func(v *vHex) { v.dot = "00 01 00" }).String(), 8},
		{"bad past", "01 01 " + with(func(v *vHex) { v.past = "01 0161 00 00 00" }).String(), 8},
		{"past without its dot count", "01 01 " + with(func(v *vHex) { v.past = "00" }).String(), 8},
		{"past dot covered by its VV", "01 01 " + with(func(v *vHex) { v.past = "01 0161 02 00 01 0161 01 00" }).String(), 8},
		{"past dots unsorted", "01 01 " + with(func(v *vHex) { v.past = "00 02 0162 01 00 0161 01 00" }).String(), 8},
		{"past dot with a zero counter", "01 01 " + with(func(v *vHex) { v.past = "00 01 0161 00 00" }).String(), 8},
		{"unknown flags", "01 01 " + with(func(v *vHex) { v.flags = "02" }).String(), 8},
		{"value longer than the limit", "01 01 " + with(func(v *vHex) { v.value = "03 616263" }).String(), 2},
		{"value truncated", "01 01 " + with(func(v *vHex) { v.value = "03 6162" }).String(), 8},
		{"unsorted dots", "01 02 " + n2.String() + " " + goodV.String(), 8},
		{"duplicate dots", "01 02 " + goodV.String() + " " + goodV.String(), 8},
		{"duplicate dots with different stamps", "01 02 " + goodV.String() + " " + with(func(v *vHex) { v.dot = "016e 01 02" }).String(), 8},
		{"trailing bytes", valid + " 00", 8},
		{"overlong modified", "01 01 " + with(func(v *vHex) { v.modified = "8000" }).String(), 8},
		{"overlong expires", "01 01 " + with(func(v *vHex) { v.expires = "8100" }).String(), 8},
		{"overlong write", "01 01 " + with(func(v *vHex) { v.write = "8000" }).String(), 8},
		{"overlong value length", "01 01 " + with(func(v *vHex) { v.value = "8000" }).String(), 8},
		{"overlong count", "01 8100 " + goodV.String(), 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeSet(mustHex(t, tc.in), tc.maxValue)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeSet(%s): err = %v, want ErrCorrupt", tc.in, err)
			}
		})
	}
}

func TestDecoder(t *testing.T) {
	buf := AppendVV(nil, VV{{Actor: "a", Counter: 1}})
	ctx := parseCtx(t, "b:2@1 | c:3@4")
	buf = AppendContext(buf, ctx)
	buf = AppendDot(buf, Dot{Actor: "n", Counter: 7, Stamp: -2})
	buf = append(buf, 0xAB)
	buf = append(buf, 0x03, 'x', 'y', 'z')
	d := NewDecoder(buf)
	if v := d.VV(); !eqVV(v, VV{{Actor: "a", Counter: 1}}) {
		t.Fatalf("VV = %+v", v)
	}
	if got := d.Context(); !eqContext(got, ctx) {
		t.Fatalf("Context = %+v", got)
	}
	if got := d.Dot(); got != (Dot{Actor: "n", Counter: 7, Stamp: -2}) {
		t.Fatalf("Dot = %+v", got)
	}
	if got := d.Byte(); got != 0xAB {
		t.Fatalf("Byte = %x", got)
	}
	if got := d.Bytes(2); got != nil || !errors.Is(d.Err(), ErrCorrupt) {
		t.Fatalf("Bytes over the limit = %q, err %v", got, d.Err())
	}
	// The first error sticks and later reads are no-ops.
	first := d.Err()
	rest := d.Rest()
	if d.Uvarint() != 0 || d.Varint() != 0 || d.Byte() != 0 || d.String(10) != "" || d.VV() != nil || !d.Context().IsEmpty() || d.Set(10) != nil {
		t.Fatalf("reads after an error returned data")
	}
	if d.Err() != first || !bytes.Equal(d.Rest(), rest) {
		t.Fatalf("reads after an error changed the decoder")
	}

	// Bytes aliases the buffer but is capped so appends cannot clobber it.
	b := []byte{0x02, 'h', 'i', '!'}
	d = NewDecoder(b)
	got := d.Bytes(10)
	if string(got) != "hi" || cap(got) != 2 || string(d.Rest()) != "!" {
		t.Fatalf("Bytes = %q cap %d rest %q", got, cap(got), d.Rest())
	}
}

// FuzzDecodeVV: arbitrary bytes never make DecodeVV panic, errors wrap
// ErrCorrupt, and whatever it accepts is valid and re-encodes to the very
// same bytes.
func FuzzDecodeVV(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add(AppendVV(nil, VV{{Actor: "a", Counter: 1, Stamp: -1}, {Actor: "bc", Counter: 300, Stamp: 2}}))
	f.Add(AppendVV(nil, VV{{Actor: "n1~A", Counter: ^uint64(0), Stamp: 1 << 62}}))
	f.Add([]byte{0x80, 0x00})
	f.Add([]byte{0x01, 0x01, 'a', 0x81, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeVV(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if !v.Valid() {
			t.Fatalf("accepted an invalid vector %+v", v)
		}
		if enc := AppendVV(nil, v); !bytes.Equal(enc, data) {
			t.Fatalf("accepted %x but it re-encodes to %x", data, enc)
		}
	})
}

// FuzzDecodeSet: the same for sets.
func FuzzDecodeSet(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0})
	f.Add(AppendSet(nil, Set{ver(Dot{Actor: "n1", Counter: 1, Stamp: 5}, nil, `{"a":1}`)}))
	f.Add(AppendSet(nil, Set{
		{Clock: Clock{Dot: Dot{Actor: "n1~A", Counter: 4, Stamp: -1}, Past: Closed(VV{{Actor: "n1~A", Counter: 3}, {Actor: "n2", Counter: 1}})}, Value: []byte("x"), Modified: -3, Expires: 1 << 50},
		{Clock: Clock{Dot: dot("n1~B", 1), Past: Context{VV: VV{{Actor: "n2", Counter: 1}}, Dots: []Dot{{Actor: "n1~A", Counter: 4, Stamp: -1}, {Actor: "n2", Counter: 5}}}}, Deleted: true, Write: 77},
	}))
	f.Add([]byte{1, 1, 1, 'n', 1, 0, 0, 0, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSet(data, 64)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		for i, v := range s {
			if v.Clock.Dot.IsZero() || v.Clock.Dot.Actor == "" || !v.Clock.Past.Valid() || len(v.Value) > 64 {
				t.Fatalf("accepted a bad version %+v", v)
			}
			if i > 0 && !dotLess(s[i-1].Clock.Dot, v.Clock.Dot) {
				t.Fatalf("accepted unsorted dots %v", s.Dots())
			}
		}
		if enc := AppendSet(nil, s); !bytes.Equal(enc, data) {
			t.Fatalf("accepted %x but it re-encodes to %x", data, enc)
		}
	})
}

func TestContextRoundTrip(t *testing.T) {
	many := make([]Dot, MaxVVEntries)
	for i := range many {
		many[i] = Dot{Actor: "n", Counter: uint64(2*i + 3), Stamp: int64(i)}
	}
	for _, tc := range []struct {
		name string
		c    Context
	}{
		{"empty", Context{}},
		{"closed only", parseCtx(t, "a:3@1 n1~A:1@-5")},
		{"dots only", parseCtx(t, "| a:1@7 a:3 b:2@-1")},
		{"both", parseCtx(t, "a:3@1 b:1 | a:5@2 a:9 c:1@9")},
		{"max counters and stamps", Context{
			VV:   VV{{Actor: "a", Counter: ^uint64(0) - 1, Stamp: -1 << 63}},
			Dots: []Dot{{Actor: "a", Counter: ^uint64(0), Stamp: 1<<63 - 1}},
		}},
		{"binary actors", Context{Dots: []Dot{{Actor: "\x00", Counter: 1}, {Actor: "\xff\xfe", Counter: 2}}}},
		{"max dots", Context{VV: VV{{Actor: "n", Counter: 1}}, Dots: many}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.c.Valid() {
				t.Fatalf("test context not valid")
			}
			enc := AppendContext(nil, tc.c)
			got, err := DecodeContext(enc)
			if err != nil {
				t.Fatalf("DecodeContext: %v", err)
			}
			if !eqContext(got, tc.c) || !got.Equal(tc.c) {
				t.Fatalf("round trip = %+v, want %+v", got, tc.c)
			}
			if again := AppendContext([]byte("prefix"), got); !bytes.Equal(again[6:], enc) || string(again[:6]) != "prefix" {
				t.Fatalf("AppendContext does not append")
			}
			for i := range enc {
				if _, err := DecodeContext(enc[:i]); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("prefix of %d/%d bytes: err = %v, want ErrCorrupt", i, len(enc), err)
				}
			}
		})
	}
}

func TestDecodeContextErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string // hex, spaces ignored
	}{
		{"empty buffer", ""},
		{"VV without a dot count", "00"},
		{"bad VV", "01 0161 00 00 00"},
		{"count without dots", "00 01"},
		{"truncated dot actor", "00 01 05 6161"},
		{"truncated dot counter", "00 01 0161"},
		{"truncated dot stamp", "00 01 0161 01"},
		{"too many dots", "00 8108"}, // 1025
		{"zero dot counter", "00 01 0161 00 00"},
		{"empty dot actor", "00 01 00 01 00"},
		{"dot actor too long", "00 01 8002" + strings.Repeat("61", 256) + "01 00"},
		{"unsorted dots (actor)", "00 02 0162 01 00 0161 01 00"},
		{"unsorted dots (counter)", "00 02 0161 02 00 0161 01 00"},
		{"duplicate dots", "00 02 0161 01 00 0161 01 00"},
		{"duplicate dots with different stamps", "00 02 0161 01 00 0161 01 02"},
		{"dot covered by the VV", "01 0161 02 00 01 0161 02 00"},
		{"dot below the VV entry", "01 0161 02 00 01 0161 01 00"},
		{"trailing bytes", "00 00 00"},
		{"overlong dot count", "00 8000"},
		{"overlong dot counter", "00 01 0161 8100 00"},
		{"overlong dot stamp", "00 01 0161 01 8000"},
		{"huge dot count", "00 ffffffffffffffff7f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeContext(mustHex(t, tc.in))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeContext(%s): err = %v, want ErrCorrupt", tc.in, err)
			}
		})
	}
	// A dot of an actor the VV has no entry for is fine, wherever it sorts.
	if _, err := DecodeContext(mustHex(t, "01 0162 02 00 01 0161 01 00")); err != nil {
		t.Fatalf("a dot of an actor the VV does not cover: %v", err)
	}
}

// FuzzDecodeContext: arbitrary bytes never make DecodeContext panic, errors
// wrap ErrCorrupt, and whatever it accepts is valid and re-encodes to the
// very same bytes.
func FuzzDecodeContext(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0})
	f.Add(AppendContext(nil, Context{VV: VV{{Actor: "a", Counter: 1, Stamp: -1}}, Dots: []Dot{{Actor: "a", Counter: 3, Stamp: 2}, {Actor: "bc", Counter: 300}}}))
	f.Add(AppendContext(nil, Context{Dots: []Dot{{Actor: "n1~A", Counter: ^uint64(0), Stamp: 1 << 62}}}))
	f.Add([]byte{0, 2, 1, 'a', 1, 0, 1, 'a', 1, 0})
	f.Add([]byte{1, 1, 'a', 2, 0, 1, 1, 'a', 2, 0})
	f.Add([]byte{0, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeContext(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if !c.Valid() {
			t.Fatalf("accepted an invalid context %+v", c)
		}
		if enc := AppendContext(nil, c); !bytes.Equal(enc, data) {
			t.Fatalf("accepted %x but it re-encodes to %x", data, enc)
		}
		// Accepted contexts are in normal form: normalising changes nothing.
		if n := (Context{VV: c.VV, Dots: slices.Clone(c.Dots)}).normal(); !eqContext(n, c) {
			t.Fatalf("accepted %+v, which normalises to %+v", c, n)
		}
	})
}
