package gateway

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/vclock"
)

// refGetResponse encodes the answer with encoding/json, from the
// client's types: the shape the hand-written answer must match byte for
// byte.
func refGetResponse(vis vclock.Set, ctxTok string) []byte {
	out := client.Item{Context: ctxTok, Items: make([]client.Version, len(vis))}
	for i, v := range vis {
		j := client.Version{Deleted: v.Deleted, Modified: time.UnixMilli(v.Modified).UTC()}
		if !v.Deleted {
			j.Value = v.Value
		}
		if v.Expires != 0 {
			e := time.UnixMilli(v.Expires).UTC()
			j.Expires = &e
		}
		out.Items[i] = j
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func TestGetResponseMatchesReflection(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli()
	cases := map[string]struct {
		vis vclock.Set
		tok string
	}{
		"one value":       {vclock.Set{{Value: []byte(`{"a":1}`), Modified: now}}, "AQEL"},
		"whole second":    {vclock.Set{{Value: []byte(`{"a":"x"}`), Modified: 1_700_000_000_000}}, "tok"},
		"tombstone":       {vclock.Set{{Deleted: true, Value: []byte(`{"a":1}`), Modified: now + 7}}, "AQ-_"},
		"expiring":        {vclock.Set{{Value: []byte(`{"b":[1,2]}`), Modified: now, Expires: now + 86_400_123}}, ""},
		"siblings":        {vclock.Set{{Value: []byte(`{"c":"Lyon"}`), Modified: now}, {Value: []byte(`{"c":"Nice"}`), Modified: now + 1}, {Deleted: true, Modified: now + 2}}, "AQEL"},
		"empty value":     {vclock.Set{{Modified: now}}, "x"},
		"odd token":       {vclock.Set{{Value: []byte(`{}`), Modified: now}}, "a\"b\\c<é>\n"},
		"unicode in item": {vclock.Set{{Value: []byte(`{"名":"<&>"}`), Modified: -1}}, "AQEL"},
	}
	for name, c := range cases {
		got := appendGetResponse(nil, c.vis, c.tok)
		if want := refGetResponse(c.vis, c.tok); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func FuzzGetResponse(f *testing.F) {
	f.Add([]byte(`{"a":1}`), int64(1_700_000_000_123), int64(0), false, "AQEL", uint8(1))
	f.Add([]byte(`{"v":"x"}`), int64(-5), int64(99), true, "a\"\\", uint8(3))
	f.Fuzz(func(t *testing.T, value []byte, modified, expires int64, deleted bool, tok string, n uint8) {
		// Values are stored validated and compacted: only such are given.
		var probe json.RawMessage
		if json.Unmarshal(value, &probe) != nil {
			return
		}
		var buf bytes.Buffer
		if json.Compact(&buf, value) != nil || !bytes.Equal(buf.Bytes(), value) {
			return
		}
		// time.Time's JSON is refused outside years 0-9999.
		const limit = 253402300799999
		if modified < -62135596800000 || modified > limit-4 || expires < -62135596800000 || expires > limit {
			return
		}
		var vis vclock.Set
		for i := range int(n%4) + 1 {
			vis = append(vis, vclock.Version{Value: value, Deleted: deleted && i%2 == 0, Modified: modified + int64(i), Expires: expires})
		}
		if got, want := appendGetResponse(nil, vis, tok), refGetResponse(vis, tok); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
