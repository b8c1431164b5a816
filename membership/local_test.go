package membership_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/ring"
)

func TestBootstrapBuildsOneRing(t *testing.T) {
	initial := ids(3)
	var views []membership.State
	for _, id := range initial {
		views = append(views, membership.Local{ID: id}.Bootstrap(membership.NewState(q), initial))
	}
	for i, v := range views {
		if !sameState(v, views[0]) {
			t.Fatalf("%s bootstrapped %+v, n1 %+v", initial[i], v.Sorted(), views[0].Sorted())
		}
	}
	s := views[0]
	if s.Transitioning() {
		t.Fatal("a bootstrapped ring is transitioning")
	}
	for _, m := range s.Sorted() {
		if m.Status != membership.Active || m.Joined != 1 || m.Version != 1 {
			t.Errorf("bootstrapped record %+v, want active, joined 1, version 1", m)
		}
	}
	if d := ringDiff(serving(t, s), target(t, s)); d != "" {
		t.Fatalf("bootstrapped serving and target rings differ: %s", d)
	}
	if got := serving(t, s).Nodes(); !slices.Equal(got, nodeIDs(initial...)) {
		t.Fatalf("serving nodes %v, want %v", got, initial)
	}
	// Bootstrapping again, or over a merged view, changes nothing.
	if again := (membership.Local{ID: "n2"}).Bootstrap(s, initial); !sameState(again, s) {
		t.Fatalf("second Bootstrap changed the state: %+v", again.Sorted())
	}
}

// TestJoinTransition follows a fourth node through its join: it is in the
// target ring but not the serving ring until every member is ready for the
// target's epoch; then the serving ring is the target, and the node
// advances to active.
func TestJoinTransition(t *testing.T) {
	s := bootstrap(ids(3)...)
	before := serving(t, s)
	epoch0 := s.Epoch()
	n4 := membership.Local{ID: "n4"}

	s, _ = s.Merge(n4.Announce(membership.NewState(q)))
	if status(s, "n4") != membership.Waiting || s.Transitioning() || s.Epoch() != epoch0 {
		t.Fatalf("after Announce: n4 %+v, transitioning %v, epoch %s (was %s)", s.Members["n4"], s.Transitioning(), s.Epoch(), epoch0)
	}
	if d := ringDiff(target(t, s), before); d != "" {
		t.Fatalf("a waiting member changed the target ring: %s", d)
	}

	s, err := n4.Join(s)
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Members["n4"]; m.Status != membership.Joining || m.Joined != 2 || m.Version != 2 {
		t.Fatalf("after Join: %+v, want joining at sequence 2, version 2", m)
	}
	if !s.Transitioning() {
		t.Fatal("not transitioning while n4 joins")
	}
	epoch := s.Epoch()
	if epoch == epoch0 {
		t.Fatal("Join did not change the epoch")
	}
	if d := ringDiff(serving(t, s), before); d != "" {
		t.Fatalf("the serving ring changed on Join: %s", d)
	}
	tgt := target(t, s)
	if got := tgt.Nodes(); !slices.Equal(got, nodeIDs("n1", "n2", "n3", "n4")) {
		t.Fatalf("target nodes %v, want n1..n4", got)
	}
	if len(tgt.Partitions("n4")) == 0 {
		t.Fatal("n4 owns nothing in the target ring")
	}

	// Every member readies in turn; until the last one has, nobody can
	// advance and the epoch holds.
	for i, id := range []string{"n4", "n1", "n2", "n3"} {
		if s.AllReady() {
			t.Fatalf("AllReady before %s is ready", id)
		}
		if got := n4.Advance(s); !sameState(got, s) {
			t.Fatalf("n4 advanced before %s was ready: %+v", id, got.Members["n4"])
		}
		if d := ringDiff(serving(t, s), before); d != "" {
			t.Fatalf("the serving ring changed before %s was ready: %s", id, d)
		}
		s = membership.Local{ID: id}.MarkReady(s)
		if s.Members[id].Ready != epoch || s.Epoch() != epoch {
			t.Fatalf("step %d: %s ready %q, epoch %s, want %s", i, id, s.Members[id].Ready, s.Epoch(), epoch)
		}
		if again := (membership.Local{ID: id}).MarkReady(s); !sameState(again, s) {
			t.Fatalf("MarkReady of %s twice bumped its record", id)
		}
	}
	if !s.AllReady() {
		t.Fatal("not AllReady once every member is ready")
	}
	if d := ringDiff(serving(t, s), tgt); d != "" {
		t.Fatalf("serving ring is not the target once all are ready: %s", d)
	}
	// Active members have nothing to advance.
	if got := (membership.Local{ID: "n1"}).Advance(s); !sameState(got, s) {
		t.Fatalf("Advance of active n1 changed the state: %+v", got.Members["n1"])
	}
	s = n4.Advance(s)
	if status(s, "n4") != membership.Active || s.Transitioning() {
		t.Fatalf("after Advance: n4 %+v, transitioning %v", s.Members["n4"], s.Transitioning())
	}
	if s.Epoch() != epoch {
		t.Fatalf("epoch changed from %s to %s when n4 became active", epoch, s.Epoch())
	}
	if d := ringDiff(serving(t, s), tgt); d != "" {
		t.Fatalf("serving ring after the join is not the target: %s", d)
	}
	if d := ringDiff(target(t, s), tgt); d != "" {
		t.Fatalf("target ring changed when n4 became active: %s", d)
	}
}

