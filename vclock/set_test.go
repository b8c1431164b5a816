package vclock

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSetUpdate(t *testing.T) {
	a1 := ver(dot("a", 1), nil, "a1")
	b1 := ver(dot("b", 1), nil, "b1")
	c1 := ver(dot("c", 1), nil, "c1")
	three := Set(nil).Sync(Set{a1, b1, c1})
	a2 := ver(dot("a", 2), nil, "a2") // blind, concurrent with a1
	a3 := ver(dot("a", 3), nil, "a3") // blind, concurrent with a1 and a2
	sameActor := Set(nil).Sync(Set{a1, a2, a3, b1})

	for _, tc := range []struct {
		name string
		s    Set
		ctx  Context
		new  Dot
		want []Dot
	}{
		{"first write", nil, Context{}, dot("n", 1), []Dot{dot("n", 1)}},
		{"empty context adds a sibling", Set{a1}, Context{}, dot("n", 1), []Dot{dot("a", 1), dot("n", 1)}},
		{"empty context keeps all siblings", three, Context{}, dot("n", 1), []Dot{dot("a", 1), dot("b", 1), dot("c", 1), dot("n", 1)}},
		{"read context replaces all", three, three.Context(), dot("n", 1), []Dot{dot("n", 1)}},
		{"partial context replaces exactly what it covers", three, parseCtx(t, "a:1 c:1"), dot("n", 1), []Dot{dot("b", 1), dot("n", 1)}},
		{"context of another item's actors replaces nothing", three, parseCtx(t, "x:9"), dot("n", 1), []Dot{dot("a", 1), dot("b", 1), dot("c", 1), dot("n", 1)}},
		{"same actor as a sibling, blind", Set{a1}, Context{}, dot("a", 2), []Dot{dot("a", 1), dot("a", 2)}},
		{"same actor as a sibling, with context", Set{a1}, parseCtx(t, "a:1"), dot("a", 2), []Dot{dot("a", 2)}},
		// A sibling whose past claims the new dot (a reused counter) is
		// still replaced when the context covers it.
		{"covered sibling that claims the new dot", Set{ver(dot("b", 1), parseVV(t, "n:5"), "b")}, parseCtx(t, "b:1"), dot("n", 3), []Dot{dot("n", 3)}},
		// Single dots replace exactly the events they name, never the
		// earlier events of the same actor.
		{"single dot replaces only its own version", sameActor, parseCtx(t, "| a:2"), dot("n", 1), []Dot{dot("a", 1), dot("a", 3), dot("b", 1), dot("n", 1)}},
		{"single dots and closed entries together", sameActor, parseCtx(t, "b:1 | a:1 a:3"), dot("n", 1), []Dot{dot("a", 2), dot("n", 1)}},
		{"closed entry replaces every earlier event", sameActor, parseCtx(t, "a:2"), dot("n", 1), []Dot{dot("a", 3), dot("b", 1), dot("n", 1)}},
		{"single dot of an event the set does not hold", sameActor, parseCtx(t, "| a:4 b:2"), dot("n", 1), []Dot{dot("a", 1), dot("a", 2), dot("a", 3), dot("b", 1), dot("n", 1)}},
		{"read context of siblings of one actor replaces all", sameActor, sameActor.Context(), dot("a", 4), []Dot{dot("a", 4)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.s)
			got := tc.s.Update(tc.ctx, ver(tc.new, parseVV(t, "zz:99"), "new"), 0)
			if !slices.Equal(got.Dots(), tc.want) {
				t.Fatalf("Update = %v, want %v", got.Dots(), tc.want)
			}
			checkSetInvariants(t, got)
			if !eqSet(tc.s, before) {
				t.Fatalf("Update modified its receiver")
			}
			// The new version's past is the context, whatever it held.
			i := slices.IndexFunc(got, func(v Version) bool { return v.Clock.Dot == tc.new })
			if !eqContext(got[i].Clock.Past, tc.ctx) {
				t.Fatalf("new version's past = %v, want the context %v", got[i].Clock.Past, tc.ctx)
			}
			if string(got[i].Value) != "new" {
				t.Fatalf("new version's value = %q", got[i].Value)
			}
		})
	}
}

