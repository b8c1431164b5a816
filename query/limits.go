package query

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits from the design document. The gateway's HTTP item API enforces the
// same ones through ValidateName, ValidateKey and ValidateItem.
const (
	// MaxNameLen bounds table and tenant names. Names appear in NATS subjects,
	// which is also why only [A-Za-z0-9_-] is allowed.
	MaxNameLen = 255
	// MaxKeyLen bounds a partition key or sort key, in bytes.
	MaxKeyLen = 2048
	// MaxItemSize bounds an item's JSON in bytes, measured after compaction
	// (insignificant whitespace does not count against the user).
	MaxItemSize = 400 << 10
	// MaxStatementSize bounds the text handed to Parse; it is checked before
	// lexing so a huge input costs nothing.
	MaxStatementSize = 1 << 20
	// MaxTokens bounds the tokens in one statement (a JSON VALUE is one
	// token). participle spends microseconds per token, so without it a
	// 1 MiB list of columns would cost seconds of gateway CPU; real
	// statements use tens of tokens.
	MaxTokens = 4096
	// MaxItemDepth bounds how deeply an item's objects and arrays nest (the
	// item itself is depth 1). Answers and change events wrap an item in a
	// few levels of their own, and common JSON decoders give up somewhere
	// between a thousand levels (Python's) and ten thousand (Go's): an item
	// accepted must stay readable by all of them.
	MaxItemDepth = 100
)

// Replication limits. DefaultN matches the design's N=3; r and w default to a
// majority of n, which gives the design's 2/2 for n=3 and keeps R+W>N for
// every n.
const (
	// MaxN bounds the replication factor n, and so any r or w.
	MaxN = 7
	// MaxSiblingsLimit bounds a table's max_siblings (the design's default
	// is 100): every version of an item travels in one answer.
	MaxSiblingsLimit = 1000
	// DefaultN is n when CREATE TABLE does not give one.
	DefaultN = 3
	// MaxTTL follows Cassandra's 20-year cap: long enough for any real
	// expiry, and far from overflowing an int64 of nanoseconds.
	MaxTTL = 20 * 365 * 24 * time.Hour
)

// DefaultQuorum returns the r and w a table with replication factor n gets
// when CREATE TABLE does not name them.
func DefaultQuorum(n int) int { return n/2 + 1 }

// ValidateName checks a table or tenant name against the design's limits.
// kind names the thing in the message ("table name"). The returned error is
// an *Error without a position.
func ValidateName(kind, s string) error {
	if err := checkName(kind, s); err != nil {
		return err
	}
	return nil
}

func checkName(kind, s string) *Error {
	if s == "" {
		return &Error{Msg: fmt.Sprintf("%s must not be empty", kind)}
	}
	if len(s) > MaxNameLen {
		return &Error{Msg: fmt.Sprintf("%s is %d characters long; the limit is %d", kind, len(s), MaxNameLen)}
	}
	if !isLetter(s[0]) {
		return &Error{Msg: fmt.Sprintf("%s %s must start with a letter", kind, quoteString(s))}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isWordByte(c) && c != '-' {
			return &Error{Msg: fmt.Sprintf("%s %s contains %s; only letters, digits, '_' and '-' are allowed",
				kind, quoteString(s), describeByte(s, i))}
		}
	}
	return nil
}

// ValidateKey checks a partition key or sort key value: 1 to MaxKeyLen bytes.
// kind names the thing in the message ("partition key"). The returned error
// is an *Error without a position.
func ValidateKey(kind, k string) error {
	if err := checkKey(kind, k); err != nil {
		return err
	}
	return nil
}

func checkKey(kind, k string) *Error {
	if k == "" {
		return &Error{Msg: fmt.Sprintf("%s must not be empty", kind)}
	}
	if len(k) > MaxKeyLen {
		return &Error{Msg: fmt.Sprintf("%s is %d bytes long; the limit is %d bytes", kind, len(k), MaxKeyLen)}
	}
	return nil
}

// ValidateItem checks that item is one JSON object of UTF-8 text, of at
// most MaxItemSize bytes once compacted, nested at most MaxItemDepth deep
// and with no name twice in one object, and returns it compacted. Errors are *Error values whose position
// is inside item.
func ValidateItem(item []byte) (json.RawMessage, error) {
	// Every write passes here: a valid item costs a scan to compact it and
	// one over the compacted bytes. Anything else takes the slower path,
	// which says what is wrong and where.
	var buf bytes.Buffer
	buf.Grow(len(item))
	if json.Compact(&buf, item) == nil {
		if b := buf.Bytes(); len(b) > 0 && b[0] == '{' && len(b) <= MaxItemSize && utf8.Valid(b) && checkShape(b).off < 0 {
			return json.RawMessage(b), nil
		}
	}
	out, err := checkItem(string(item), startPos, "invalid JSON item")
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkItem validates raw, which starts at base in the caller's text, so
// that a JSON syntax error points at the offending character. what starts
// syntax error messages.
func checkItem(raw string, base Position, what string) (json.RawMessage, *Error) {
	// Unmarshal, unlike Compact, reports the offset of a syntax error.
	var probe json.RawMessage
	if err := json.Unmarshal([]byte(raw), &probe); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			// Offset counts the bytes read, including the bad one.
			off := min(max(int(se.Offset)-1, 0), len(raw))
			return nil, &Error{Pos: base.advance(raw[:off]), Msg: what + ": " + se.Error()}
		}
		return nil, &Error{Pos: base, Msg: what + ": " + err.Error()}
	}
	// encoding/json takes any bytes inside strings, and would hand them
	// back in answers that are then not JSON (which is UTF-8).
	if off := InvalidUTF8(raw); off >= 0 {
		return nil, &Error{Pos: base.advance(raw[:off]), Msg: fmt.Sprintf("%s: byte %#02x is not UTF-8 (JSON text is UTF-8; send binary data encoded, as base64 for example)", what, raw[off])}
	}
	if f := checkShape([]byte(raw)); f.off >= 0 {
		msg := fmt.Sprintf("%s: objects and arrays nest more than %d deep", what, MaxItemDepth)
		if f.dup {
			msg = fmt.Sprintf("%s: attribute %s appears twice in one object (names within an object must be unique)", what, strconv.Quote(f.name))
		}
		return nil, &Error{Pos: base.advance(raw[:f.off]), Msg: msg}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, probe); err != nil {
		return nil, &Error{Pos: base, Msg: what + ": " + err.Error()}
	}
	b := buf.Bytes()
	if len(b) == 0 || b[0] != '{' {
		return nil, &Error{Pos: base, Msg: "an item must be a JSON object"}
	}
	if len(b) > MaxItemSize {
		return nil, &Error{Pos: base, Msg: fmt.Sprintf("item is %d bytes of JSON; the limit is %d bytes (400 KiB)", len(b), MaxItemSize), TooLarge: true}
	}
	return json.RawMessage(b), nil
}