// TestLeaveTransition: a leaving member serves until every member (itself
// included) is ready for the target, then advances to Left; the serving
// ring is then the earlier target, and the member owns nothing again,
// whatever joins and leaves follow.
func TestLeaveTransition(t *testing.T) {
	s := advanceAll(readyAll(mustJoin(t, bootstrap(ids(4)...), "n5")))
	if s.Transitioning() {
		t.Fatal("join of n5 did not complete")
	}
	before := serving(t, s)
	n2 := membership.Local{ID: "n2"}
	s, err := n2.Leave(s)
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Members["n2"]; m.Status != membership.Leaving || m.Left != 3 {
		t.Fatalf("after Leave: %+v, want leaving at sequence 3", m)
	}
	if !s.Transitioning() {
		t.Fatal("not transitioning while n2 leaves")
	}
	if d := ringDiff(serving(t, s), before); d != "" {
		t.Fatalf("the serving ring changed on Leave: %s", d)
	}
	tgt := target(t, s)
	if got := tgt.Nodes(); slices.Contains(got, "n2") {
		t.Fatalf("target ring still holds the leaving n2: %v", got)
	}

	// The leaving member itself must be ready: it hands its data over.
	for _, id := range []string{"n1", "n3", "n4", "n5"} {
		s = membership.Local{ID: id}.MarkReady(s)
		if d := ringDiff(serving(t, s), before); d != "" || !slices.Contains(serving(t, s).Nodes(), "n2") {
			t.Fatalf("the serving ring changed before n2 was ready: %s", d)
		}
	}
	if s.AllReady() {
		t.Fatal("AllReady while leaving n2 is not ready")
	}
	if got := n2.Advance(s); !sameState(got, s) {
		t.Fatal("n2 advanced before it was ready")
	}
	s = n2.MarkReady(s)
	epoch := s.Epoch()
	if !s.AllReady() {
		t.Fatal("not AllReady once every member is ready")
	}
	if d := ringDiff(serving(t, s), tgt); d != "" {
		t.Fatalf("serving ring is not the target once all are ready: %s", d)
	}
	s = n2.Advance(s)
	if status(s, "n2") != membership.Left || s.Transitioning() || s.Epoch() != epoch {
		t.Fatalf("after Advance: n2 %+v, transitioning %v, epoch %s (was %s)", s.Members["n2"], s.Transitioning(), s.Epoch(), epoch)
	}
	if d := ringDiff(serving(t, s), tgt); d != "" {
		t.Fatalf("serving ring after the leave is not the earlier target: %s", d)
	}
	if got := s.Alive(); slices.Contains(got, "n2") {
		t.Fatalf("Alive() = %v holds the left n2", got)
	}

	// n2 never owns a partition again.
	gone := func(step string) {
		t.Helper()
		for name, r := range map[string]*ring.Ring{"serving": serving(t, s), "target": target(t, s)} {
			if slices.Contains(r.Nodes(), "n2") || len(r.Partitions("n2")) > 0 {
				t.Fatalf("%s: left n2 is in the %s ring (%d partitions)", step, name, len(r.Partitions("n2")))
			}
		}
	}
	gone("left")
	if _, err := n2.Join(s); !errors.Is(err, membership.ErrWrongState) {
		t.Fatalf("Join of left n2: %v, want ErrWrongState", err)
	}
	s = mustJoin(t, s, "n6", "n7")
	gone("n6, n7 joining")
	// The joins come after the leave in the replay, so they move
	// partitions only to the joiners.
	if j, l := s.Members["n6"].Joined, s.Members["n2"].Left; j <= l {
		t.Fatalf("n6 joined at %d, not after n2 left at %d", j, l)
	}
	for _, p := range moved(serving(t, s), target(t, s)) {
		if o := target(t, s).Owner(p); o != "n6" && o != "n7" {
			t.Fatalf("joins of n6, n7 move partition %d to %s", p, o)
		}
	}
	s = advanceAll(readyAll(s))
	gone("n6, n7 joined")
	s, err = membership.Local{ID: "n1"}.Leave(s)
	if err != nil {
		t.Fatal(err)
	}
	gone("n1 leaving")
	s = advanceAll(readyAll(s))
	gone("n1 left")
	if got := serving(t, s).Nodes(); !slices.Equal(got, nodeIDs("n3", "n4", "n5", "n6", "n7")) {
		t.Fatalf("serving nodes %v, want n3..n7", got)
	}
}

