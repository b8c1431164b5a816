package storagenode

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/feed"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/vclock"
)

func TestOutboxEntryEncoding(t *testing.T) {
	value := []byte(`{"a":"` + strings.Repeat("x", 150) + `"}`)
	ev := &feed.Event{ID: "n1~a:7", Tenant: "ten", Table: "users", TableID: "tid", PK: "k", Op: feed.OpPut, Context: "AQ", Siblings: 1}
	bare, at := feed.EncodeSplit(ev)
	whole := feed.Splice(bare, at, value)
	pub := messaging.FeedPub{Tenant: "ten", Table: "users", ID: "w1-2", Data: whole}
	byRef := &outboxEntry{seq: 7, pub: pub, ref: &eventRef{key: []byte("item-key"), bare: bare, at: at}}

	// Entries written before entries could refer to their items: the
	// whole form, which must still be read.
	var legacy []byte
	for _, s := range []string{"ten", "users", "w1-2", string(whole)} {
		legacy = binary.AppendUvarint(legacy, uint64(len(s)))
		legacy = append(legacy, s...)
	}
	for _, tc := range []struct {
		name      string
		b         []byte
		wantRef   bool
		wantBytes int // at most, stored
	}{
		{"whole", (&outboxEntry{seq: 7, pub: pub}).encode(false), false, len(legacy)},
		{"legacy", legacy, false, len(legacy)},
		{"by reference", byRef.encode(false), true, len(bare) + 40},
		{"by reference, rewritten whole", byRef.encode(true), false, len(legacy)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.b) > tc.wantBytes {
				t.Errorf("stored in %d bytes, want at most %d", len(tc.b), tc.wantBytes)
			}
			// An entry by reference is made on every stamped write: its
			// buffer must not be sized for the value it leaves out.
			if room := cap(tc.b) - len(tc.b); tc.name != "legacy" && room > 1+6*binary.MaxVarintLen64 {
				t.Errorf("stored in %d bytes of a %d-byte buffer", len(tc.b), cap(tc.b))
			}
			e, err := decodeOutboxEntry(7, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if e.pub.Tenant != pub.Tenant || e.pub.Table != pub.Table || e.pub.ID != pub.ID || e.seq != 7 {
				t.Fatalf("decoded %+v", e.pub)
			}
			if (e.ref != nil) != tc.wantRef {
				t.Fatalf("ref = %v, want by reference %v", e.ref, tc.wantRef)
			}
			if e.ref != nil {
				if e.pub.Data != nil || string(e.ref.key) != "item-key" {
					t.Fatalf("by reference: data %q, key %q", e.pub.Data, e.ref.key)
				}
				s := vclock.Set{
					{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n2~b", Counter: 7}}, Value: []byte(`"other actor"`)},
					{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n1~a", Counter: 7}}, Value: value},
				}
				if !e.resolve(s, "n1~a") || !bytes.Equal(e.pub.Data, whole) {
					t.Fatalf("resolved to %s, want %s", e.pub.Data, whole)
				}
				return
			}
			if !bytes.Equal(e.pub.Data, whole) {
				t.Fatalf("data %s, want %s", e.pub.Data, whole)
			}
		})
	}

	stored := byRef.encode(false)
	for name, b := range map[string][]byte{
		"empty":          nil,
		"truncated":      stored[:len(stored)-3],
		"trailing bytes": append(bytes.Clone(stored), 0),
		"offset past the event": func() []byte {
			e := *byRef
			r := *byRef.ref
			r.at = len(bare) + 1
			e.ref = &r
			return e.encode(false)
		}(),
	} {
		if _, err := decodeOutboxEntry(7, b); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

func TestOutboxEntryResolveNeedsItsVersion(t *testing.T) {
	bare, at := feed.EncodeSplit(&feed.Event{ID: "n1~a:7", Tenant: "t", Table: "u", PK: "k", Op: feed.OpPut})
	e := &outboxEntry{seq: 7, ref: &eventRef{key: []byte("k"), bare: bare, at: at}}
	dot := func(a vclock.Actor, c uint64) vclock.Clock {
		return vclock.Clock{Dot: vclock.Dot{Actor: a, Counter: c}}
	}
	for name, s := range map[string]vclock.Set{
		"no item":                 nil,
		"a later version":         {{Clock: dot("n1~a", 8), Value: []byte(`1`)}},
		"another actor's counter": {{Clock: dot("n2~b", 7), Value: []byte(`1`)}},
		"deleted":                 {{Clock: dot("n1~a", 7), Deleted: true}},
	} {
		if e.resolve(s, "n1~a") {
			t.Errorf("%s: resolved to %s", name, e.pub.Data)
		}
	}
}
