package gateway

import (
	"encoding/base64"

	"github.com/ringtable/ringtable/vclock"
)

// tokenVersion starts every context token so the encoding can change.
const tokenVersion = 1

// maxTokenLen bounds a context token before decoding.
const maxTokenLen = 64 << 10

// encodeContext renders a context as an opaque token for clients.
func encodeContext(c vclock.Context) string {
	if c.IsEmpty() {
		return ""
	}
	b := vclock.AppendContext([]byte{tokenVersion}, c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeContext parses a client's context token; empty means none.
func decodeContext(tok string) (vclock.Context, error) {
	if tok == "" {
		return vclock.Context{}, nil
	}
	if len(tok) > maxTokenLen {
		return vclock.Context{}, badRequest("context token is %d bytes, at most %d allowed", len(tok), maxTokenLen)
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || b[0] != tokenVersion {
		return vclock.Context{}, badRequest("invalid context token: use the context returned by a read of this item")
	}
	c, err := vclock.DecodeContext(b[1:])
	if err != nil {
		return vclock.Context{}, badRequest("invalid context token: %v", err)
	}
	return c, nil
}
