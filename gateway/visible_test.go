package gateway

import (
	"testing"

	"github.com/ringtable/ringtable/vclock"
)

// A read of an item holding one write stamped twice shows one version,
// and its context covers both stamps.
func TestVisibleShowsARepeatedWriteOnce(t *testing.T) {
	a := vclock.Version{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n1~x", Counter: 3}}, Value: []byte(`{"v":1}`), Write: 42}
	b := vclock.Version{Clock: vclock.Clock{Dot: vclock.Dot{Actor: "n2~y", Counter: 5}}, Value: []byte(`{"v":1}`), Write: 42}
	s := vclock.Set{}.Sync(vclock.Set{a}).Sync(vclock.Set{b})
	if len(s) != 2 {
		t.Fatalf("stored set %v, want both stamps", s)
	}
	vis := visible(&Table{}, s, 0)
	if len(vis) != 1 || vis[0].Write != 42 {
		t.Fatalf("visible %v, want one version of write 42", vis)
	}
	ctx := s.Context()
	for _, x := range s {
		if !ctx.Covers(x.Clock.Dot) {
			t.Fatalf("the read's context %v does not cover %v", ctx, x.Clock.Dot)
		}
	}
}
