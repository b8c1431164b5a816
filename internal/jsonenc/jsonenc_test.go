package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func reflectJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "AQEL", "a\"b\\c", "<&>", "é", "\x00\x1f", "\xff", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := String(nil, s), reflectJSON(s); !bytes.Equal(got, want) {
			t.Fatalf("String(%q) = %s, encoding/json gives %s", s, got, want)
		}
	})
}

func FuzzTime(f *testing.F) {
	f.Add(int64(0), int64(1_700_000_000_123))
	f.Add(int64(-62135596800000), int64(253402300799999))
	f.Fuzz(func(t *testing.T, ms, nanos int64) {
		if ms < -62135596800000 || ms > 253402300799999 {
			return // years outside 0-9999
		}
		tm := time.UnixMilli(ms).Add(time.Duration(nanos % 1e6)).UTC()
		if tm.Year() < 0 || tm.Year() > 9999 {
			return
		}
		if got, want := Time(nil, tm), reflectJSON(tm); !bytes.Equal(got, want) {
			t.Fatalf("Time(%v) = %s, encoding/json gives %s", tm, got, want)
		}
	})
}
