package membership_test

import (
	"testing"

	"github.com/ringtable/ringtable/membership"
)

// permutations returns every order of ids.
func permutations(ids []string) [][]string {
	if len(ids) <= 1 {
		return [][]string{ids}
	}
	var out [][]string
	for i := range ids {
		rest := append(append([]string{}, ids[:i]...), ids[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{ids[i]}, p...))
		}
	}
	return out
}

// TestServingAcrossMixedAdvances: when several members change in one
// epoch, they advance one at a time, and a view can see some advanced
// and others pending. Whatever the order, the serving ring of every such
// view is the old ring until all are ready and the target ring from then
// on, never a ring replayed from the mix (which would give partitions to
// nodes that pulled them for neither ring).
func TestServingAcrossMixedAdvances(t *testing.T) {
	leave := func(s membership.State, id string) membership.State {
		t.Helper()
		s, err := membership.Local{ID: id}.Leave(s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := bootstrap(ids(4)...)
	tests := []struct {
		name    string
		s       membership.State
		pending []string
	}{
		{"simultaneous joins", mustJoin(t, base, "n5", "n6"), []string{"n5", "n6"}},
		{"join then join", mustJoin(t, mustJoin(t, base, "n5"), "n6"), []string{"n5", "n6"}},
		{"join then leave", leave(mustJoin(t, base, "n5"), "n2"), []string{"n5", "n2"}},
		{"leave then join", mustJoin(t, leave(base, "n2"), "n5"), []string{"n2", "n5"}},
		{"two leaves", leave(leave(base, "n2"), "n3"), []string{"n2", "n3"}},
		{"three joins and a leave", leave(mustJoin(t, base, "n5", "n6", "n7"), "n1"), []string{"n5", "n6", "n7", "n1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, tgt := serving(t, tt.s), target(t, tt.s)
			if d := ringDiff(old, tgt); d == "" {
				t.Fatal("the change does not change the ring")
			}
			ready := readyAll(tt.s)
			for _, order := range permutations(tt.pending) {
				s := ready
				for i, id := range order {
					s = membership.Local{ID: id}.Advance(s)
					if d := ringDiff(serving(t, s), tgt); d != "" {
						t.Fatalf("order %v: after %d advances the serving ring is not the target: %s", order, i+1, d)
					}
				}
				if s.Transitioning() {
					t.Fatalf("order %v: still transitioning after every advance", order)
				}
			}
		})
	}
}
