// Package jsonenc appends the pieces of JSON that hot paths write by hand
// (a read's answer, a change event) exactly as encoding/json would with
// HTML escaping off, without its reflection. It does no I/O and never
// checks more than it says: callers hand it values that are already JSON.
package jsonenc

import (
	"bytes"
	"encoding/json"
	"time"
)

// String appends s as a JSON string.
func String(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			// Escapes and anything beyond ASCII (invalid UTF-8 included):
			// encoding/json's own rules, rarely needed.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s)
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Time appends t as encoding/json does (RFC 3339 with nanoseconds, in
// quotes); t's year must be within 0-9999.
func Time(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
