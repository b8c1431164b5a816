package membership_test

import (
	"maps"
	"testing"

	"github.com/ringtable/ringtable/membership"
)

// st builds a state of ring size q from records.
func st(q int, ms ...membership.Member) membership.State {
	s := membership.NewState(q)
	for _, m := range ms {
		s.Members[m.ID] = m
	}
	return s
}

func mem(id string, version uint64, status membership.Status) membership.Member {
	return membership.Member{ID: id, Joined: 1, Status: status, Version: version}
}

// checkMergeLaws checks that Merge is commutative, associative and
// idempotent on a, b and c, that it keeps the newest record of every
// member, reports changes truthfully and leaves its inputs alone.
func checkMergeLaws(t *testing.T, a, b, c membership.State) {
	t.Helper()
	inputs := []membership.State{a, b, c}
	before := make([]membership.State, len(inputs))
	for i, s := range inputs {
		before[i] = s.Clone()
	}
	merge := func(x, y membership.State) membership.State {
		t.Helper()
		out, changed := x.Merge(y)
		if changed == sameState(x, out) {
			t.Errorf("Merge(%v, %v) reported changed=%v, result %v", x.Sorted(), y.Sorted(), changed, out.Sorted())
		}
		return out
	}
	ab, ba := merge(a, b), merge(b, a)
	if !sameState(ab, ba) {
		t.Errorf("not commutative:\na∪b = %+v\nb∪a = %+v", ab.Sorted(), ba.Sorted())
	}
	l, r := merge(merge(a, b), c), merge(a, merge(b, c))
	if !sameState(l, r) {
		t.Errorf("not associative:\n(a∪b)∪c = %+v\na∪(b∪c) = %+v", l.Sorted(), r.Sorted())
	}
	for _, s := range inputs {
		if got := merge(s, s); !sameState(got, s) {
			t.Errorf("not idempotent: s∪s = %+v, s = %+v", got.Sorted(), s.Sorted())
		}
	}
	if got := merge(ab, b); !sameState(got, ab) {
		t.Errorf("merging b again changed a∪b: %+v, want %+v", got.Sorted(), ab.Sorted())
	}

	// The union holds every member, each with a record taken from an
	// input and at least as new as every input's record.
	all := merge(merge(a, b), c)
	for _, s := range inputs {
		for id, m := range s.Members {
			got, ok := all.Members[id]
			if !ok {
				t.Errorf("member %s missing from the union", id)
				continue
			}
			if got.Version < m.Version {
				t.Errorf("member %s: union holds version %d, an input has %d", id, got.Version, m.Version)
			}
		}
	}
	for id, got := range all.Members {
		found := false
		for _, s := range inputs {
			if m, ok := s.Members[id]; ok && m == got {
				found = true
			}
		}
		if !found {
			t.Errorf("member %s: union record %+v is in no input", id, got)
		}
	}
	for i, s := range inputs {
		if !sameState(s, before[i]) {
			t.Errorf("Merge modified input %d: %+v, was %+v", i, s.Sorted(), before[i].Sorted())
		}
	}
}

func TestMergeLaws(t *testing.T) {
	joining := membership.Member{ID: "n2", Joined: 2, Status: membership.Joining, Version: 1}
	ready := joining
	ready.Ready, ready.Version = "e1", 2
	active := ready
	active.Status, active.Version = membership.Active, 3
	// Same version, different content: a record rewritten after its node
	// lost its disk.
	rewritten := membership.Member{ID: "n2", Joined: 5, Status: membership.Joining, Version: 3}

	tests := []struct {
		name    string
		a, b, c membership.State
	}{
		{"empty", st(q), st(q), st(q)},
		{"zero value", membership.State{}, st(q, mem("n1", 1, membership.Active)), membership.State{}},
		{"zero q adopts the other's", st(0, mem("n1", 1, membership.Active)), st(q), st(0)},
		{"disjoint", st(q, mem("n1", 1, membership.Active)), st(q, mem("n2", 1, membership.Active)), st(q, mem("n3", 4, membership.Waiting))},
		{"newer on either side", st(q, mem("n1", 1, membership.Active), joining), st(q, mem("n1", 2, membership.Leaving), ready), st(q, active)},
		{"older overlapping", st(q, active, mem("n1", 7, membership.Left)), st(q, joining, mem("n1", 2, membership.Leaving)), st(q, ready)},
		{"equal versions different content", st(q, active), st(q, rewritten), st(q, mem("n1", 1, membership.Active))},
		{"equal versions, weight", st(q, membership.Member{ID: "n1", Weight: 3, Joined: 1, Status: membership.Active, Version: 1}),
			st(q, mem("n1", 1, membership.Active)), st(q, membership.Member{ID: "n1", Weight: 10, Joined: 1, Status: membership.Active, Version: 1})},
		{"identical", st(q, active, joining), st(q, active, joining), st(q, active, joining)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMergeLaws(t, tt.a, tt.b, tt.c)
			checkMergeLaws(t, tt.c, tt.a, tt.b)
		})
	}
}

func TestMergeKeepsNewer(t *testing.T) {
	old := st(q, mem("n1", 1, membership.Active), mem("n2", 4, membership.Leaving))
	upd := st(q, mem("n1", 2, membership.Leaving), mem("n2", 3, membership.Active), mem("n3", 1, membership.Waiting))
	got, changed := old.Merge(upd)
	if !changed {
		t.Fatal("Merge with newer records reported no change")
	}
	want := st(q, mem("n1", 2, membership.Leaving), mem("n2", 4, membership.Leaving), mem("n3", 1, membership.Waiting))
	if !maps.Equal(got.Members, want.Members) {
		t.Fatalf("Merge = %+v, want %+v", got.Sorted(), want.Sorted())
	}
	if _, changed := got.Merge(old); changed {
		t.Fatal("merging an older view reported a change")
	}
}

// decodeState builds a state from fuzz bytes: realistic records (IDs
// n0..n4, statuses from the enum, small numbers), so equal versions with
// different content are frequent.
func decodeState(data []byte) (membership.State, []byte) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	statuses := []membership.Status{membership.Waiting, membership.Joining, membership.Active, membership.Leaving, membership.Left}
	readies := []string{"", "e1", "e2"}
	s := membership.NewState(q)
	zero := next()%4 == 0
	n := next() % 6
	switch {
	case zero && n == 0:
		return membership.State{}, data // a fresh node's zero view
	case zero:
		s.Q = 0 // a view that has not learned Q
	}
	for ; n > 0; n-- {
		b := next()
		id := string([]byte{'n', '0' + b%5})
		s.Members[id] = membership.Member{
			ID:      id,
			Weight:  int(b/5) % 3,
			Joined:  uint64(next() % 4),
			Left:    uint64(next() % 3),
			Status:  statuses[next()%5],
			Ready:   readies[next()%3],
			Version: uint64(next() % 4),
		}
	}
	return s, data
}

func FuzzMergeLaws(f *testing.F) {
	f.Add([]byte{1, 3, 0, 1, 0, 2, 0, 1, 6, 1, 2, 0, 2, 1, 2, 1, 1, 1, 1, 0, 1, 2, 1, 3, 2})
	f.Add([]byte{1, 2, 5, 1, 0, 1, 1, 2, 5, 2, 0, 3, 0, 2, 1, 5, 1, 0, 2, 1, 3})
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, rest := decodeState(data)
		b, rest := decodeState(rest)
		c, _ := decodeState(rest)
		checkMergeLaws(t, a, b, c)
	})
}