func TestSetUpdatePrunesPast(t *testing.T) {
	s := Set{
		ver(dot("a", 1), nil, "a"),
		ver(dot("b", 1), nil, "b"),
	}
	ctx := Closed(VV{{Actor: "a", Counter: 1, Stamp: 1}, {Actor: "b", Counter: 1, Stamp: 3}, {Actor: "c", Counter: 4, Stamp: 2}})
	got := s.Update(ctx, ver(dot("n", 1), nil, "n"), 2)
	i := slices.IndexFunc(got, func(v Version) bool { return v.Clock.Dot == dot("n", 1) })
	if want := parseCtx(t, "b:1@3 c:4@2"); !eqContext(got[i].Clock.Past, want) {
		t.Fatalf("pruned past = %+v, want %+v", got[i].Clock.Past, want)
	}
	// The entry for a was pruned away: a:1 stays as a (spurious) sibling
	// rather than being dropped on a context the version no longer keeps.
	if want := []Dot{dot("a", 1), dot("n", 1)}; !slices.Equal(got.Dots(), want) {
		t.Fatalf("Update with pruning = %v, want %v", got.Dots(), want)
	}

	// Single dots are pruned the same way, oldest stamp first, separately
	// from the closed entries: a pruned dot's version stays a sibling.
	s = Set{
		ver(dot("a", 1), nil, "a1"),
		ver(Dot{Actor: "a", Counter: 2, Stamp: 5}, nil, "a2"),
		ver(Dot{Actor: "b", Counter: 7, Stamp: 1}, nil, "b7"),
		ver(Dot{Actor: "c", Counter: 3, Stamp: 8}, nil, "c3"),
	}
	ctx = parseCtx(t, "a:1@1 | a:2@5 b:7@1 c:3@8")
	got = s.Update(ctx, ver(dot("n", 1), nil, "n"), 2)
	i = slices.IndexFunc(got, func(v Version) bool { return v.Clock.Dot == dot("n", 1) })
	if want := parseCtx(t, "a:1@1 | a:2@5 c:3@8"); !eqContext(got[i].Clock.Past, want) {
		t.Fatalf("pruned past = %+v, want %+v", got[i].Clock.Past, want)
	}
	if want := []Dot{{Actor: "b", Counter: 7, Stamp: 1}, dot("n", 1)}; !slices.Equal(got.Dots(), want) {
		t.Fatalf("Update with pruned dots = %v, want %v", got.Dots(), want)
	}
}

func TestSetContext(t *testing.T) {
	if got := Set(nil).Context(); !got.IsEmpty() || got.VV != nil || got.Dots != nil {
		t.Fatalf("empty set context = %+v", got)
	}
	s := Set{
		ver(dot("a", 2), parseVV(t, "b:5 c:1"), "x"),
		ver(dot("b", 7), parseVV(t, "a:1 d:3"), "y"),
	}
	want := parseCtx(t, "a:2 b:7 c:1 d:3")
	if got := s.Context(); !eqContext(got, want) {
		t.Fatalf("Context = %v, want %v", got, want)
	}
	checkReadContext(t, s)
}

// checkReadContext checks what a read of s gives: a valid context that
// covers every version's history, whose closed part holds every present
// dot and every closed past, and with which a write supersedes every
// sibling.
func checkReadContext(t testing.TB, s Set) {
	t.Helper()
	frozen := cloneSet(s)
	c := s.Context()
	if !eqSet(s, frozen) {
		t.Fatalf("Context modified the set")
	}
	if !c.Valid() {
		t.Fatalf("Context %+v of %v not valid", c, s.Dots())
	}
	for _, v := range s {
		h := v.Clock.History()
		if !c.VV.Descends(v.Clock.Past.VV) || !c.VV.Covers(v.Clock.Dot) {
			t.Fatalf("Context %v does not close over %v's dot and closed past %v", c, v.Clock.Dot, v.Clock.Past)
		}
		for _, d := range h.Dots {
			if !c.Covers(d) {
				t.Fatalf("Context %v does not cover %v of %v's history", c, d, v.Clock.Dot)
			}
		}
	}
	// Nothing else: each closed entry is a present dot or a past's entry,
	// each single dot a past's single dot.
	for _, e := range c.VV {
		found := false
		for _, v := range s {
			if (v.Clock.Dot.Actor == e.Actor && v.Clock.Dot.Counter == e.Counter) || v.Clock.Past.VV.Get(e.Actor) == e.Counter {
				found = true
			}
		}
		if !found {
			t.Fatalf("Context %v has entry %+v that no version gave", c, e)
		}
	}
	for _, d := range c.Dots {
		found := false
		for _, v := range s {
			found = found || slices.ContainsFunc(v.Clock.Past.Dots, func(x Dot) bool { return sameEvent(x, d) })
		}
		if !found {
			t.Fatalf("Context %v has dot %v that no past holds", c, d)
		}
	}
	n := Dot{Actor: "zz-new", Counter: 1}
	if got := s.Update(c, ver(n, nil, "new"), 0); len(got) != 1 || got[0].Clock.Dot != n {
		t.Fatalf("a write with the read context of %v left %v", s.Dots(), got.Dots())
	}
}

