package vclock

import (
	"fmt"
	"testing"
)

// Riak's kv679: a node loses its data and comes back with the same actor
// name, its counters restart at 1, and its fresh dots collide with dots that
// other replicas still hold, so a new write looks already seen and is
// dropped. Actors are node incarnations ("n1~A", then "n1~B" after the disk
// loss), so new dots can never be mistaken for old ones.

// kv679Replicas returns the set the surviving replica n2 holds: n1~A wrote
// twice (the second write saw the first), n2 wrote once concurrently.
func kv679Replicas(t *testing.T) Set {
	t.Helper()
	var s Set
	s = s.Update(Context{}, ver(Dot{Actor: "n1~A", Counter: 1, Stamp: 100}, nil, "a1"), 0)
	s = s.Update(s.Context(), ver(Dot{Actor: "n1~A", Counter: 2, Stamp: 110}, nil, "a2"), 0)
	s = s.Update(Closed(VV{{Actor: "n1~A", Counter: 1, Stamp: 100}}), ver(Dot{Actor: "n2", Counter: 1, Stamp: 120}, nil, "b1"), 0)
	if got, want := fmt.Sprint(s.Dots()), "[n1~A:2 n2:1]"; got != want {
		t.Fatalf("setup: n2 holds %s, want %s", got, want)
	}
	return s
}

func TestKV679NewIncarnationWriteSurvives(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func(old Set) Context
	}{
		{"empty context", func(Set) Context { return Context{} }},
		{"stale context", func(Set) Context { return Closed(VV{{Actor: "n1~A", Counter: 1, Stamp: 100}}) }},
		{"context of the old incarnation's write", func(old Set) Context {
			v, _ := byDot(old, Dot{Actor: "n1~A", Counter: 2})
			return old.WriteContext(v)
		}},
		{"context read from the survivor", func(old Set) Context { return old.Context() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := kv679Replicas(t)
			// n1 lost its disk: its store is empty and it is now n1~B, with
			// a counter that starts again at 1.
			var reborn Set
			d := Dot{Actor: "n1~B", Counter: 1, Stamp: 200}
			reborn = reborn.Update(tc.ctx(old), ver(d, nil, "new"), 0)

			for _, got := range []Set{reborn.Sync(old), old.Sync(reborn)} {
				if !events(got)[eventOf(d)] {
					t.Fatalf("the new incarnation's write %v was dropped: %v", d, got.Dots())
				}
				checkSetInvariants(t, got)
			}
			// It supersedes exactly what its context covered.
			got := reborn.Sync(old)
			want := map[string]string{
				"empty context":                          "[n1~A:2 n1~B:1 n2:1]",
				"stale context":                          "[n1~A:2 n1~B:1 n2:1]",
				"context of the old incarnation's write": "[n1~B:1 n2:1]",
				"context read from the survivor":         "[n1~B:1]",
			}[tc.name]
			if fmt.Sprint(got.Dots()) != want {
				t.Fatalf("synced set = %v, want %s", got.Dots(), want)
			}
		})
	}
}

func TestKV679ReusedActorLosesWrite(t *testing.T) {
	old := kv679Replicas(t)
	// The same node comes back as the same actor n1~A with its counter
	// restarting at 1: its next write gets dot n1~A:1, which the survivor's
	// n1~A:2 already covers.
	var reborn Set
	d := Dot{Actor: "n1~A", Counter: 1, Stamp: 200}
	reborn = reborn.Update(Context{}, ver(d, nil, "new"), 0)
	if len(reborn) != 1 {
		t.Fatalf("the write is not even stored locally: %v", reborn.Dots())
	}
	for _, got := range []Set{reborn.Sync(old), old.Sync(reborn)} {
		for _, v := range got {
			if string(v.Value) == "new" {
				t.Fatalf("expected the reused actor's write to be lost, but it survived: %v", got.Dots())
			}
		}
		if fmt.Sprint(got.Dots()) != "[n1~A:2 n2:1]" {
			t.Fatalf("synced set = %v", got.Dots())
		}
	}

	// Exact collision: the survivor still holds n1~A:1 itself. The two
	// writes share a dot, so only one of them can survive, whichever order
	// the replicas sync in.
	var survivor Set
	survivor = survivor.Update(Context{}, ver(Dot{Actor: "n1~A", Counter: 1, Stamp: 100}, nil, "old"), 0)
	xy, yx := reborn.Sync(survivor), survivor.Sync(reborn)
	if len(xy) != 1 || !eqSet(xy, yx) {
		t.Fatalf("colliding dots: %+v / %+v, want one and the same survivor", xy, yx)
	}
	t.Logf("colliding dot n1~A:1: %q survived, %q was lost", xy[0].Value, map[string]string{"old": "new", "new": "old"}[string(xy[0].Value)])

	// With a new epoch the same two writes are siblings.
	var epoch Set
	epoch = epoch.Update(Context{}, ver(Dot{Actor: "n1~B", Counter: 1, Stamp: 200}, nil, "new"), 0)
	if got := epoch.Sync(survivor); len(got) != 2 {
		t.Fatalf("with a new epoch both writes must survive: %v", got.Dots())
	}
}
