package tenants

import (
	"encoding/binary"
	"fmt"
)

// metaOutbox is the KindMeta sub-prefix of the change-feed outbox. Other
// KindMeta sub-prefixes in use: 'i' (incarnation), 'c' (counter lease),
// 'u' (usage). WARNING: on disk; never reuse a letter.
const metaOutbox = 'o'

// OutboxKey is the key of the change event of the version a node stamped
// with counter seq:
//
//	KindMeta | 'o' | seq(8, big endian)
//
// A node's counters grow in commit order, so its outbox sorts in the order
// its events must be published.
func OutboxKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{byte(KindMeta), metaOutbox}, seq)
}

// OutboxPrefix is the prefix of every outbox key.
func OutboxPrefix() []byte { return []byte{byte(KindMeta), metaOutbox} }

// DecodeOutboxKey returns the counter of an OutboxKey.
func DecodeOutboxKey(b []byte) (uint64, error) {
	if len(b) != 10 || Kind(b[0]) != KindMeta || b[1] != metaOutbox {
		return 0, fmt.Errorf("%w: not an outbox key", ErrBadKey)
	}
	return binary.BigEndian.Uint64(b[2:]), nil
}