// mustJoin announces and joins each id on s, all at the same sequence.
func mustJoin(t *testing.T, s membership.State, joiners ...string) membership.State {
	t.Helper()
	seq := s.NextSeq()
	out := s
	for _, id := range joiners {
		l := membership.Local{ID: id}
		// Each joiner picks its sequence from the state it learned, the
		// same for all: they join at the same moment.
		j, err := l.Join(l.Announce(s))
		if err != nil {
			t.Fatalf("Join %s: %v", id, err)
		}
		if got := j.Members[id].Joined; got != seq {
			t.Fatalf("%s joined at %d, want %d", id, got, seq)
		}
		out, _ = out.Merge(j)
	}
	return out
}

func TestNotReadyBlocksAllReady(t *testing.T) {
	s := bootstrap(ids(4)...)
	s, _ = s.Merge(membership.Local{ID: "n9"}.Announce(membership.NewState(q))) // waiting: never needed
	s = mustJoin(t, s, "n5")
	s, err := membership.Local{ID: "n2"}.Leave(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, laggard := range []string{"n1", "n2", "n5"} { // active, leaving, joining
		t.Run(laggard, func(t *testing.T) {
			r := s
			for _, m := range s.Sorted() {
				if m.ID != laggard && m.Status != membership.Waiting {
					r = membership.Local{ID: m.ID}.MarkReady(r)
				}
			}
			if r.AllReady() {
				t.Fatalf("AllReady while %s (%s) is not ready", laggard, status(r, laggard))
			}
			if got := advanceAll(r); !sameState(got, r) {
				t.Fatalf("a member advanced while %s is not ready", laggard)
			}
			r = membership.Local{ID: laggard}.MarkReady(r)
			if !r.AllReady() {
				t.Fatal("not AllReady once the laggard is ready (a waiting member must not count)")
			}
		})
	}

	// Readiness for an older epoch does not count: another join during
	// the transition makes every member ready again.
	r := readyAll(s)
	if !r.AllReady() {
		t.Fatal("not AllReady after readyAll")
	}
	r = mustJoin(t, r, "n6")
	if r.AllReady() {
		t.Fatal("AllReady right after another join: readiness is for the old epoch")
	}
	r = advanceAll(readyAll(r))
	for _, id := range []string{"n5", "n6"} {
		if status(r, id) != membership.Active {
			t.Errorf("%s is %s after everyone readied and advanced", id, status(r, id))
		}
	}
	if status(r, "n2") != membership.Left || status(r, "n9") != membership.Waiting {
		t.Errorf("n2 %s, n9 %s; want left, waiting", status(r, "n2"), status(r, "n9"))
	}
}

func TestLocalErrorsAndIdempotence(t *testing.T) {
	base := bootstrap(ids(3)...)
	base, _ = base.Merge(membership.Local{ID: "w"}.Announce(membership.NewState(q)))
	joining := mustJoin(t, base, "j")
	leaving, err := membership.Local{ID: "n3"}.Leave(joining)
	if err != nil {
		t.Fatal(err)
	}
	left := advanceAll(readyAll(leaving))
	if status(left, "n3") != membership.Left || status(left, "j") != membership.Active {
		t.Fatalf("n3 %s, j %s; want left, active", status(left, "n3"), status(left, "j"))
	}

	tests := []struct {
		name    string
		s       membership.State
		id      string
		op      func(membership.Local, membership.State) (membership.State, error)
		wantErr error // nil: no error and no change
	}{
		{"join of a left member", left, "n3", membership.Local.Join, membership.ErrWrongState},
		{"leave of a waiting member", base, "w", membership.Local.Leave, membership.ErrWrongState},
		{"leave of a joining member", joining, "j", membership.Local.Leave, membership.ErrWrongState},
		{"leave of a stranger", base, "x", membership.Local.Leave, membership.ErrNotMember},
		{"join of an active member", base, "n1", membership.Local.Join, nil},
		{"join of a joining member", joining, "j", membership.Local.Join, nil},
		{"join of a leaving member", leaving, "n3", membership.Local.Join, nil},
		{"leave of a leaving member", leaving, "n3", membership.Local.Leave, nil},
		{"leave of a left member", left, "n3", membership.Local.Leave, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.s.Clone()
			got, err := tt.op(membership.Local{ID: tt.id}, tt.s)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !sameState(got, orig) || !sameState(tt.s, orig) {
				t.Fatalf("state changed: %+v, was %+v", got.Members[tt.id], orig.Members[tt.id])
			}
		})
	}

	// Join and Leave applied twice equal applied once.
	w := membership.Local{ID: "w"}
	once, err := w.Join(base)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := w.Join(once)
	if err != nil || !sameState(once, twice) {
		t.Fatalf("second Join: %v, %+v vs %+v", err, twice.Members["w"], once.Members["w"])
	}
	if again := w.Announce(once); !sameState(again, once) {
		t.Fatal("Announce of a joining member changed it")
	}
	once, err = membership.Local{ID: "n1"}.Leave(base)
	if err != nil {
		t.Fatal(err)
	}
	twice, err = membership.Local{ID: "n1"}.Leave(once)
	if err != nil || !sameState(once, twice) {
		t.Fatalf("second Leave: %v, %+v vs %+v", err, twice.Members["n1"], once.Members["n1"])
	}
}

// TestBootstrapWeights: each node of the initial list knows only its own
// weight (it records the others with none, at the same version). Merging
// the views, in any order, keeps every node's own weight, so all nodes
// build one weighted ring.
func TestBootstrapWeights(t *testing.T) {
	weights := map[string]int{"n1": 1, "n2": 2, "n3": 10, "n4": 0}
	initial := ids(4)
	var views []membership.State
	for _, id := range initial {
		views = append(views, membership.Local{ID: id, Weight: weights[id]}.Bootstrap(membership.NewState(q), initial))
	}
	for _, order := range permutations([]string{"0", "1", "2", "3"}) {
		s := membership.NewState(q)
		for _, i := range order {
			s, _ = s.Merge(views[i[0]-'0'])
		}
		for id, w := range weights {
			if got := s.Members[id].Weight; got != w {
				t.Fatalf("merge order %v: %s has weight %d, want %d", order, id, got, w)
			}
		}
		r := serving(t, s)
		if got := len(r.Partitions("n3")); got < 4*len(r.Partitions("n2")) {
			t.Fatalf("merge order %v: n3 (weight 10) owns %d partitions, n2 (weight 2) %d", order, got, len(r.Partitions("n2")))
		}
	}
}
