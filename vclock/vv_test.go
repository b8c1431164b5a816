package vclock

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestVVGet(t *testing.T) {
	v := VV{{Actor: "a", Counter: 1}, {Actor: "b", Counter: 20}, {Actor: "d", Counter: 3}}
	for _, tc := range []struct {
		v     VV
		actor Actor
		want  uint64
	}{
		{nil, "a", 0},
		{VV{}, "", 0},
		{v, "a", 1},
		{v, "b", 20},
		{v, "d", 3},
		{v, "c", 0},  // between two entries
		{v, "0", 0},  // before the first
		{v, "z", 0},  // after the last
		{v, "", 0},   // empty actor
		{v, "bb", 0}, // shares a prefix
	} {
		if got := tc.v.Get(tc.actor); got != tc.want {
			t.Errorf("%v.Get(%q) = %d, want %d", tc.v, tc.actor, got, tc.want)
		}
	}
}

func TestVVCovers(t *testing.T) {
	for _, tc := range []struct {
		v    string
		d    Dot
		want bool
	}{
		{"", dot("a", 1), false},
		{"", Dot{}, false},
		{"a:2", Dot{Actor: "a"}, false}, // the zero dot is never covered
		{"a:2", dot("a", 1), true},
		{"a:2", dot("a", 2), true},
		{"a:2", dot("a", 3), false},
		{"a:2", dot("b", 1), false},
		{"a:2@99", Dot{Actor: "a", Counter: 2, Stamp: 1}, true}, // stamps do not matter
		{"a:2 b:5", dot("b", 5), true},
		{"a:2 b:5", dot("b", 6), false},
	} {
		if got := parseVV(t, tc.v).Covers(tc.d); got != tc.want {
			t.Errorf("{%s}.Covers(%v) = %v, want %v", tc.v, tc.d, got, tc.want)
		}
	}
}

func TestVVDescendsAndCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want Order // Compare(a, b)
	}{
		{"", "", Equal},
		{"a:1", "a:1", Equal},
		{"a:1@5 b:2@1", "a:1@9 b:2@0", Equal}, // stamps never affect causality
		{"", "a:1", Before},
		{"a:1", "a:2", Before},
		{"a:1", "a:1 b:1", Before},
		{"a:1 b:1", "a:2 b:1 c:7", Before},
		{"a:1", "", After},
		{"a:3 b:1", "a:2", After},
		{"a:3 b:1 c:1", "b:1", After},
		{"a:1", "b:1", Concurrent},
		{"a:2 b:1", "a:1 b:2", Concurrent},
		{"a:1 c:1", "a:1 b:1", Concurrent},
	} {
		a, b := parseVV(t, tc.a), parseVV(t, tc.b)
		if got := Compare(a, b); got != tc.want {
			t.Errorf("Compare({%s}, {%s}) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		wantAB := tc.want == Equal || tc.want == After
		wantBA := tc.want == Equal || tc.want == Before
		if got := a.Descends(b); got != wantAB {
			t.Errorf("{%s}.Descends({%s}) = %v, want %v", tc.a, tc.b, got, wantAB)
		}
		if got := b.Descends(a); got != wantBA {
			t.Errorf("{%s}.Descends({%s}) = %v, want %v", tc.b, tc.a, got, wantBA)
		}
		mirror := map[Order]Order{Equal: Equal, Before: After, After: Before, Concurrent: Concurrent}[tc.want]
		if got := Compare(b, a); got != mirror {
			t.Errorf("Compare({%s}, {%s}) = %v, want %v", tc.b, tc.a, got, mirror)
		}
	}
}

func TestOrderString(t *testing.T) {
	for o, want := range map[Order]string{Equal: "equal", Before: "before", After: "after", Concurrent: "concurrent"} {
		if got := o.String(); got != want {
			t.Errorf("Order(%d).String() = %q, want %q", int(o), got, want)
		}
	}
}

func TestVVMerge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b    string
		want    string
		wantStr string
	}{
		{"both empty", "", "", "", "{}"},
		{"left empty", "", "a:1@3", "a:1@3", "{a:1}"},
		{"right empty", "a:1@3", "", "a:1@3", "{a:1}"},
		{"disjoint interleaved", "a:1 c:3", "b:2 d:4", "a:1 b:2 c:3 d:4", "{a:1,b:2,c:3,d:4}"},
		{"pointwise max", "a:5 b:1", "a:2 b:7", "a:5 b:7", "{a:5,b:7}"},
		{"higher counter keeps its own stamp", "a:5@1", "a:2@9", "a:5@1", "{a:5}"},
		{"equal counters keep the later stamp", "a:5@1", "a:5@9", "a:5@9", "{a:5}"},
		{"equal counters keep the later stamp, swapped", "a:5@9", "a:5@1", "a:5@9", "{a:5}"},
		{"tail of the left", "a:1 x:1 y:2", "b:1", "a:1 b:1 x:1 y:2", "{a:1,b:1,x:1,y:2}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := parseVV(t, tc.a), parseVV(t, tc.b)
			aCopy, bCopy := slices.Clone(a), slices.Clone(b)
			got := a.Merge(b)
			if want := parseVV(t, tc.want); !eqVV(got, want) {
				t.Errorf("Merge = %+v, want %+v", got, want)
			}
			if got.String() != tc.wantStr {
				t.Errorf("Merge.String() = %s, want %s", got, tc.wantStr)
			}
			if !got.Valid() {
				t.Errorf("Merge result %+v not valid", got)
			}
			if !eqVV(a, aCopy) || !eqVV(b, bCopy) {
				t.Errorf("Merge modified its inputs: %+v %+v", a, b)
			}
			if rev := b.Merge(a); !eqVV(rev, got) {
				t.Errorf("Merge not commutative: %+v vs %+v", got, rev)
			}
		})
	}
}

