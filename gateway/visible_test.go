package gateway

import (
	"testing"

	"github.com/ringtable/ringtable/vclock"
)

// One client write that two replicas stamped (a coordinator's retry) is
// shown once; distinct writes, and versions without a request ID, are
// all shown, in the set's order.
func TestOncePerWrite(t *testing.T) {
	v := func(actor string, write uint64) vclock.Version {
		return vclock.Version{Clock: vclock.Clock{Dot: vclock.Dot{Actor: vclock.Actor(actor), Counter: 1}}, Value: []byte(`{}`), Write: write}
	}
	for _, tc := range []struct {
		name string
		in   vclock.Set
		want []string // actors of the versions shown
	}{
		{"empty", nil, nil},
		{"one", vclock.Set{v("a", 7)}, []string{"a"}},
		{"distinct writes", vclock.Set{v("a", 7), v("b", 8), v("c", 9)}, []string{"a", "b", "c"}},
		{"no request IDs", vclock.Set{v("a", 0), v("b", 0)}, []string{"a", "b"}},
		{"one write stamped twice", vclock.Set{v("a", 7), v("b", 7)}, []string{"a"}},
		{"stamped twice among others", vclock.Set{v("a", 5), v("b", 7), v("c", 6), v("d", 7), v("e", 0)}, []string{"a", "b", "c", "e"}},
		{"stamped three times", vclock.Set{v("a", 7), v("b", 7), v("c", 7), v("d", 8)}, []string{"a", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append(vclock.Set(nil), tc.in...)
			got := oncePerWrite(tc.in)
			var actors []string
			for _, x := range got {
				actors = append(actors, string(x.Clock.Dot.Actor))
			}
			if len(actors) != len(tc.want) {
				t.Fatalf("shown %v, want %v", actors, tc.want)
			}
			for i := range actors {
				if actors[i] != tc.want[i] {
					t.Fatalf("shown %v, want %v", actors, tc.want)
				}
			}
			for i := range in {
				if in[i].Clock.Dot != tc.in[i].Clock.Dot {
					t.Fatalf("the stored set was changed: %v, was %v", tc.in, in)
				}
			}
		})
	}
}

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
