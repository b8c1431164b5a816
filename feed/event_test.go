package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEventRoundTrip(t *testing.T) {
	e := &Event{ID: "n1~a:3", Tenant: "ten", Table: "users", TableID: "tid", PK: "<a&b>", Op: OpPut,
		Value: []byte(`{"html":"<b>"}`), Context: "AQ", Siblings: 2, HasSiblings: true, Time: time.UnixMilli(1700000000123).UTC()}
	b := Encode(e)
	if strings.Contains(string(b), `\u003c`) || strings.Contains(string(b), "\n") {
		t.Errorf("encoded event escapes HTML or holds a newline: %s", b)
	}
	got, err := Decode(b)
	if err != nil || got.PK != e.PK || string(got.Value) != string(e.Value) || !got.Time.Equal(e.Time) || got.Seq != 0 {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []string{`{}`, `{"id":"x","tenant":"t","table":"u","op":"merge"}`, `not json`} {
		if _, err := Decode([]byte(bad)); !errors.Is(err, ErrBadEvent) {
			t.Errorf("Decode(%s) = %v", bad, err)
		}
	}
}

// reflectEncode is what encoding/json makes of an event: the shape Encode
// must give byte for byte (for a compact value, as stored items are).
func reflectEncode(e *Event) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func FuzzEncodeMatchesReflection(f *testing.F) {
	f.Add(uint64(0), "n1~a:3", "ten", "users", "<a&b>", "", []byte(`{"html":"<b>"}`), false, "AQ", 2, int64(1700000000123), int64(0))
	f.Add(uint64(9), "n2~b:1", "t", "u", "é\x00", "sk\"", []byte(nil), true, "", 1, int64(-1), int64(1700000000000))
	f.Fuzz(func(t *testing.T, seq uint64, id, tenant, table, pk, sk string, value []byte, deleted bool, ctx string, siblings int, at, expires int64) {
		var c bytes.Buffer
		if len(value) > 0 && (json.Compact(&c, value) != nil || !bytes.Equal(c.Bytes(), value)) {
			return // stored values are compact JSON
		}
		const lo, hi = -62135596800000, 253402300799999 // years 0-9999
		if at < lo || at > hi || expires < lo || expires > hi {
			return
		}
		e := &Event{Seq: seq, ID: id, Tenant: tenant, Table: table, TableID: table + "-id", PK: pk, SK: sk, Op: OpPut,
			Value: value, Deleted: deleted, Context: ctx, Siblings: siblings, HasSiblings: siblings > 1, Time: time.UnixMilli(at).UTC()}
		if deleted {
			e.Op = OpDelete
		}
		if expires != 0 {
			x := time.UnixMilli(expires).UTC()
			e.Expires = &x
		}
		if got, want := Encode(e), reflectEncode(e); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

func FuzzSpliceMatchesEncode(f *testing.F) {
	f.Add("n1~a:3", "<a&b>", "", []byte(`{"html":"<b>"}`), false, int64(0))
	f.Add("n2~b:1", "é\x00", "sk\"", []byte(`7`), false, int64(1700000000000))
	f.Add("n2~b:2", "k", "", []byte(nil), true, int64(0))
	f.Fuzz(func(t *testing.T, id, pk, sk string, value []byte, deleted bool, expires int64) {
		if len(value) > 0 && !json.Valid(value) {
			return
		}
		e := &Event{ID: id, Tenant: "t", Table: "u", TableID: "u-id", PK: pk, SK: sk, Op: OpPut,
			Value: value, Deleted: deleted, Context: "AQ", Siblings: 1, Time: time.UnixMilli(1700000000123).UTC()}
		if expires > 0 && expires < 253402300799999 {
			x := time.UnixMilli(expires).UTC()
			e.Expires = &x
		}
		bare := *e
		bare.Value = nil
		b, at := EncodeSplit(&bare)
		if !bytes.Equal(b, Encode(&bare)) {
			t.Fatalf("EncodeSplit without a value differs from Encode:\n%s\n%s", b, Encode(&bare))
		}
		if got, want := Splice(b, at, value), Encode(e); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
