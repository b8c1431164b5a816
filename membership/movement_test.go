package membership_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/ring"
)

// TestJoinMovesOnlyToTheJoiner: a sixth node joining five active ones, as
// a Join through the State API, takes about a sixth of the partitions and
// is the only node that gains any. Reference: Dynamo §6.2, strategy 3.
func TestJoinMovesOnlyToTheJoiner(t *testing.T) {
	for _, tc := range []struct {
		q      int
		joiner string
	}{{256, "n6"}, {1024, "n6"}, {256, "a0"}, {64, "zz"}} {
		t.Run(fmt.Sprintf("q=%d/%s", tc.q, tc.joiner), func(t *testing.T) {
			initial := ids(5)
			s := membership.Local{ID: "n1"}.Bootstrap(membership.NewState(tc.q), initial)
			before := serving(t, s)
			s = mustJoin(t, s, tc.joiner)
			if d := ringDiff(serving(t, s), before); d != "" {
				t.Fatalf("Join changed the serving ring: %s", d)
			}
			after := target(t, s)
			mv := moved(before, after)
			limit := float64(tc.q) * (1.0/6 + 0.03)
			if float64(len(mv)) > limit {
				t.Errorf("join moved %d of %d partitions, want at most %.1f", len(mv), tc.q, limit)
			}
			if len(mv) == 0 {
				t.Fatal("join moved nothing")
			}
			for _, p := range mv {
				if o := after.Owner(p); o != ring.NodeID(tc.joiner) {
					t.Fatalf("partition %d moved from %s to %s, not to the joiner", p, before.Owner(p), o)
				}
			}
			if got := len(after.Partitions(ring.NodeID(tc.joiner))); got != len(mv) {
				t.Fatalf("joiner owns %d partitions, %d moved", got, len(mv))
			}
			s = advanceAll(readyAll(s))
			if d := ringDiff(serving(t, s), after); d != "" {
				t.Fatalf("serving ring after the join is not the target: %s", d)
			}
			t.Logf("moved %d of %d (limit %.1f)", len(mv), tc.q, limit)
		})
	}
}

// TestLeaveMovesOnlyTheLeaversPartitions: whichever of six nodes leaves,
// exactly its partitions change owner.
func TestLeaveMovesOnlyTheLeaversPartitions(t *testing.T) {
	s := advanceAll(readyAll(mustJoin(t, bootstrap(ids(5)...), "n6")))
	if s.Transitioning() {
		t.Fatal("join of n6 did not complete")
	}
	for _, leaver := range ids(6) {
		t.Run(leaver, func(t *testing.T) {
			l, err := membership.Local{ID: leaver}.Leave(s)
			if err != nil {
				t.Fatal(err)
			}
			before, after := serving(t, l), target(t, l)
			if d := ringDiff(before, serving(t, s)); d != "" {
				t.Fatalf("Leave changed the serving ring: %s", d)
			}
			mv := moved(before, after)
			if want := before.Partitions(ring.NodeID(leaver)); !slices.Equal(mv, want) {
				t.Fatalf("moved partitions %v, want exactly %s's %v", mv, leaver, want)
			}
			for _, p := range mv {
				if after.Owner(p) == ring.NodeID(leaver) {
					t.Fatalf("partition %d still owned by %s", p, leaver)
				}
			}
			l = advanceAll(readyAll(l))
			if status(l, leaver) != membership.Left {
				t.Fatalf("%s is %s after the transition", leaver, status(l, leaver))
			}
			if d := ringDiff(serving(t, l), after); d != "" {
				t.Fatalf("serving ring after the leave is not the target: %s", d)
			}
		})
	}
}
