package vclock

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// A context token is a Context as clients see it: opaque, URL-safe text.
// Gateways hand tokens out with reads and writes, and storage nodes put the
// same tokens in change events, so an application can write with the
// context of an event exactly as with that of a read.

// A token names the item it was read from by a 32-bit fingerprint of
// the item's identity (the caller's to compute): a context is a claim
// about one item's versions, and with counters that each node shares
// among all its keys, another item's context would supersede versions of
// this one that its writer never saw.

// Versions of the encoding, the first byte of every token: 1 had no
// fingerprint (such tokens are taken unchecked), 2 has it.
const (
	tokenUnbound = 1
	tokenVersion = 2
)

// MaxTokenLen bounds a context token before decoding.
const MaxTokenLen = 64 << 10

// ErrBadToken is returned by DecodeToken for text that is not a context
// token.
var ErrBadToken = errors.New("vclock: invalid context token")

// ErrOtherItem is returned by DecodeToken for a token of another item.
var ErrOtherItem = errors.New("vclock: context token of another item")

// EncodeToken renders the context of the item whose fingerprint is item as
// an opaque token; the empty context is the empty token.
func EncodeToken(c Context, item uint32) string {
	if c.IsEmpty() {
		return ""
	}
	// Room for the context of a few actors, so that it is one allocation.
	b := make([]byte, 5, 128)
	b[0] = tokenVersion
	binary.BigEndian.PutUint32(b[1:], item)
	b = AppendContext(b, c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeToken parses a token made by EncodeToken for the item whose
// fingerprint is item; empty means none.
func DecodeToken(tok string, item uint32) (Context, error) {
	if tok == "" {
		return Context{}, nil
	}
	if len(tok) > MaxTokenLen {
		return Context{}, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadToken, len(tok), MaxTokenLen)
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 {
		return Context{}, ErrBadToken
	}
	switch b[0] {
	case tokenUnbound:
		b = b[1:]
	case tokenVersion:
		if len(b) < 5 {
			return Context{}, ErrBadToken
		}
		if binary.BigEndian.Uint32(b[1:5]) != item {
			return Context{}, ErrOtherItem
		}
		b = b[5:]
	default:
		return Context{}, ErrBadToken
	}
	c, err := DecodeContext(b)
	if err != nil {
		return Context{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	return c, nil
}