// TestSetContextKeepsSingleDots: single dots of pasts were seen without the
// events before them, so a read keeps them single; folding one into the
// closed VV would claim those earlier events, which may be live siblings
// elsewhere.
func TestSetContextKeepsSingleDots(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Set
		want string
	}{
		{"one past dot", Set{verCtx(dot("b", 1), parseCtx(t, "| a:5"), "")}, "b:1 | a:5"},
		{"past dots of several versions", Set{
			verCtx(dot("b", 1), parseCtx(t, "c:2 | a:5"), ""),
			verCtx(dot("c", 4), parseCtx(t, "| a:3 a:7 d:2"), ""),
		}, "b:1 c:4 | a:3 a:5 a:7 d:2"},
		{"the same dot in two pasts", Set{
			verCtx(dot("b", 1), parseCtx(t, "| a:5@9"), ""),
			verCtx(dot("c", 1), parseCtx(t, "| a:5@9"), ""),
		}, "b:1 c:1 | a:5@9"},
		{"a dot covered by a present dot of its actor", Set{
			verCtx(dot("a", 6), parseCtx(t, "| b:2"), ""),
			verCtx(dot("b", 3), parseCtx(t, "| a:5"), ""),
		}, "a:6 b:3"},
		{"a dot covered by another past's closed entry", Set{
			verCtx(dot("b", 1), parseCtx(t, "a:5"), ""),
			verCtx(dot("c", 1), parseCtx(t, "| a:4 a:6"), ""),
		}, "a:5 b:1 c:1 | a:6"},
		{"a dot above a present dot of its actor", Set{
			verCtx(dot("a", 2), Context{}, ""),
			verCtx(dot("b", 1), parseCtx(t, "| a:4"), ""),
		}, "a:2 b:1 | a:4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Set(nil).Sync(tc.s)
			if len(s) != len(tc.s) {
				t.Fatalf("setup: %v is not a sibling set", tc.s.Dots())
			}
			if got, want := s.Context(), parseCtx(t, tc.want); !eqContext(got, want) {
				t.Fatalf("Context = %v %+v, want %v %+v", got, got, want, want)
			}
			checkReadContext(t, s)
			// A sibling of the dots' actor the read did not see stays.
			hidden := ver(dot("a", 1), nil, "unseen")
			if !s.Context().Covers(hidden.Clock.Dot) {
				got := Set{hidden}.Sync(s).Update(s.Context(), ver(dot("n", 1), nil, "new"), 0)
				if !slices.Contains(got.Dots(), hidden.Clock.Dot) {
					t.Fatalf("a write with the read context of %v superseded %v, which the read never saw", s.Dots(), hidden.Clock.Dot)
				}
			}
		})
	}
}

func TestSetSyncDuplicates(t *testing.T) {
	v := ver(Dot{Actor: "a", Counter: 1, Stamp: 5}, parseVV(t, "b:1"), "x")
	s := Set{v}
	if got := s.Sync(s); !eqSet(got, s) {
		t.Fatalf("Sync of a set with itself = %+v", got)
	}
	if got := s.Sync(Set{v, v}); len(got) != 1 || !eqVersion(got[0], v) {
		t.Fatalf("Sync of duplicates = %+v, want one copy", got)
	}

	// Same dot, different bodies (a forgery or a reused actor): one survives,
	// the same one whatever the argument order.
	for _, tc := range []struct {
		name string
		x, y Version
	}{
		{"different values", ver(dot("a", 1), nil, "old"), ver(dot("a", 1), nil, "new")},
		{"different stamps", ver(Dot{Actor: "a", Counter: 1, Stamp: 1}, nil, "v"), ver(Dot{Actor: "a", Counter: 1, Stamp: 2}, nil, "v")},
		{"different stamps and values", ver(Dot{Actor: "a", Counter: 1, Stamp: 1}, nil, "old"), ver(Dot{Actor: "a", Counter: 1, Stamp: 2}, nil, "new")},
		{"different pasts", ver(dot("a", 1), parseVV(t, "b:1"), "v"), ver(dot("a", 1), parseVV(t, "c:1"), "v")},
		{"different past dots", verCtx(dot("a", 1), parseCtx(t, "| b:1"), "v"), verCtx(dot("a", 1), parseCtx(t, "| c:1"), "v")},
		{"closed entry and single dot", verCtx(dot("a", 1), parseCtx(t, "b:1"), "v"), verCtx(dot("a", 1), parseCtx(t, "| b:1"), "v")},
		{"different past dot stamps", verCtx(dot("a", 1), parseCtx(t, "| b:1@1"), "v"), verCtx(dot("a", 1), parseCtx(t, "| b:1@2"), "v")},
		{"tombstone and value", Version{Clock: Clock{Dot: dot("a", 1)}, Deleted: true}, ver(dot("a", 1), nil, "")},
		{"different modified", Version{Clock: Clock{Dot: dot("a", 1)}, Modified: 1}, Version{Clock: Clock{Dot: dot("a", 1)}, Modified: 2}},
		{"different write ids", Version{Clock: Clock{Dot: dot("a", 1)}, Write: 1}, Version{Clock: Clock{Dot: dot("a", 1)}, Write: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xy := Set{tc.x}.Sync(Set{tc.y})
			yx := Set{tc.y}.Sync(Set{tc.x})
			if len(xy) != 1 || len(yx) != 1 {
				t.Fatalf("same dot kept twice: %+v / %+v", xy, yx)
			}
			if !eqSet(xy, yx) {
				t.Fatalf("Sync depends on argument order: %+v vs %+v", xy, yx)
			}
			// The result must survive the codec (the decoder refuses
			// sets with two versions of one dot).
			if _, err := DecodeSet(AppendSet(nil, xy), 1<<10); err != nil {
				t.Fatalf("synced set does not decode: %v", err)
			}
		})
	}
}