func TestVVMergeDoesNotAlias(t *testing.T) {
	a := parseVV(t, "a:1 b:1")
	m := a.Merge(nil)
	m[0].Counter = 99
	if a[0].Counter != 1 {
		t.Fatalf("Merge result shares memory with its receiver")
	}
}

func TestVVWithDotAndEvent(t *testing.T) {
	for _, tc := range []struct {
		v    string
		d    Dot
		want string
	}{
		{"", Dot{}, ""},
		{"a:1", Dot{Actor: "b"}, "a:1"}, // zero dot: unchanged
		{"", Dot{Actor: "a", Counter: 1, Stamp: 7}, "a:1@7"},
		{"a:1@1 c:1@1", Dot{Actor: "b", Counter: 4, Stamp: 2}, "a:1@1 b:4@2 c:1@1"},
		{"a:5@1", Dot{Actor: "a", Counter: 3, Stamp: 9}, "a:5@1"}, // already covered
		{"a:5@1", Dot{Actor: "a", Counter: 6, Stamp: 9}, "a:6@9"},
	} {
		v := parseVV(t, tc.v)
		if got, want := v.WithDot(tc.d), parseVV(t, tc.want); !eqVV(got, want) {
			t.Errorf("{%s}.WithDot(%+v) = %+v, want %+v", tc.v, tc.d, got, want)
		}
	}

	for _, tc := range []struct {
		v     string
		actor Actor
		now   int64
		want  string
	}{
		{"", "a", 10, "a:1@10"},
		{"a:3@1 b:2@1", "a", 10, "a:4@10 b:2@1"},
		{"a:3@1 c:2@1", "b", 10, "a:3@1 b:1@10 c:2@1"},
	} {
		v := parseVV(t, tc.v)
		before := slices.Clone(v)
		got := v.Event(tc.actor, tc.now)
		if want := parseVV(t, tc.want); !eqVV(got, want) {
			t.Errorf("{%s}.Event(%s, %d) = %+v, want %+v", tc.v, tc.actor, tc.now, got, want)
		}
		if !eqVV(v, before) {
			t.Errorf("Event modified its receiver")
		}
		if Compare(v, got) != Before {
			t.Errorf("Event result does not strictly follow its input")
		}
	}
}

