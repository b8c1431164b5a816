package vclock

import (
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	c := Context{VV: VV{{Actor: "n1~a", Counter: 3, Stamp: 5}}, Dots: []Dot{{Actor: "n2~b", Counter: 9, Stamp: 6}}}
	tok := EncodeToken(c)
	got, err := DecodeToken(tok)
	if err != nil || !got.Equal(c) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if EncodeToken(Context{}) != "" {
		t.Error("the empty context is the empty token")
	}
	if c, err := DecodeToken(""); err != nil || !c.IsEmpty() {
		t.Error("the empty token is the empty context")
	}
	for _, bad := range []string{"!!", "AA", strings.Repeat("A", MaxTokenLen+1)} {
		if _, err := DecodeToken(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("DecodeToken(%.10q) = %v", bad, err)
		}
	}
}