func TestSetSyncDropsSuperseded(t *testing.T) {
	a1 := ver(dot("a", 1), nil, "a1")
	b1 := ver(dot("b", 1), parseVV(t, "a:1"), "b1") // saw a1
	c1 := ver(dot("c", 1), nil, "c1")               // concurrent with both
	c2dot := verCtx(dot("c", 2), parseCtx(t, "| c:1"), "c2")
	b2dot := verCtx(dot("b", 2), parseCtx(t, "| a:2 c:3"), "b2") // saw later events only
	for _, tc := range []struct {
		name string
		x, y Set
		want []Dot
	}{
		{"empty", nil, nil, []Dot{}},
		{"left only", Set{a1}, nil, []Dot{dot("a", 1)}},
		{"superseded on the other side", Set{a1}, Set{b1}, []Dot{dot("b", 1)}},
		{"concurrent kept", Set{a1, c1}, Set{b1}, []Dot{dot("b", 1), dot("c", 1)}},
		{"disjoint concurrent", Set{a1}, Set{c1}, []Dot{dot("a", 1), dot("c", 1)}},
		{"superseded through a single dot", Set{a1, c1}, Set{c2dot}, []Dot{dot("a", 1), dot("c", 2)}},
		{"a single dot covers no earlier event", Set{a1, c1}, Set{b2dot}, []Dot{dot("a", 1), dot("b", 2), dot("c", 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, got := range []Set{tc.x.Sync(tc.y), tc.y.Sync(tc.x)} {
				if !slices.Equal(got.Dots(), tc.want) {
					t.Fatalf("Sync = %v, want %v", got.Dots(), tc.want)
				}
				checkSetInvariants(t, got)
			}
		})
	}
}

// TestSetSyncLawsOnHistories checks the Sync laws on sets that replicas
// really hold: snapshots of simulated histories of writes (fresh, stale and
// blind contexts) and syncs.
func TestSetSyncLawsOnHistories(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	assocChecked, withDots, versions := 0, 0, 0
	for range 60 {
		snaps := history(rng, 2+rng.IntN(3), 40)
		for _, v := range snaps[len(snaps)-1] {
			versions++
			if len(v.Clock.Past.Dots) > 0 {
				withDots++
			}
		}
		for range 40 {
			a := snaps[rng.IntN(len(snaps))]
			b := snaps[rng.IntN(len(snaps))]
			c := snaps[rng.IntN(len(snaps))]
			for _, s := range []Set{a, b, c} {
				checkSetInvariants(t, s)
			}
			checkReadContext(t, a)
			for _, v := range a {
				checkWriteContext(t, a, v, a.WriteContext(v))
			}
			checkSyncLaws(t, a, b)
			if transitive(a, b, c) {
				assocChecked++
				l, r := a.Sync(b).Sync(c), a.Sync(b.Sync(c))
				if !l.Same(r) || !eqSet(l, r) {
					t.Fatalf("Sync not associative:\n a=%v\n b=%v\n c=%v\n (ab)c=%v\n a(bc)=%v", a.Dots(), b.Dots(), c.Dots(), l.Dots(), r.Dots())
				}
			}
		}
	}
	if assocChecked < 1000 {
		t.Fatalf("associativity checked on only %d triples", assocChecked)
	}
	// The histories exercise pasts with single dots, not only closed ones.
	if withDots*5 < versions {
		t.Fatalf("only %d of %d final versions have a past with single dots", withDots, versions)
	}
	t.Logf("associativity checked on %d of 2400 triples; %d of %d final versions have single dots in their past", assocChecked, withDots, versions)
}

// checkSyncLaws checks the laws Sync keeps for any sets, forged or not.
func checkSyncLaws(t *testing.T, a, b Set) {
	t.Helper()
	ab, ba := a.Sync(b), b.Sync(a)
	if !ab.Same(ba) || !eqSet(ab, ba) {
		t.Fatalf("Sync not commutative: %v vs %v", ab.Dots(), ba.Dots())
	}
	if aa := a.Sync(a); !eqSet(aa, a) {
		t.Fatalf("Sync not idempotent: %v vs %v", aa.Dots(), a.Dots())
	}
	if again := ab.Sync(ab); !eqSet(again, ab) {
		t.Fatalf("Sync result not a fixed point: %v vs %v", again.Dots(), ab.Dots())
	}
	if withEmpty := ab.Sync(nil); !eqSet(withEmpty, ab) {
		t.Fatalf("Sync with the empty set changed %v into %v", ab.Dots(), withEmpty.Dots())
	}
	checkSetInvariants(t, ab)
	// Every write of the union either survives or is superseded by a
	// version of the union; nothing comes from elsewhere. (A forged set can
	// hold two bodies of one dot; it is enough that one of them is
	// superseded.)
	union := append(slices.Clone(a), b...)
	got := events(ab)
	superseded := map[event]bool{}
	for _, v := range union {
		for _, w := range union {
			if CompareClocks(v.Clock, w.Clock) == Before {
				superseded[eventOf(v.Clock.Dot)] = true
			}
		}
	}
	for _, v := range union {
		if e := eventOf(v.Clock.Dot); !got[e] && !superseded[e] {
			t.Fatalf("Sync lost %v, which nothing supersedes", v.Clock.Dot)
		}
	}
	inUnion := events(union)
	for e := range got {
		if !inUnion[e] {
			t.Fatalf("Sync invented %v", e)
		}
	}
}

// FuzzSetSync checks the laws Sync keeps even for arbitrary (forged) clocks
// and, when supersession among the inputs is transitive, associativity.
func FuzzSetSync(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 1, 0, 1, 2, 0, 0, 0, 1, 1, 1, 2, 4, 0, 1, 1, 3, 0, 2, 2, 1, 1, 5, 0, 3, 1})
	f.Add([]byte("sibling sets from replicas that disagree"))
	f.Add([]byte{7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		a, b, c := src.set(), src.set(), src.set()
		checkSetInvariants(t, a)
		checkSyncLaws(t, a, b)
		checkReadContext(t, a)
		// Forged pasts may claim siblings, so only the parts of the write
		// context checks that hold for any set: valid, no change to the
		// set, and it covers of the other siblings exactly what the
		// version's history covers.
		for _, v := range a {
			frozen := cloneSet(a)
			wc, h := a.WriteContext(v), v.Clock.History()
			if !wc.Valid() || !eqSet(a, frozen) {
				t.Fatalf("WriteContext of %v in %v = %+v (valid %v), set changed %v", v.Clock.Dot, a.Dots(), wc, wc.Valid(), !eqSet(a, frozen))
			}
			for _, o := range a {
				if o.Clock.Dot != v.Clock.Dot && wc.Covers(o.Clock.Dot) != h.Covers(o.Clock.Dot) {
					t.Fatalf("WriteContext %v of %v covers sibling %v, the history %v does not", wc, v.Clock.Dot, o.Clock.Dot, h)
				}
			}
		}
		// Sync's shortcuts for an empty side or one shared version give
		// what the general merge gives.
		for _, x := range []Set{a, b, c} {
			for _, y := range []Set{a, b, c} {
				if len(x) <= 1 && len(y) <= 1 {
					all := append(append(Set{}, x...), y...)
					if got, want := x.Sync(y), normalize(all); !eqSet(got, want) {
						t.Fatalf("Sync(%v, %v) = %v, the general merge gives %v", x.Dots(), y.Dots(), got.Dots(), want.Dots())
					}
				}
			}
		}
		if transitive(a, b, c) {
			l, r := a.Sync(b).Sync(c), a.Sync(b.Sync(c))
			if !eqSet(l, r) {
				t.Fatalf("Sync not associative: (ab)c=%v a(bc)=%v", l.Dots(), r.Dots())
			}
		}
	})
}