func TestVVPrune(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v     string
		limit int
		want  string
	}{
		{"limit zero keeps all", "a:1@1 b:1@2 c:1@3", 0, "a:1@1 b:1@2 c:1@3"},
		{"negative limit keeps all", "a:1@1 b:1@2 c:1@3", -1, "a:1@1 b:1@2 c:1@3"},
		{"under the limit", "a:1@1 b:1@2", 3, "a:1@1 b:1@2"},
		{"at the limit", "a:1@1 b:1@2 c:1@3", 3, "a:1@1 b:1@2 c:1@3"},
		{"drops the oldest stamp", "a:1@3 b:1@1 c:1@2", 2, "a:1@3 c:1@2"},
		{"drops the two oldest", "a:9@30 b:1@10 c:4@20 d:2@40", 2, "a:9@30 d:2@40"},
		{"counters do not matter, stamps do", "a:100@1 b:1@2", 1, "b:1@2"},
		{"ties drop the smaller actor first", "a:1@5 b:1@5 c:1@5", 2, "b:1@5 c:1@5"},
		{"ties after the oldest", "a:1@5 b:1@5 c:1@1 d:1@5", 2, "b:1@5 d:1@5"},
		{"limit one keeps the newest", "a:1@1 b:1@9 c:1@2", 1, "b:1@9"},
		{"limit one, all tied, keeps the largest actor", "a:1@1 b:1@1 c:1@1", 1, "c:1@1"},
		{"negative stamps are oldest", "a:1@-5 b:1@0", 1, "b:1@0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := parseVV(t, tc.v)
			before := slices.Clone(v)
			got := v.Prune(tc.limit)
			if want := parseVV(t, tc.want); !eqVV(got, want) {
				t.Errorf("{%s}.Prune(%d) = %+v, want %+v", tc.v, tc.limit, got, want)
			}
			if !got.Valid() {
				t.Errorf("Prune result %+v is not sorted/valid", got)
			}
			if !eqVV(v, before) {
				t.Errorf("Prune modified its receiver: %+v", v)
			}
		})
	}
}

// TestVVPruneProperties checks Prune on random vectors: the result is a
// sorted subset of at most limit entries, the dropped entries are never
// newer than the kept ones, and the result does not depend on anything but
// the entries.
func TestVVPruneProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var entries []Entry
		for i := range rng.IntN(12) {
			entries = append(entries, Entry{Actor: Actor(rune('a' + i)), Counter: rng.Uint64N(5) + 1, Stamp: rng.Int64N(4)})
		}
		v := Normalize(entries)
		limit := rng.IntN(6) + 1
		p := v.Prune(limit)
		if !p.Valid() {
			t.Fatalf("Prune(%d) of %+v = %+v, not valid", limit, v, p)
		}
		if want := min(limit, len(v)); len(p) != want {
			t.Fatalf("Prune(%d) of %+v has %d entries, want %d", limit, v, len(p), want)
		}
		if !v.Descends(p) {
			t.Fatalf("Prune(%d) of %+v = %+v invents knowledge", limit, v, p)
		}
		for _, kept := range p {
			if i, ok := slices.BinarySearchFunc(v, kept.Actor, func(e Entry, a Actor) int { return cmpActor(e.Actor, a) }); !ok || v[i] != kept {
				t.Fatalf("Prune kept %+v, which is not an entry of %+v", kept, v)
			}
		}
		for _, e := range v {
			if p.Get(e.Actor) != 0 {
				continue
			}
			for _, kept := range p {
				if e.Stamp > kept.Stamp || (e.Stamp == kept.Stamp && e.Actor > kept.Actor) {
					t.Fatalf("Prune(%d) of %+v dropped %+v but kept older %+v", limit, v, e, kept)
				}
			}
		}
	}
}

