package vclock

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	c := Context{VV: VV{{Actor: "n1~a", Counter: 3, Stamp: 5}}, Dots: []Dot{{Actor: "n2~b", Counter: 9, Stamp: 6}}}
	tok := EncodeToken(c, 0xdeadbeef)
	got, err := DecodeToken(tok, 0xdeadbeef)
	if err != nil || !got.Equal(c) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if _, err := DecodeToken(tok, 0xdeadbeee); !errors.Is(err, ErrOtherItem) {
		t.Errorf("another item's token: %v, want ErrOtherItem", err)
	}
	// A token from before tokens named their item is taken for any item.
	old := base64.RawURLEncoding.EncodeToString(AppendContext([]byte{tokenUnbound}, c))
	if got, err := DecodeToken(old, 7); err != nil || !got.Equal(c) {
		t.Errorf("unbound token: %v %v", got, err)
	}
	if EncodeToken(Context{}, 1) != "" {
		t.Error("the empty context is the empty token")
	}
	if c, err := DecodeToken("", 1); err != nil || !c.IsEmpty() {
		t.Error("the empty token is the empty context")
	}
	for _, bad := range []string{"!!", "AA", "AgAAAA", "AwAAAAAA", strings.Repeat("A", MaxTokenLen+1)} {
		if _, err := DecodeToken(bad, 0); !errors.Is(err, ErrBadToken) {
			t.Errorf("DecodeToken(%.10q) = %v", bad, err)
		}
	}
}
