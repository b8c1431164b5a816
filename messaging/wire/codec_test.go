package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

var testKey = tenants.Key{Kind: tenants.KindData, Partition: 77, Tenant: "t1", Table: "tb", PK: "alice", SK: "2026"}

func testSet() vclock.Set {
	return vclock.Set{{
		Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n1~x", Counter: 9, Stamp: 5},
			Past: vclock.Context{VV: vclock.VV{{Actor: "n2~y", Counter: 3, Stamp: 4}}, Dots: []vclock.Dot{{Actor: "n3~z", Counter: 7}}}},
		Value: []byte(`{"a":1}`), Modified: 1000, Expires: 2000, Write: 42,
	}}
}

func messages() []Message {
	ctx := vclock.Context{VV: vclock.VV{{Actor: "n1~x", Counter: 2, Stamp: 1}}}
	return []Message{
		&PutRequest{Header: Header{Tag: 3}, Key: testKey, Context: ctx, Value: []byte(`{"v":1}`), TTLMillis: 60000,
			MaxSiblings: 100, LWW: true, Forward: []string{"n2", "n3"}, Hints: []string{"", "n4"}, WantSet: true, Write: 99},
		&PutRequest{Key: testKey, Deleted: true},
		&ReplicateRequest{Header: Header{Tag: 1}, Key: testKey, Set: testSet(), Hint: "n5"},
		&GetRequest{Header: Header{Tag: withRound(7, 0xfedcba98)}, Key: testKey},
		&ScanRequest{Header: Header{Tag: 2}, Key: testKey, Start: "a", End: "z", Reverse: true, Limit: 50},
		&ScanRequest{Key: testKey, Start: "\x01a", Limit: 5, Whole: true},
		&Reply{Tag: 4, Node: "n1", Code: CodeTooManySiblings, Message: "too many"},
		&Reply{Tag: withRound(5, 1<<31|3), Node: "n2", Context: ctx, Count: 2, Set: testSet()},
		&Reply{Tag: 6, Node: "n3", Items: []ScanItem{{SK: "a", Set: testSet()}, {SK: "b"}}, More: true},
		&Reply{Tag: 8, Node: "n1", Usage: []Usage{{Tenant: "t1", Table: "a", Bytes: 1 << 40}, {Tenant: "t2", Table: "b", Bytes: 0}}},
		&UsageRequest{Header: Header{Tag: 9}},
		&PurgeRequest{Header: Header{Tag: 10}, Tenant: "t1", Table: "tb"},
		&PurgeRequest{Tenant: "t1"},
		&TransferRequest{Header: Header{Tag: 11}, Kind: tenants.KindData, Partition: 200, After: "\x01\x00\x05k", Limit: 500},
		&StatusRequest{Header: Header{Tag: 12}},
		&AdminRequest{Header: Header{Tag: 13}, Op: "limit-transfer", Value: 1.5e6},
		&AdminRequest{Op: "repair", Arg: "t1/tb"},
		&MerkleRequest{Header: Header{Tag: 15}, Partition: 9, Level: 3, Indices: []uint32{1, 2, 7}},
		&BucketRequest{Partition: 9, Leaves: []uint32{1023}},
		&GCRequest{Items: []ScanItem{{SK: "\x01\x00\x09k", Set: testSet()}}},
		&Reply{Tag: 14, Node: "n1", Data: []byte(`{"ok":true}`)},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range messages() {
		b := Encode(m)
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%v: %v", m.Type(), err)
		}
		if !bytes.Equal(Encode(got), b) {
			t.Errorf("%v: re-encoding differs", m.Type())
		}
		if r, ok := m.(*Reply); ok && r.Items != nil {
			// Empty sets decode as empty, not nil; compare encodings only.
			continue
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%v: decoded %+v, want %+v", m.Type(), got, m)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := Encode(&GetRequest{Key: testKey})
	cases := map[string][]byte{
		"empty":         nil,
		"one byte":      {1},
		"bad version":   append([]byte{99}, good[1:]...),
		"unknown type":  {ProtocolVersion, 200},
		"truncated":     good[:len(good)-2],
		"trailing":      append(append([]byte{}, good...), 0),
		"long forwards": append([]byte{ProtocolVersion, byte(TypePut), 0}, 0xff, 0xff, 0x03),
	}
	for name, b := range cases {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	_, err := Decode(append([]byte{99}, good[1:]...))
	if CodeOf(err) != CodeVersion {
		t.Errorf("bad version gives code %v, want %v", CodeOf(err), CodeVersion)
	}
	if _, err := Decode(good[:len(good)-2]); !errors.Is(err, ErrDecode) {
		t.Errorf("truncated message error %v does not wrap ErrDecode", err)
	}
}

func TestCodes(t *testing.T) {
	if CodeOf(nil) != CodeOK || CodeOf(errors.New("x")) != CodeInternal {
		t.Fatal("CodeOf of nil or a plain error")
	}
	e := Errorf(CodeBadRequest, "bad %d", 1)
	if CodeOf(e) != CodeBadRequest || e.Error() != "bad_request: bad 1" || CodeBadRequest.HTTPStatus() != 400 {
		t.Fatalf("wire error: %v %d", e, CodeBadRequest.HTTPStatus())
	}
	if Code(999).HTTPStatus() != 500 || Code(999).String() != "code(999)" {
		t.Fatal("unknown code")
	}
	r := &Reply{Code: CodeUnavailable, Message: "going"}
	if CodeOf(r.Err()) != CodeUnavailable || (&Reply{}).Err() != nil {
		t.Fatal("Reply.Err")
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range messages() {
		f.Add(Encode(m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		// What decodes must re-encode to a message that decodes the same.
		again, err := Decode(Encode(m))
		if err != nil {
			t.Fatalf("re-decoding %v: %v", m.Type(), err)
		}
		if !bytes.Equal(Encode(again), Encode(m)) {
			t.Fatalf("%v is not stable under re-encoding", m.Type())
		}
	})
}

// A reply that carries a set as stored bytes is the reply that carries
// the set itself, on the wire and once decoded.
func TestReplySetBytes(t *testing.T) {
	ctx := vclock.Context{VV: vclock.VV{{Actor: "n1~x", Counter: 2, Stamp: 1}}}
	want := &Reply{Tag: 5, Node: "n2", Context: ctx, Count: 2, Set: testSet()}
	raw := &Reply{Tag: 5, Node: "n2", Context: ctx, Count: 2, SetBytes: vclock.AppendSet(nil, testSet())}
	if !bytes.Equal(Encode(raw), Encode(want)) {
		t.Fatal("encoded bytes of a set differ from the encoded set")
	}
	got, err := Decode(Encode(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Message(want)) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
}

// A replica request is decoded on every read and write: its key's names
// share one allocation, and the request is one more.
func TestDecodeGetAllocations(t *testing.T) {
	for _, k := range []tenants.Key{testKey, {Kind: tenants.KindData, Partition: 1, Tenant: "t", Table: "b", PK: "p"}, {}} {
		b := Encode(&GetRequest{Header: Header{Tag: 7}, Key: k})
		var got Message
		n := testing.AllocsPerRun(100, func() { got, _ = Decode(b) })
		if g, ok := got.(*GetRequest); !ok || g.Key != k {
			t.Fatalf("decoded %+v, want the key %+v", got, k)
		}
		if n > 2 {
			t.Errorf("decoding a GET request for %+v allocates %v times, want at most 2", k, n)
		}
	}
}

// A pooled encoding is the encoding, whatever the buffer held before, and
// a buffer grown past maxScratch is not kept.
func TestEncodeScratch(t *testing.T) {
	for round := 0; round < 3; round++ {
		for _, m := range messages() {
			b := EncodeScratch(m)
			if !bytes.Equal(*b, Encode(m)) {
				t.Fatalf("%v: pooled encoding differs", m.Type())
			}
			Recycle(b)
		}
	}
	big := EncodeScratch(&PutRequest{Key: testKey, Value: bytes.Repeat([]byte("x"), 2*maxScratch)})
	Recycle(big)
	for i := 0; i < 100; i++ {
		b := EncodeScratch(&GetRequest{Key: testKey})
		if cap(*b) > maxScratch {
			t.Fatalf("a buffer of %d bytes was kept", cap(*b))
		}
		Recycle(b)
	}
}

// A round's number takes a tag's high half and leaves the low half, the
// coordinator machine's own, as it was; a message without a header is
// left alone.
func TestSetRound(t *testing.T) {
	m := &PutRequest{Header: Header{Tag: 0xffffffff}}
	SetRound(m, 9)
	SetRound(m, 0xabcdef01) // a later round's number replaces it
	round, own := SplitTag(m.Tag)
	if round != 0xabcdef01 || own != 0xffffffff {
		t.Fatalf("round %x own %x, want abcdef01 and ffffffff", round, own)
	}
	for _, msg := range []Message{&ReplicateRequest{}, &GetRequest{}, &ScanRequest{}, &UsageRequest{}, &PurgeRequest{}, &TransferRequest{}} {
		SetRound(msg, 5)
		b := Encode(msg)
		d, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := d.(interface{ header() *Header }); !ok || h.header().Tag>>32 != 5 {
			t.Fatalf("%T: the round did not survive encoding", msg)
		}
	}
	r := &Reply{Tag: 3}
	SetRound(r, 5) // a reply echoes a tag, it does not set one
	if r.Tag != 3 {
		t.Fatalf("reply tag %x, want 3", r.Tag)
	}
}