func cmpActor(a, b Actor) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestVVValid(t *testing.T) {
	for _, tc := range []struct {
		v    VV
		want bool
	}{
		{nil, true},
		{VV{}, true},
		{VV{{Actor: "a", Counter: 1}}, true},
		{VV{{Actor: "a", Counter: 1}, {Actor: "b", Counter: 1}}, true},
		{VV{{Actor: "a", Counter: 0}}, false},
		{VV{{Actor: "", Counter: 1}}, false},
		{VV{{Actor: "b", Counter: 1}, {Actor: "a", Counter: 1}}, false},
		{VV{{Actor: "a", Counter: 1}, {Actor: "a", Counter: 2}}, false},
		{VV{{Actor: "a", Counter: 1}, {Actor: "b", Counter: 0}}, false},
	} {
		if got := tc.v.Valid(); got != tc.want {
			t.Errorf("%+v.Valid() = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Entry
		want string
	}{
		{"nil", nil, ""},
		{"sorted", []Entry{{"a", 1, 0}, {"b", 2, 0}}, "a:1 b:2"},
		{"unsorted", []Entry{{"c", 3, 0}, {"a", 1, 0}, {"b", 2, 0}}, "a:1 b:2 c:3"},
		{"duplicates keep the max", []Entry{{"a", 1, 5}, {"b", 1, 0}, {"a", 4, 1}, {"a", 2, 9}}, "a:4@1 b:1"},
		{"duplicate counters keep the later stamp", []Entry{{"a", 4, 1}, {"a", 4, 3}, {"a", 4, 2}}, "a:4@3"},
		{"zero counters dropped", []Entry{{"a", 0, 0}, {"b", 1, 0}}, "b:1"},
		{"empty actors dropped", []Entry{{"", 5, 0}, {"b", 1, 0}}, "b:1"},
		{"all dropped", []Entry{{"", 5, 0}, {"a", 0, 0}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tc.in)
			if want := parseVV(t, tc.want); !eqVV(got, want) {
				t.Errorf("Normalize(%+v) = %+v, want %+v", tc.in, got, want)
			}
			if !got.Valid() {
				t.Errorf("Normalize result %+v not valid", got)
			}
			// Order of the input never matters.
			rev := slices.Clone(tc.in)
			slices.Reverse(rev)
			if again := Normalize(rev); !eqVV(again, got) {
				t.Errorf("Normalize depends on input order: %+v vs %+v", again, got)
			}
		})
	}
}

func TestVVString(t *testing.T) {
	for _, tc := range []struct {
		v    VV
		want string
	}{
		{nil, "{}"},
		{VV{{Actor: "a", Counter: 1}}, "{a:1}"},
		{VV{{Actor: "n1~A", Counter: 10, Stamp: 99}, {Actor: "n2", Counter: 205}}, "{n1~A:10,n2:205}"},
		{VV{{Actor: "x", Counter: 18446744073709551615}}, "{x:18446744073709551615}"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestDot(t *testing.T) {
	if !(Dot{}).IsZero() || !(Dot{Actor: "a"}).IsZero() || (Dot{Actor: "a", Counter: 1}).IsZero() {
		t.Errorf("IsZero wrong")
	}
	if got := (Dot{Actor: "n1", Counter: 42, Stamp: 7}).String(); got != "n1:42" {
		t.Errorf("Dot.String() = %q", got)
	}
	if got := (Dot{Actor: "n1"}).String(); got != "n1:0" {
		t.Errorf("Dot.String() = %q", got)
	}
}

func TestClock(t *testing.T) {
	// History is the past plus the clock's own dot, as a single dot: the
	// version's writer saw its own write, not the events of the same actor
	// before it.
	for _, tc := range []struct {
		name string
		c    Clock
		want string
	}{
		{"empty", Clock{}, ""},
		{"no past", Clock{Dot: Dot{Actor: "b", Counter: 3, Stamp: 5}}, "| b:3@5"},
		{"closed past", Clock{Dot: Dot{Actor: "b", Counter: 3, Stamp: 5}, Past: parseCtx(t, "a:2 b:1")}, "a:2 b:1 | b:3@5"},
		{"past with dots", Clock{Dot: Dot{Actor: "b", Counter: 3, Stamp: 5}, Past: parseCtx(t, "a:2 | a:4 c:1")}, "a:2 | a:4 b:3@5 c:1"},
		{"dot already covered (forged)", Clock{Dot: dot("a", 1), Past: parseCtx(t, "a:2")}, "a:2"},
		{"dot already a single dot (forged)", Clock{Dot: dot("a", 3), Past: parseCtx(t, "| a:3")}, "| a:3"},
	} {
		before := slices.Clone(tc.c.Past.Dots)
		got := tc.c.History()
		if want := parseCtx(t, tc.want); !eqContext(got, want) {
			t.Errorf("%s: History() = %v %+v, want %+v", tc.name, got, got, want)
		}
		if !got.Valid() {
			t.Errorf("%s: History() = %+v not valid", tc.name, got)
		}
		if !tc.c.Dot.IsZero() && !got.Covers(tc.c.Dot) {
			t.Errorf("%s: History() does not cover the clock's own dot", tc.name)
		}
		if !slices.Equal(tc.c.Past.Dots, before) {
			t.Errorf("%s: History() modified the past", tc.name)
		}
	}

	for _, tc := range []struct {
		name string
		a, b Clock
		want Order // CompareClocks(a, b)
	}{
		{"same dot", Clock{Dot: dot("a", 1)}, Clock{Dot: dot("a", 1), Past: parseCtx(t, "b:9")}, Equal},
		{"same dot, different stamps", Clock{Dot: Dot{Actor: "a", Counter: 1, Stamp: 1}}, Clock{Dot: Dot{Actor: "a", Counter: 1, Stamp: 2}}, Equal},
		{"b saw a", Clock{Dot: dot("a", 1)}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "a:1")}, Before},
		{"b saw a later event of a's actor", Clock{Dot: dot("a", 1)}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "a:5")}, Before},
		{"a saw b", Clock{Dot: dot("a", 2), Past: parseCtx(t, "b:1")}, Clock{Dot: dot("b", 1)}, After},
		{"neither saw the other", Clock{Dot: dot("a", 1)}, Clock{Dot: dot("b", 1)}, Concurrent},
		{"same actor, blind", Clock{Dot: dot("a", 1)}, Clock{Dot: dot("a", 2)}, Concurrent},
		{"same actor, with context", Clock{Dot: dot("a", 1)}, Clock{Dot: dot("a", 2), Past: parseCtx(t, "a:1")}, Before},
		{"past below the dot", Clock{Dot: dot("a", 3)}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "a:2")}, Concurrent},
		{"forged: both saw each other", Clock{Dot: dot("a", 1), Past: parseCtx(t, "b:1")}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "a:1")}, Concurrent},
		// Single dots: exactly that event was seen, none before it.
		{"b saw a as a single dot", Clock{Dot: dot("a", 3)}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "| a:3")}, Before},
		{"b saw a later single dot of a's actor", Clock{Dot: dot("a", 1)}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "| a:5")}, Concurrent},
		{"same actor, chained through a single dot", Clock{Dot: dot("a", 2)}, Clock{Dot: dot("a", 4), Past: parseCtx(t, "| a:3")}, Concurrent},
		{"single dot next to a closed entry", Clock{Dot: dot("a", 4)}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "a:2 | a:3 a:5")}, Concurrent},
		{"closed entry and single dot both count", Clock{Dot: dot("a", 5)}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "a:2 | a:3 a:5")}, Before},
		{"forged through dots: both saw each other", Clock{Dot: dot("a", 1), Past: parseCtx(t, "| b:1")}, Clock{Dot: dot("b", 1), Past: parseCtx(t, "| a:1")}, Concurrent},
	} {
		forged := strings.HasPrefix(tc.name, "forged")
		if got := CompareClocks(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: CompareClocks = %v, want %v", tc.name, got, tc.want)
		}
		if got, want := tc.b.Supersedes(tc.a), tc.want == Before || forged; got != want {
			t.Errorf("%s: b.Supersedes(a) = %v, want %v", tc.name, got, want)
		}
		if got, want := tc.a.Supersedes(tc.b), tc.want == After || forged; got != want {
			t.Errorf("%s: a.Supersedes(b) = %v, want %v", tc.name, got, want)
		}
	}
}

