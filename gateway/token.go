package gateway

import (
	"errors"

	"github.com/ringtable/ringtable/vclock"
)

// encodeContext renders the context of the item with fingerprint item as
// an opaque token for clients (the encoding lives in vclock: storage nodes
// put the same tokens in change events).
func encodeContext(c vclock.Context, item uint32) string { return vclock.EncodeToken(c, item) }

// decodeContext parses a client's context token for the item with
// fingerprint item; empty means none.
func decodeContext(tok string, item uint32) (vclock.Context, error) {
	c, err := vclock.DecodeToken(tok, item)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, vclock.ErrOtherItem):
		// Written with it, the other item's counters would make this
		// write supersede versions of this item it never saw.
		return vclock.Context{}, &BadRequestError{Msg: "the context was read from another item: use the context returned by a read or write of this item", Err: ErrContextOfAnotherItem}
	case len(tok) > vclock.MaxTokenLen:
		return vclock.Context{}, badRequest("context token is %d bytes, at most %d allowed", len(tok), vclock.MaxTokenLen)
	case errors.Is(err, vclock.ErrBadToken) && err.Error() == vclock.ErrBadToken.Error():
		return vclock.Context{}, badRequest("invalid context token: use the context returned by a read of this item")
	}
	return vclock.Context{}, badRequest("%v", err)
}