func TestSetLive(t *testing.T) {
	s := Set{
		{Clock: Clock{Dot: dot("a", 1)}, Value: []byte("forever")},
		{Clock: Clock{Dot: dot("a", 2)}, Deleted: true},
		{Clock: Clock{Dot: dot("a", 3)}, Value: []byte("expired"), Expires: 100},
		{Clock: Clock{Dot: dot("a", 4)}, Value: []byte("expires at now"), Expires: 150},
		{Clock: Clock{Dot: dot("a", 5)}, Value: []byte("later"), Expires: 151},
		{Clock: Clock{Dot: dot("a", 6)}, Deleted: true, Expires: 500},
	}
	for _, tc := range []struct {
		now  int64
		want []Dot
	}{
		{0, []Dot{dot("a", 1), dot("a", 3), dot("a", 4), dot("a", 5)}},
		{100, []Dot{dot("a", 1), dot("a", 4), dot("a", 5)}},
		{150, []Dot{dot("a", 1), dot("a", 5)}},
		{151, []Dot{dot("a", 1)}},
	} {
		if got := s.Live(tc.now).Dots(); !slices.Equal(got, tc.want) {
			t.Errorf("Live(%d) = %v, want %v", tc.now, got, tc.want)
		}
	}
	if got := Set(nil).Live(0); len(got) != 0 {
		t.Errorf("Live of empty set = %v", got)
	}
}