// FuzzVVLaws decodes three version vectors from the input and checks the
// lattice laws of Merge and the consistency of Compare.
func FuzzVVLaws(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 2, 1, 4, 2, 1, 1, 0, 5, 1, 2, 1, 3, 3})
	f.Add([]byte("the quick brown fox jumps over the lazy dog"))
	f.Add([]byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		a, b, c := src.vv(), src.vv(), src.vv()
		for _, v := range []VV{a, b, c} {
			if !v.Valid() {
				t.Fatalf("generator produced invalid %+v", v)
			}
		}
		ab, ba := a.Merge(b), b.Merge(a)
		if !eqVV(ab, ba) {
			t.Fatalf("Merge not commutative: %+v vs %+v", ab, ba)
		}
		if l, r := ab.Merge(c), a.Merge(b.Merge(c)); !eqVV(l, r) {
			t.Fatalf("Merge not associative: %+v vs %+v", l, r)
		}
		if aa := a.Merge(a); !eqVV(aa, a) {
			t.Fatalf("Merge not idempotent: %+v vs %+v", aa, a)
		}
		if !ab.Valid() {
			t.Fatalf("Merge produced invalid %+v", ab)
		}
		if !ab.Descends(a) || !ab.Descends(b) {
			t.Fatalf("Merge %+v does not descend both %+v and %+v", ab, a, b)
		}
		// The merge is the least upper bound: it has nothing neither input has.
		for _, e := range ab {
			if e.Counter != max(a.Get(e.Actor), b.Get(e.Actor)) {
				t.Fatalf("Merge entry %+v is not the max of the inputs", e)
			}
		}
		if o := Compare(a, ab); o != Before && o != Equal {
			t.Fatalf("Compare(a, a∨b) = %v", o)
		}

		oab, oba := Compare(a, b), Compare(b, a)
		if (oab == Before) != (oba == After) || (oab == After) != (oba == Before) {
			t.Fatalf("Compare not antisymmetric: %v / %v for %+v, %+v", oab, oba, a, b)
		}
		if (oab == Equal) != (oba == Equal) || (oab == Concurrent) != (oba == Concurrent) {
			t.Fatalf("Compare not symmetric on equal/concurrent: %v / %v", oab, oba)
		}
		if Compare(a, a) != Equal {
			t.Fatalf("Compare(a, a) != Equal")
		}
		if want := a.Descends(b) && b.Descends(a); (oab == Equal) != want {
			t.Fatalf("Compare = %v but descends both ways = %v", oab, want)
		}
		// Before is transitive.
		if oab == Before && Compare(b, c) == Before && Compare(a, c) != Before {
			t.Fatalf("Before not transitive: %+v %+v %+v", a, b, c)
		}
		// Covers agrees with Descends on single dots.
		for _, e := range b {
			d := Dot{Actor: e.Actor, Counter: e.Counter}
			if a.Covers(d) != a.Descends(VV{e}) {
				t.Fatalf("Covers(%v) disagrees with Descends", d)
			}
		}
	})
}
