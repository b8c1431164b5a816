package membership_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/ring"
)

const q = ring.DefaultQ

// ids returns n1..nN.
func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("n%d", i+1)
	}
	return out
}

// sameState reports whether two views are equal as states.
func sameState(a, b membership.State) bool {
	return a.Q == b.Q && maps.Equal(a.Members, b.Members)
}

func serving(t testing.TB, s membership.State) *ring.Ring {
	t.Helper()
	r, err := s.Serving()
	if err != nil {
		t.Fatalf("Serving of %+v: %v", s.Sorted(), err)
	}
	return r
}

func target(t testing.TB, s membership.State) *ring.Ring {
	t.Helper()
	r, err := s.Target()
	if err != nil {
		t.Fatalf("Target of %+v: %v", s.Sorted(), err)
	}
	return r
}

// owners lists the owner of every partition.
func owners(r *ring.Ring) []ring.NodeID {
	out := make([]ring.NodeID, r.Q())
	for p := range out {
		out[p] = r.Owner(ring.Partition(p))
	}
	return out
}

// ringDiff describes the first difference between two rings (owners,
// nodes or walks), or returns "" when they are the same.
func ringDiff(a, b *ring.Ring) string {
	if a.Q() != b.Q() {
		return fmt.Sprintf("Q %d vs %d", a.Q(), b.Q())
	}
	if !slices.Equal(a.Nodes(), b.Nodes()) {
		return fmt.Sprintf("nodes %v vs %v", a.Nodes(), b.Nodes())
	}
	for p := range a.Q() {
		part := ring.Partition(p)
		if a.Owner(part) != b.Owner(part) {
			return fmt.Sprintf("partition %d owned by %s vs %s", p, a.Owner(part), b.Owner(part))
		}
		if !slices.Equal(a.Walk(part), b.Walk(part)) {
			return fmt.Sprintf("partition %d walks %v vs %v", p, a.Walk(part), b.Walk(part))
		}
	}
	return ""
}

// moved lists the partitions whose owner differs between two rings.
func moved(a, b *ring.Ring) []ring.Partition {
	var out []ring.Partition
	for p := range a.Q() {
		if a.Owner(ring.Partition(p)) != b.Owner(ring.Partition(p)) {
			out = append(out, ring.Partition(p))
		}
	}
	return out
}

func nodeIDs(ss ...string) []ring.NodeID {
	out := make([]ring.NodeID, len(ss))
	for i, s := range ss {
		out[i] = ring.NodeID(s)
	}
	slices.Sort(out)
	return out
}

// bootstrap returns the state every node of the initial list builds.
func bootstrap(members ...string) membership.State {
	return membership.Local{ID: members[0]}.Bootstrap(membership.NewState(q), members)
}

// readyAll marks every member of s ready in turn, as if each had pulled
// its data and gossiped its record back.
func readyAll(s membership.State) membership.State {
	for _, m := range s.Sorted() {
		s = membership.Local{ID: m.ID, Weight: m.Weight}.MarkReady(s)
	}
	return s
}

// advanceAll lets every member complete its own transition in turn.
func advanceAll(s membership.State) membership.State {
	for _, m := range s.Sorted() {
		s = membership.Local{ID: m.ID, Weight: m.Weight}.Advance(s)
	}
	return s
}

func status(s membership.State, id string) membership.Status { return s.Members[id].Status }