func TestSetNewest(t *testing.T) {
	if _, ok := Set(nil).Newest(); ok {
		t.Fatalf("Newest of the empty set reported ok")
	}
	for _, tc := range []struct {
		name string
		s    Set
		want Dot
	}{
		{"single", Set{{Clock: Clock{Dot: dot("a", 1)}, Modified: 5}}, dot("a", 1)},
		{"latest modified wins", Set{
			{Clock: Clock{Dot: dot("a", 1)}, Modified: 9},
			{Clock: Clock{Dot: dot("b", 1)}, Modified: 5},
			{Clock: Clock{Dot: dot("c", 1)}, Modified: 7},
		}, dot("a", 1)},
		{"tie broken by the larger dot", Set{
			{Clock: Clock{Dot: dot("a", 2)}, Modified: 9},
			{Clock: Clock{Dot: dot("b", 1)}, Modified: 9},
			{Clock: Clock{Dot: dot("a", 1)}, Modified: 3},
		}, dot("b", 1)},
		{"tie on actor broken by counter", Set{
			{Clock: Clock{Dot: dot("a", 10)}, Modified: 9},
			{Clock: Clock{Dot: dot("a", 9)}, Modified: 9},
		}, dot("a", 10)},
		{"tombstones count", Set{
			{Clock: Clock{Dot: dot("a", 1)}, Modified: 1},
			{Clock: Clock{Dot: dot("b", 1)}, Modified: 2, Deleted: true},
		}, dot("b", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every replica picks the same survivor whatever its order.
			perm := slices.Clone(tc.s)
			for i := range 2 * len(perm) {
				got, ok := perm.Newest()
				if !ok || got.Clock.Dot != tc.want {
					t.Fatalf("Newest of %v = %v, want %v", perm.Dots(), got.Clock.Dot, tc.want)
				}
				j, k := i%len(perm), (i*7+1)%len(perm)
				perm[j], perm[k] = perm[k], perm[j]
			}
		})
	}
}

func TestSetMaxCounter(t *testing.T) {
	s := Set{
		ver(dot("a", 3), parseVV(t, "a:2 b:9"), ""),
		ver(dot("b", 4), parseVV(t, "a:7"), ""),
		ver(dot("c", 1), nil, ""),
		verCtx(dot("d", 2), parseCtx(t, "c:1 | c:12 e:4"), ""),
	}
	for actor, want := range map[Actor]uint64{"a": 7, "b": 9, "c": 12, "d": 2, "e": 4, "f": 0} {
		if got := s.MaxCounter(actor); got != want {
			t.Errorf("MaxCounter(%s) = %d, want %d", actor, got, want)
		}
	}
	if got := Set(nil).MaxCounter("a"); got != 0 {
		t.Errorf("MaxCounter on the empty set = %d", got)
	}
}

func TestSetSameAndDots(t *testing.T) {
	x := Set{ver(dot("a", 1), nil, "x"), ver(dot("b", 2), nil, "y")}
	y := Set{ver(Dot{Actor: "a", Counter: 1, Stamp: 4}, parseVV(t, "c:1"), "other"), verCtx(dot("b", 2), parseCtx(t, "| c:3"), "")}
	if !x.Same(y) {
		t.Errorf("sets with the same dots not Same")
	}
	if x.Same(x[:1]) || x.Same(Set{x[1], x[0]}) || x.Same(Set{x[0], ver(dot("b", 3), nil, "")}) {
		t.Errorf("sets with different dots reported Same")
	}
	if !Set(nil).Same(Set{}) {
		t.Errorf("empty sets not Same")
	}
	if got := x.Dots(); !slices.Equal(got, []Dot{dot("a", 1), dot("b", 2)}) {
		t.Errorf("Dots = %v", got)
	}
}

