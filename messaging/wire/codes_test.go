package wire

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A reply carries an error's code and its message; the message must not
// carry the code too, or the receiver shows it twice.
func TestMessageOfLeavesTheCodeOut(t *testing.T) {
	we := Errorf(CodeTooManySiblings, "the item would have %d siblings", 3)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{we, "the item would have 3 siblings"},
		{fmt.Errorf("put k: %w", we), "put k: the item would have 3 siblings"},
		{errors.New("disk full"), "disk full"},
	} {
		got := MessageOf(tc.err)
		if got != tc.want {
			t.Errorf("MessageOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
		back := (&Error{Code: CodeOf(tc.err), Message: got}).Error()
		if strings.Count(back, CodeOf(tc.err).String()) != 1 {
			t.Errorf("received as %q: the code must appear once", back)
		}
	}
}
