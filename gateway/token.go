package gateway

import (
	"errors"

	"github.com/ringtable/ringtable/vclock"
)

// encodeContext renders a context as an opaque token for clients (the
// encoding lives in vclock: storage nodes put the same tokens in change
// events).
func encodeContext(c vclock.Context) string { return vclock.EncodeToken(c) }

// decodeContext parses a client's context token; empty means none.
func decodeContext(tok string) (vclock.Context, error) {
	c, err := vclock.DecodeToken(tok)
	switch {
	case err == nil:
		return c, nil
	case len(tok) > vclock.MaxTokenLen:
		return vclock.Context{}, badRequest("context token is %d bytes, at most %d allowed", len(tok), vclock.MaxTokenLen)
	case errors.Is(err, vclock.ErrBadToken) && err.Error() == vclock.ErrBadToken.Error():
		return vclock.Context{}, badRequest("invalid context token: use the context returned by a read of this item")
	}
	return vclock.Context{}, badRequest("%v", err)
}