func TestSetByWrite(t *testing.T) {
	s := Set{
		{Clock: Clock{Dot: dot("a", 1)}, Value: []byte("untagged")},
		{Clock: Clock{Dot: dot("a", 2)}, Value: []byte("w7"), Write: 7},
		{Clock: Clock{Dot: dot("b", 1)}, Value: []byte("w9"), Write: 9},
	}
	for _, tc := range []struct {
		w    uint64
		want string
		ok   bool
	}{
		{7, "w7", true},
		{9, "w9", true},
		{8, "", false},
		{0, "", false}, // zero is "no request id" and never matches
	} {
		v, ok := s.ByWrite(tc.w)
		if ok != tc.ok || string(v.Value) != tc.want {
			t.Errorf("ByWrite(%d) = %q, %v; want %q, %v", tc.w, v.Value, ok, tc.want, tc.ok)
		}
	}
	if _, ok := Set(nil).ByWrite(7); ok {
		t.Errorf("ByWrite on the empty set reported ok")
	}
}

// One client write that two replicas stamped (a coordinator's retry) is
// shown once; distinct writes, and versions without a request ID, are
// all shown, in the set's order.
func TestSetOncePerWrite(t *testing.T) {
	v := func(actor string, write uint64) Version {
		return Version{Clock: Clock{Dot: Dot{Actor: Actor(actor), Counter: 1}}, Value: []byte(`{}`), Write: write}
	}
	for _, tc := range []struct {
		name string
		in   Set
		want []string // actors of the versions shown
	}{
		{"empty", nil, nil},
		{"one", Set{v("a", 7)}, []string{"a"}},
		{"distinct writes", Set{v("a", 7), v("b", 8), v("c", 9)}, []string{"a", "b", "c"}},
		{"no request IDs", Set{v("a", 0), v("b", 0)}, []string{"a", "b"}},
		{"one write stamped twice", Set{v("a", 7), v("b", 7)}, []string{"a"}},
		{"stamped twice among others", Set{v("a", 5), v("b", 7), v("c", 6), v("d", 7), v("e", 0)}, []string{"a", "b", "c", "e"}},
		{"stamped three times", Set{v("a", 7), v("b", 7), v("c", 7), v("d", 8)}, []string{"a", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append(Set(nil), tc.in...)
			got := tc.in.OncePerWrite()
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

// FuzzSetOncePerWrite: the result keeps the set's order, leaves out only
// versions whose request ID came earlier, keeps every request ID, and
// does not change the set.
func FuzzSetOncePerWrite(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 1, 0, 1, 2, 0, 0, 0, 1, 1, 1, 2, 4, 0, 1, 1, 3, 0, 2, 2, 1, 1, 5, 0, 3, 1})
	f.Add([]byte{7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		s := src.set()
		for i := range s {
			s[i].Write = uint64(src.next() % 4) // few IDs, so they repeat; 0 is none
		}
		frozen := cloneSet(s)
		got := s.OncePerWrite()
		if !eqSet(s, frozen) {
			t.Fatalf("OncePerWrite changed the set")
		}
		seen, j := map[uint64]bool{}, 0
		for _, v := range s {
			repeat := v.Write != 0 && seen[v.Write]
			seen[v.Write] = true
			if repeat {
				continue
			}
			if j >= len(got) || got[j].Clock.Dot != v.Clock.Dot {
				t.Fatalf("OncePerWrite(%v) = %v: %v missing or out of order", s.Dots(), got.Dots(), v.Clock.Dot)
			}
			j++
		}
		if j != len(got) {
			t.Fatalf("OncePerWrite(%v) = %v: kept a repeat", s.Dots(), got.Dots())
		}
	})
}

// A context that covers one stamp of a retried write covers them all; it
// covers nothing else it did not cover already.
func TestSetCoverRestamps(t *testing.T) {
	v := func(d Dot, write uint64) Version {
		return Version{Clock: Clock{Dot: d}, Value: []byte(`{}`), Write: write}
	}
	a1, b1 := dot("a", 1), dot("b", 1)
	retried := Set(nil).Sync(Set{v(a1, 7), v(b1, 7)}) // one write, two stamps
	for _, tc := range []struct {
		name string
		s    Set
		ctx  string
		want string
	}{
		{"no versions", nil, "a:1", "a:1"},
		{"the answer of the second stamp", retried, "b:1", "b:1 | a:1"},
		{"the answer of the first stamp", retried, "a:1", "a:1 | b:1"},
		{"a single dot of either", retried, "| b:1", "| a:1 b:1"},
		{"both covered already", retried, "a:1 b:1", "a:1 b:1"},
		{"neither covered", retried, "c:4", "c:4"},
		{"empty context", retried, "", ""},
		{"different writes", Set(nil).Sync(Set{v(a1, 7), v(b1, 8)}), "b:1", "b:1"},
		{"no request IDs", Set(nil).Sync(Set{v(a1, 0), v(b1, 0)}), "b:1", "b:1"},
		{"three stamps", Set(nil).Sync(Set{v(a1, 7), v(b1, 7), v(dot("c", 2), 7), v(dot("d", 1), 9)}), "c:2", "c:2 | a:1 b:1"},
		{"two retried writes, one seen", Set(nil).Sync(Set{v(a1, 7), v(b1, 7), v(dot("c", 1), 9), v(dot("d", 1), 9)}), "d:1", "d:1 | c:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := parseCtx(t, tc.ctx)
			frozen := Context{VV: slices.Clone(ctx.VV), Dots: slices.Clone(ctx.Dots)}
			got := tc.s.CoverRestamps(ctx)
			if want := parseCtx(t, tc.want); !eqContext(got, want) {
				t.Fatalf("CoverRestamps(%v) = %v, want %v", ctx, got, want)
			}
			if !eqContext(ctx, frozen) {
				t.Fatalf("CoverRestamps changed its argument: %v, was %v", ctx, frozen)
			}
		})
	}
	// The next write from the second stamp's answer leaves one version,
	// where the answer's context alone leaves the first stamp beside it.
	next := ver(dot("b", 2), nil, "next")
	if got := retried.Update(parseCtx(t, "b:1"), next, 0); len(got) != 2 {
		t.Fatalf("write from the answer's context alone kept %v, want the first stamp and the new version", got.Dots())
	}
	if got := retried.Update(retried.CoverRestamps(parseCtx(t, "b:1")), next, 0); !slices.Equal(got.Dots(), []Dot{dot("b", 2)}) {
		t.Fatalf("write from the widened context kept %v, want only the new version", got.Dots())
	}
}

// FuzzSetCoverRestamps: the widened context is valid, covers what the
// context covered, adds exactly the other stamps of the writes it covered
// a stamp of, and a write made with it keeps no stamp of those writes.
func FuzzSetCoverRestamps(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 1, 0, 1, 2, 0, 0, 0, 1, 1, 1, 2, 4, 0, 1, 1, 3, 0, 2, 2, 1, 1, 5, 0, 3, 1})
	f.Add([]byte{7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 4, 1, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		s := src.set()
		for i := range s {
			s[i].Write = uint64(src.next() % 4) // few IDs, so they repeat; 0 is none
		}
		ctx := src.context().normal()
		frozen := Context{VV: slices.Clone(ctx.VV), Dots: slices.Clone(ctx.Dots)}
		got := s.CoverRestamps(ctx)
		if !eqContext(ctx, frozen) {
			t.Fatalf("CoverRestamps changed its argument")
		}
		if !got.Valid() {
			t.Fatalf("CoverRestamps(%v) = %v, not valid", ctx, got)
		}
		seen := map[uint64]bool{} // writes ctx covered a stamp of
		for _, v := range s {
			if v.Write != 0 && ctx.Covers(v.Clock.Dot) {
				seen[v.Write] = true
			}
		}
		for _, v := range s {
			if want := ctx.Covers(v.Clock.Dot) || seen[v.Write]; got.Covers(v.Clock.Dot) != want {
				t.Fatalf("CoverRestamps(%v) over %v = %v: covers %v is %v, want %v", ctx, s.Dots(), got, v.Clock.Dot, !want, want)
			}
		}
		for _, d := range ctx.Dots {
			if !got.Covers(d) {
				t.Fatalf("CoverRestamps(%v) = %v: lost %v", ctx, got, d)
			}
		}
		added := len(got.Dots) - len(ctx.Dots)
		if !eqVV(got.VV, ctx.VV) || added < 0 {
			t.Fatalf("CoverRestamps(%v) = %v: changed the closed part or dropped dots", ctx, got)
		}
		next := Version{Clock: Clock{Dot: Dot{Actor: "z", Counter: 1}}, Value: []byte("next")}
		for _, v := range s.Update(got, next, 0) {
			if v.Clock.Dot.Actor != "z" && seen[v.Write] {
				t.Fatalf("a write from %v over %v kept %v, a stamp of a write the context saw", got, s.Dots(), v.Clock.Dot)
			}
		}
	})
}
