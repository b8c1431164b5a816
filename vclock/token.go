package vclock

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// A context token is a Context as clients see it: opaque, URL-safe text.
// Gateways hand tokens out with reads and writes, and storage nodes put the
// same tokens in change events, so an application can write with the
// context of an event exactly as with that of a read.

// tokenVersion starts every context token so the encoding can change.
const tokenVersion = 1

// MaxTokenLen bounds a context token before decoding.
const MaxTokenLen = 64 << 10

// ErrBadToken is returned by DecodeToken for text that is not a context
// token.
var ErrBadToken = errors.New("vclock: invalid context token")

// EncodeToken renders a context as an opaque token; the empty context is
// the empty token.
func EncodeToken(c Context) string {
	if c.IsEmpty() {
		return ""
	}
	b := AppendContext([]byte{tokenVersion}, c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeToken parses a token made by EncodeToken; empty means none.
func DecodeToken(tok string) (Context, error) {
	if tok == "" {
		return Context{}, nil
	}
	if len(tok) > MaxTokenLen {
		return Context{}, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadToken, len(tok), MaxTokenLen)
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || b[0] != tokenVersion {
		return Context{}, ErrBadToken
	}
	c, err := DecodeContext(b[1:])
	if err != nil {
		return Context{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	return c, nil
}
