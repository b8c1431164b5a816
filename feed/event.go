// Package feed is the format of change events: one JSON object for every
// new committed version of an item (a put or a delete), as storage nodes
// publish it and as consumers read it over NATS or Server-Sent Events.
//
// Contract:
//   - Exactly one event per version: the storage node that stamped the
//     version publishes it (never a replica), with the version's dot as the
//     JetStream message ID, so republishing after a crash is dropped by the
//     stream's duplicate window, or, past it, not done: the node first
//     looks for the IDs in the stream (within limits; see storagenode).
//   - Seq is the event's sequence in the cluster's feed stream. It is not
//     part of the published body (a message cannot carry the sequence it
//     is about to get): readers fill it in from the stream (the SSE `id`,
//     the `Nats-Sequence` header of messages on rt.feed.<tenant>.<table>).
//   - Context is the same opaque token the gateway hands out with reads and
//     writes: writing with it supersedes this version.
//   - Events of one key are published in the causal order of its versions
//     while JetStream is available; see storagenode for the exact rule.
//
// The package is pure: no I/O.
package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ringtable/ringtable/internal/jsonenc"
)

// Operations of an event.
const (
	OpPut    = "put"
	OpDelete = "delete"
)

// Event is one change event.
type Event struct {
	// Seq is the stream sequence (0 in the published body; see the
	// package comment).
	Seq uint64 `json:"seq,omitempty"`
	// ID names the version: its dot, "actor:counter". It is also the
	// message ID JetStream deduplicates on.
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	Table  string `json:"table"`
	// TableID distinguishes a table from an older one of the same name.
	TableID string `json:"table_id"`
	PK      string `json:"pk"`
	SK      string `json:"sk,omitempty"`
	Op      string `json:"op"`
	// Value is the new item (absent for a delete); Deleted marks a
	// tombstone.
	Value   json.RawMessage `json:"value,omitempty"`
	Deleted bool            `json:"deleted,omitempty"`
	// Context is the version's context token.
	Context string `json:"context"`
	// Siblings is how many versions the item has after this one was
	// stored at its stamper (1: no conflict); HasSiblings is Siblings > 1.
	Siblings    int  `json:"siblings"`
	HasSiblings bool `json:"has_siblings"`
	// Time is when the version was stamped; Expires, if set, when it
	// expires (a TTL).
	Time    time.Time  `json:"time"`
	Expires *time.Time `json:"expires,omitempty"`
}

// MaxEvent bounds one encoded event: an item of 400 KiB, its keys and its
// context, with room to spare.
const MaxEvent = 1 << 20

// ErrBadEvent is returned by Decode for data that is not an event.
var ErrBadEvent = errors.New("feed: bad event")

// Encode renders an event as JSON (HTML characters are not escaped, so a
// value is carried as its writer sent it). Every stamped write is encoded
// once, so it is written by hand, in the field order and with the escaping
// encoding/json gives the Event struct. Value must be JSON: the stored
// item, which the gateway validated and compacted.
func Encode(e *Event) []byte {
	if len(e.Value) > 0 && !json.Valid(e.Value) {
		// Only a corrupted store could do that.
		panic(fmt.Sprintf("feed: encoding event %s: value is not JSON", e.ID))
	}
	b, _ := encode(e, e.Value)
	return b
}

// EncodeSplit encodes e as Encode does but without its value, and returns
// where Splice puts the value back. A stamper's outbox keeps events so,
// next to the stored item that holds the value, rather than a second copy
// of every item.
func EncodeSplit(e *Event) (b []byte, at int) {
	return encode(e, nil)
}

// Splice returns the encoding of an event from EncodeSplit's parts with
// value (compact JSON, or empty for none) as its value. Unlike Encode it
// does not scan value: a stamper splices every write's item on its
// writer goroutine, and the item is one the gateway validated and
// compacted, so a second scan there cost 1.7% of a write-only run's CPU.
func Splice(b []byte, at int, value []byte) []byte {
	if len(value) == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+len(`,"value":`)+len(value))
	out = append(out, b[:at]...)
	out = append(out, `,"value":`...)
	out = append(out, value...)
	return append(out, b[at:]...)
}

// encode renders e with value as its value, and returns where the value
// belongs.
func encode(e *Event, value []byte) ([]byte, int) {
	b := make([]byte, 0, 256+len(value)+len(e.PK)+len(e.SK)+len(e.Context))
	b = append(b, '{')
	if e.Seq != 0 {
		b = append(b, `"seq":`...)
		b = strconv.AppendUint(b, e.Seq, 10)
		b = append(b, ',')
	}
	for _, f := range [...]struct{ name, v string }{{`"id":`, e.ID}, {`,"tenant":`, e.Tenant}, {`,"table":`, e.Table}, {`,"table_id":`, e.TableID}, {`,"pk":`, e.PK}} {
		b = append(b, f.name...)
		b = jsonenc.String(b, f.v)
	}
	if e.SK != "" {
		b = append(b, `,"sk":`...)
		b = jsonenc.String(b, e.SK)
	}
	b = append(b, `,"op":`...)
	b = jsonenc.String(b, e.Op)
	at := len(b)
	if len(value) > 0 {
		b = append(b, `,"value":`...)
		b = append(b, value...)
	}
	if e.Deleted {
		b = append(b, `,"deleted":true`...)
	}
	b = append(b, `,"context":`...)
	b = jsonenc.String(b, e.Context)
	b = append(b, `,"siblings":`...)
	b = strconv.AppendInt(b, int64(e.Siblings), 10)
	b = append(b, `,"has_siblings":`...)
	b = strconv.AppendBool(b, e.HasSiblings)
	b = append(b, `,"time":`...)
	b = jsonenc.Time(b, e.Time)
	if e.Expires != nil {
		b = append(b, `,"expires":`...)
		b = jsonenc.Time(b, *e.Expires)
	}
	return append(b, '}'), at
}

// Decode parses an event.
func Decode(b []byte) (*Event, error) {
	if len(b) > MaxEvent {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadEvent, len(b))
	}
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	if e.ID == "" || e.Tenant == "" || e.Table == "" || (e.Op != OpPut && e.Op != OpDelete) {
		return nil, fmt.Errorf("%w: missing id, tenant, table or op", ErrBadEvent)
	}
	return &e, nil
}
