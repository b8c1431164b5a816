package ring

import (
	"fmt"
	"slices"
	"testing"
)

// nodes returns n equal members n1..nN that joined in that order.
func nodes(n int) []Member {
	ms := make([]Member, n)
	for i := range ms {
		ms[i] = Member{ID: NodeID(fmt.Sprintf("n%d", i+1)), Joined: uint64(i + 1)}
	}
	return ms
}

func mustNew(t testing.TB, q int, ms []Member) *Ring {
	t.Helper()
	r, err := New(q, ms)
	if err != nil {
		t.Fatalf("New(%d, %+v): %v", q, ms, err)
	}
	return r
}

// owners lists the owner of every partition.
func owners(r *Ring) []NodeID {
	out := make([]NodeID, r.Q())
	for p := range out {
		out[p] = r.Owner(Partition(p))
	}
	return out
}

func counts(r *Ring) map[NodeID]int {
	c := map[NodeID]int{}
	for p := range r.Q() {
		c[r.Owner(Partition(p))]++
	}
	return c
}

// sameRing reports whether two rings assign and walk identically.
func sameRing(a, b *Ring) bool {
	if a.Q() != b.Q() || !slices.Equal(a.Nodes(), b.Nodes()) {
		return false
	}
	for p := range a.Q() {
		if !slices.Equal(a.Walk(Partition(p)), b.Walk(Partition(p))) {
			return false
		}
	}
	return slices.Equal(owners(a), owners(b))
}

// within reports whether got is within frac of want.
func within(got, want, frac float64) bool {
	return got >= want*(1-frac) && got <= want*(1+frac)
}

// checkRing verifies the structural invariants every ring keeps.
func checkRing(t testing.TB, r *Ring) {
	t.Helper()
	ns := r.Nodes()
	if len(ns) == 0 || !slices.IsSorted(ns) {
		t.Fatalf("Nodes() = %v, want sorted and non-empty", ns)
	}
	if len(slices.Compact(slices.Clone(ns))) != len(ns) {
		t.Fatalf("Nodes() has duplicates: %v", ns)
	}
	total := 0
	for _, id := range ns {
		ps := r.Partitions(id)
		total += len(ps)
		if !slices.IsSorted(ps) {
			t.Fatalf("Partitions(%s) not sorted", id)
		}
		for _, p := range ps {
			if r.Owner(p) != id {
				t.Fatalf("Partitions(%s) lists %d, owned by %s", id, p, r.Owner(p))
			}
		}
	}
	if total != r.Q() {
		t.Fatalf("nodes own %d partitions in all, want Q=%d", total, r.Q())
	}
	for p := range r.Q() {
		part := Partition(p)
		w := r.Walk(part)
		// The walk is the distinct owners met clockwise from p, then the
		// nodes that own no partition, in ID order.
		var want []NodeID
		for i := 0; i < r.Q() && len(want) < len(ns); i++ {
			if o := r.Owner(Partition((p + i) % r.Q())); !slices.Contains(want, o) {
				want = append(want, o)
			}
		}
		for _, id := range ns {
			if !slices.Contains(want, id) {
				want = append(want, id)
			}
		}
		if !slices.Equal(w, want) {
			t.Fatalf("Walk(%d) = %v, want %v", p, w, want)
		}
		if len(w) != len(ns) {
			t.Fatalf("Walk(%d) = %v does not hold every node of %v", p, w, ns)
		}
		sorted := slices.Sorted(slices.Values(w))
		if !slices.Equal(sorted, ns) {
			t.Fatalf("Walk(%d) = %v is not a permutation of %v", p, w, ns)
		}
		if w[0] != r.Owner(part) {
			t.Fatalf("Walk(%d) starts at %s, owner is %s", p, w[0], r.Owner(part))
		}
		for n := 0; n <= len(ns)+2; n++ {
			primary, fallbacks := r.Preference(part, n)
			k := min(n, len(ns))
			if !slices.Equal(primary, w[:k]) || !slices.Equal(fallbacks, w[k:]) {
				t.Fatalf("Preference(%d, %d) = %v, %v; walk %v", p, n, primary, fallbacks, w)
			}
		}
	}
}