// InvalidUTF8 returns the offset of the first byte of s that is not part
// of a valid UTF-8 sequence, or -1.
func InvalidUTF8(s string) int {
	if utf8.ValidString(s) { // the common case, checked a word at a time
		return -1
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// shapeFault is the first thing checkShape found wrong: the offset of the
// bracket that nests too deep, or (dup) of the name that repeats an earlier
// one of the same object, and that name unescaped; off is -1 if nothing is.
type shapeFault struct {
	off  int
	dup  bool
	name string
}

// member is an object member's name, as offsets of its text inside the
// quotes; esc says whether it holds escapes, so that "a" and "\u0061" are
// the same name.
type member struct {
	from, to int
	esc      bool
}

// manyMembers is how many names an object holds before checkShape looks
// new ones up in a map rather than comparing them with each earlier one.
const manyMembers = 32

// shapeFrame is an object or array that checkShape is inside.
type shapeFrame struct {
	object bool
	first  int                 // the object's first name in checkShape's names
	seen   map[string]struct{} // its names, once it has manyMembers of them
}

// checkShape walks the JSON text b, which must be valid JSON, for what
// encoding/json takes and other decoders do not: objects and arrays nested
// more than MaxItemDepth deep, and names that repeat within an object (of
// which decoders keep the first, the last, or refuse them all). Brackets
// and names are found outside strings only.
func checkShape(b []byte) shapeFault {
	var (
		stackBuf [8]shapeFrame
		namesBuf [16]member
		stack    = stackBuf[:0]
		names    = namesBuf[:0]
		wantName bool
	)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := stringEnd(b, i+1)
			if wantName {
				wantName = false
				m := member{from: i + 1, to: end, esc: bytes.IndexByte(b[i+1:end], '\\') >= 0}
				top := &stack[len(stack)-1]
				if top.repeats(b, m, names[top.first:]) {
					return shapeFault{off: i, dup: true, name: m.name(b)}
				}
				names = append(names, m)
			}
			i = end
		case '{', '[':
			if len(stack) == MaxItemDepth {
				return shapeFault{off: i}
			}
			stack = append(stack, shapeFrame{object: b[i] == '{', first: len(names)})
			wantName = b[i] == '{'
		case ',':
			wantName = len(stack) > 0 && stack[len(stack)-1].object
		case '}', ']':
			if len(stack) > 0 {
				names = names[:stack[len(stack)-1].first]
				stack = stack[:len(stack)-1]
			}
			wantName = false
		}
	}
	return shapeFault{off: -1}
}

// repeats reports whether m names a member that one of earlier, the names
// before it in the object f, already does.
func (f *shapeFrame) repeats(b []byte, m member, earlier []member) bool {
	if f.seen == nil && len(earlier) < manyMembers {
		for _, e := range earlier {
			if !e.esc && !m.esc {
				if bytes.Equal(b[e.from:e.to], b[m.from:m.to]) {
					return true
				}
			} else if e.name(b) == m.name(b) {
				return true
			}
		}
		return false
	}
	if f.seen == nil { // an object of many members: look them up instead
		f.seen = make(map[string]struct{}, 2*len(earlier))
		for _, e := range earlier {
			f.seen[e.name(b)] = struct{}{}
		}
	}
	name := m.name(b)
	if _, ok := f.seen[name]; ok {
		return true
	}
	f.seen[name] = struct{}{}
	return false
}

// name is the member's name with its escapes undone.
func (m member) name(b []byte) string {
	if !m.esc {
		return string(b[m.from:m.to])
	}
	var s string
	if json.Unmarshal(b[m.from-1:m.to+1], &s) != nil {
		return string(b[m.from:m.to]) // not reached: b is valid JSON
	}
	return s
}

// stringEnd returns the offset of the quote that closes the JSON string
// whose contents start at b[from] (len(b) if none does). Most of an item
// is in its strings: this skips them with IndexByte, not byte by byte.
func stringEnd(b []byte, from int) int {
	for {
		q := bytes.IndexByte(b[from:], '"')
		if q < 0 {
			return len(b)
		}
		q += from
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for j := q - 1; j >= from && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		from = q + 1
	}
}

func isLetter(c byte) bool   { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isWordByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

// describeByte names the character at s[i] for a message, without printing
// control characters raw.
func describeByte(s string, i int) string {
	r, _ := utf8.DecodeRuneInString(s[i:])
	if r < 0x20 || r == 0x7f || r == utf8.RuneError {
		return fmt.Sprintf("%U", r)
	}
	return fmt.Sprintf("%q", r)
}
