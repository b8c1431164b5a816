package vclock

import (
	"fmt"
	"slices"
	"testing"
)

func TestContextCovers(t *testing.T) {
	for _, tc := range []struct {
		c    string
		d    Dot
		want bool
	}{
		{"", dot("a", 1), false},
		{"", Dot{}, false},
		// Closed entries cover every event up to their counter.
		{"a:2", dot("a", 1), true},
		{"a:2", dot("a", 2), true},
		{"a:2", dot("a", 3), false},
		{"a:2", dot("b", 1), false},
		{"a:2", Dot{Actor: "a"}, false}, // the zero dot is never covered
		{"a:2@99", Dot{Actor: "a", Counter: 2, Stamp: 1}, true},
		// Single dots cover exactly their own event.
		{"| a:5", dot("a", 5), true},
		{"| a:5", dot("a", 4), false},
		{"| a:5", dot("a", 1), false},
		{"| a:5", dot("a", 6), false},
		{"| a:5@3", Dot{Actor: "a", Counter: 5, Stamp: 8}, true}, // stamps do not matter
		{"| a:5", dot("b", 5), false},
		{"| a:5", Dot{Actor: "a"}, false},
		{"| a:2 a:5 b:1", dot("a", 2), true},
		{"| a:2 a:5 b:1", dot("a", 3), false},
		{"| a:2 a:5 b:1", dot("b", 1), true},
		{"| a:2 a:5 b:1", dot("c", 1), false},
		{"| a:2 a:5 b:1", dot("", 2), false},
		{"| b:1", dot("a", 1), false}, // before every dot
		{"| b:1", dot("c", 1), false}, // after every dot
		// Both together.
		{"a:2 | a:4", dot("a", 1), true},
		{"a:2 | a:4", dot("a", 3), false},
		{"a:2 | a:4", dot("a", 4), true},
		{"a:2 | a:4", dot("a", 5), false},
		{"a:2 b:1 | b:3 c:7", dot("b", 2), false},
		{"a:2 b:1 | b:3 c:7", dot("c", 7), true},
		{"a:2 b:1 | b:3 c:7", dot("c", 6), false},
	} {
		c := parseCtx(t, tc.c)
		if !c.Valid() {
			t.Fatalf("test context %q not valid", tc.c)
		}
		if got := c.Covers(tc.d); got != tc.want {
			t.Errorf("{%s}.Covers(%v) = %v, want %v", tc.c, tc.d, got, tc.want)
		}
	}
}

func TestContextGetMaxIsEmpty(t *testing.T) {
	c := parseCtx(t, "a:2 b:7 | a:5 a:9 c:3")
	for _, tc := range []struct {
		actor    Actor
		get, max uint64
	}{
		{"a", 2, 9}, // dots do not count as closed knowledge
		{"b", 7, 7},
		{"c", 0, 3},
		{"d", 0, 0},
	} {
		if got := c.Get(tc.actor); got != tc.get {
			t.Errorf("Get(%s) = %d, want %d", tc.actor, got, tc.get)
		}
		if got := c.Max(tc.actor); got != tc.max {
			t.Errorf("Max(%s) = %d, want %d", tc.actor, got, tc.max)
		}
	}
	for _, tc := range []struct {
		c    Context
		want bool
	}{
		{Context{}, true},
		{Context{VV: VV{}, Dots: []Dot{}}, true},
		{parseCtx(t, "a:1"), false},
		{parseCtx(t, "| a:1"), false},
	} {
		if got := tc.c.IsEmpty(); got != tc.want {
			t.Errorf("%+v.IsEmpty() = %v, want %v", tc.c, got, tc.want)
		}
	}
	if c := Closed(parseVV(t, "a:1 b:2")); !eqContext(c, parseCtx(t, "a:1 b:2")) || c.Dots != nil {
		t.Errorf("Closed = %+v", c)
	}
	if c := Closed(nil); !c.IsEmpty() {
		t.Errorf("Closed(nil) = %+v", c)
	}
}

func TestContextMerge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b    string
		want    string
		wantStr string
	}{
		{"both empty", "", "", "", "{}"},
		{"closed only", "a:1 c:3", "a:2 b:1", "a:2 b:1 c:3", "{a:2,b:1,c:3}"},
		{"dots only, interleaved", "| a:1 c:5", "| a:3 b:2", "| a:1 a:3 b:2 c:5", "{}+[a:1,a:3,b:2,c:5]"},
		{"dot kept next to a lower closed entry", "a:2", "| a:4", "a:2 | a:4", "{a:2}+[a:4]"},
		{"dot dropped under the other side's closed entry", "a:5", "| a:4 b:1", "a:5 | b:1", "{a:5}+[b:1]"},
		{"dot at the other side's closed entry", "| a:5", "a:5", "a:5", "{a:5}"},
		{"every dot covered", "| a:1 a:2 b:9", "a:3 b:9", "a:3 b:9", "{a:3,b:9}"},
		{"duplicate dots once", "| a:4 b:2", "| a:4 c:1", "| a:4 b:2 c:1", "{}+[a:4,b:2,c:1]"},
		{"duplicate dots keep the later stamp", "| a:4@1", "| a:4@9", "| a:4@9", "{}+[a:4]"},
		{"duplicate dots keep the later stamp, swapped", "| a:4@9", "| a:4@1", "| a:4@9", "{}+[a:4]"},
		{"equal closed entries keep the later stamp", "a:2@1 | b:1@2", "a:2@5", "a:2@5 | b:1@2", "{a:2}+[b:1]"},
		{"dots of actors before and after the closed entries", "x:1", "| a:1 z:1", "x:1 | a:1 z:1", "{x:1}+[a:1,z:1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := parseCtx(t, tc.a), parseCtx(t, tc.b)
			aDots, bDots := slices.Clone(a.Dots), slices.Clone(b.Dots)
			got := a.Merge(b)
			if want := parseCtx(t, tc.want); !eqContext(got, want) {
				t.Errorf("Merge = %+v, want %+v", got, want)
			}
			if got.String() != tc.wantStr {
				t.Errorf("Merge.String() = %s, want %s", got, tc.wantStr)
			}
			if !got.Valid() {
				t.Errorf("Merge result %+v not in normal form", got)
			}
			if !slices.Equal(a.Dots, aDots) || !slices.Equal(b.Dots, bDots) {
				t.Errorf("Merge modified its inputs: %+v %+v", a, b)
			}
			if rev := b.Merge(a); !eqContext(rev, got) {
				t.Errorf("Merge not commutative: %+v vs %+v", got, rev)
			}
		})
	}
}

func TestContextMergeDoesNotAlias(t *testing.T) {
	a := parseCtx(t, "a:1 | b:3 c:1")
	m := a.Merge(Context{})
	m.Dots[0].Counter = 99
	m.VV[0].Counter = 99
	if a.Dots[0].Counter != 3 || a.VV[0].Counter != 1 {
		t.Fatalf("Merge result shares memory with its receiver")
	}
}

func TestContextWithDot(t *testing.T) {
	for _, tc := range []struct {
		c    string
		d    Dot
		want string
	}{
		{"", Dot{}, ""},
		{"a:1", Dot{Actor: "b"}, "a:1"}, // zero dot: unchanged
		{"", Dot{Actor: "a", Counter: 1, Stamp: 7}, "| a:1@7"},
		{"a:1", dot("a", 2), "a:1 | a:2"}, // never folded into the closed entry
		{"a:5", dot("a", 3), "a:5"},       // already covered
		{"a:5", dot("a", 5), "a:5"},
		{"| a:3@1", Dot{Actor: "a", Counter: 3, Stamp: 9}, "| a:3@1"}, // already a dot
		{"a:1 | c:2", dot("b", 4), "a:1 | b:4 c:2"},
		{"| b:4 b:9", dot("b", 6), "| b:4 b:6 b:9"},
		{"| b:4", dot("a", 6), "| a:6 b:4"},
	} {
		c := parseCtx(t, tc.c)
		dots := slices.Clone(c.Dots)
		got := c.WithDot(tc.d)
		if want := parseCtx(t, tc.want); !eqContext(got, want) {
			t.Errorf("{%s}.WithDot(%+v) = %+v, want %+v", tc.c, tc.d, got, want)
		}
		if !got.Valid() {
			t.Errorf("{%s}.WithDot(%+v) = %+v not valid", tc.c, tc.d, got)
		}
		if !slices.Equal(c.Dots, dots) {
			t.Errorf("WithDot modified its receiver")
		}
		if !tc.d.IsZero() && !got.Covers(tc.d) {
			t.Errorf("{%s}.WithDot(%v) does not cover it", tc.c, tc.d)
		}
		// It adds exactly that one event.
		for _, a := range []Actor{"a", "b", "c"} {
			for n := uint64(1); n <= 10; n++ {
				e := dot(a, n)
				if got.Covers(e) != (c.Covers(e) || sameEvent(e, tc.d)) {
					t.Errorf("{%s}.WithDot(%v) covers %v: %v", tc.c, tc.d, e, got.Covers(e))
				}
			}
		}
	}
}

func TestContextPrune(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     string
		limit int
		want  string
	}{
		{"limit zero keeps all", "a:1@1 b:1@2 | c:2@1 d:1@1 e:4@0", 0, "a:1@1 b:1@2 | c:2@1 d:1@1 e:4@0"},
		{"negative limit keeps all", "a:1@1 b:1@2 | c:2@1 d:1@1 e:4@0", -1, "a:1@1 b:1@2 | c:2@1 d:1@1 e:4@0"},
		{"under the limit", "a:1@1 | b:2@1", 2, "a:1@1 | b:2@1"},
		{"dots at the limit, VV over it", "a:1@1 b:1@2 c:1@3 | d:2@1 e:4@0", 2, "b:1@2 c:1@3 | d:2@1 e:4@0"},
		{"drops the oldest dots", "| a:3@3 b:1@1 c:2@2", 2, "| a:3@3 c:2@2"},
		{"keeps the newest dots", "| a:1@9 a:4@1 b:2@8 c:7@2 d:1@5", 3, "| a:1@9 b:2@8 d:1@5"},
		{"counters do not matter, stamps do", "| a:100@1 b:1@2", 1, "| b:1@2"},
		{"ties drop the smaller dot first", "| a:1@5 a:2@5 b:1@5", 2, "| a:2@5 b:1@5"},
		{"limit one keeps the newest", "a:1@1 b:1@9 | c:1@2 c:5@7 d:1@3", 1, "b:1@9 | c:5@7"},
		{"negative stamps are oldest", "| a:1@-5 b:1@0", 1, "| b:1@0"},
		{"VV and dots pruned separately", "a:1@9 b:1@9 | c:1@1 d:1@1", 1, "b:1@9 | d:1@1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parseCtx(t, tc.c)
			dots := slices.Clone(c.Dots)
			got := c.Prune(tc.limit)
			if want := parseCtx(t, tc.want); !eqContext(got, want) {
				t.Errorf("{%s}.Prune(%d) = %+v, want %+v", tc.c, tc.limit, got, want)
			}
			if !got.Valid() {
				t.Errorf("Prune result %+v not valid", got)
			}
			if !slices.Equal(c.Dots, dots) {
				t.Errorf("Prune modified its receiver: %+v", c)
			}
		})
	}
}

func TestContextValid(t *testing.T) {
	for _, tc := range []struct {
		c    Context
		want bool
	}{
		{Context{}, true},
		{Context{VV: VV{}, Dots: []Dot{}}, true},
		{parseCtx(t, "a:1 b:2"), true},
		{parseCtx(t, "| a:1 a:3 b:1"), true},
		{parseCtx(t, "a:1 | a:3 b:1"), true},
		{parseCtx(t, "a:1 | a:2"), true}, // next to the closed entry: still a dot
		{parseCtx(t, "b:1 a:1"), false},  // VV unsorted
		{parseCtx(t, "a:0"), false},      // VV zero counter
		{parseCtx(t, "| a:0"), false},    // zero dot
		{parseCtx(t, "| :1"), false},     // dot of the empty actor
		{parseCtx(t, "| b:1 a:1"), false},
		{parseCtx(t, "| a:3 a:1"), false},
		{parseCtx(t, "| a:1 a:1"), false},
		{parseCtx(t, "| a:1@1 a:1@2"), false}, // one event twice
		{parseCtx(t, "a:3 | a:3"), false},     // covered by the VV
		{parseCtx(t, "a:3 | a:1"), false},
		{parseCtx(t, "a:3 | b:1 a:2"), false},
	} {
		if got := tc.c.Valid(); got != tc.want {
			t.Errorf("%+v.Valid() = %v, want %v", tc.c, got, tc.want)
		}
	}
}

func TestContextEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"a:1 | b:2", "a:1 | b:2", true},
		{"a:1@1 | b:2@3", "a:1@9 | b:2@0", true}, // stamps never matter
		{"a:1", "a:2", false},
		{"a:1", "a:1 b:1", false},
		{"| b:2", "", false},
		{"| b:2", "| b:3", false},
		{"| b:2", "| c:2", false},
		{"| b:2", "| b:2 c:1", false},
		{"b:2", "| b:2", false}, // a closed entry is more than its last dot
		{"b:2", "b:1 | b:2", false},
	} {
		a, b := parseCtx(t, tc.a), parseCtx(t, tc.b)
		if got := a.Equal(b); got != tc.want {
			t.Errorf("{%s}.Equal({%s}) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := b.Equal(a); got != tc.want {
			t.Errorf("{%s}.Equal({%s}) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
	if !(Context{VV: VV{}, Dots: []Dot{}}).Equal(Context{}) {
		t.Errorf("empty and nil contexts not Equal")
	}
}

func TestContextString(t *testing.T) {
	for _, tc := range []struct {
		c    Context
		want string
	}{
		{Context{}, "{}"},
		{parseCtx(t, "a:1 n1~A:10@99"), "{a:1,n1~A:10}"},
		{parseCtx(t, "| n1:4@7"), "{}+[n1:4]"},
		{parseCtx(t, "a:1 | a:3 b:18446744073709551615"), "{a:1}+[a:3,b:18446744073709551615]"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// coveredEvents lists the events among actors a–e, counters 1–12, that c
// covers: every event the fuzz generator can mention.
func coveredEvents(c Context) map[event]bool {
	m := map[event]bool{}
	for _, a := range fuzzActors {
		for n := uint64(1); n <= 12; n++ {
			if c.Covers(dot(a, n)) {
				m[event{a, n}] = true
			}
		}
	}
	return m
}

// FuzzContextLaws decodes three contexts and checks that Merge is the join
// of a lattice in normal form: commutative, associative, idempotent (stamps
// included, as for VV.Merge), with the empty context as identity, covering
// exactly what either input covers; and that WithDot and Prune agree with
// it.
func FuzzContextLaws(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 2, 1, 4, 2, 1, 1, 0, 5, 1, 2, 1, 3, 3})
	f.Add([]byte("single dots are seen without the events before them"))
	f.Add([]byte{3, 4, 20, 5, 1, 52, 6, 21, 9, 0, 15, 5, 3, 4, 20, 5, 68, 52, 6, 21, 9, 0, 15, 100, 3, 4, 20, 5, 1, 116, 6, 21})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		a, b, c := src.context(), src.context(), src.context()
		for _, x := range []Context{a, b, c} {
			if !x.Valid() {
				t.Fatalf("generator produced invalid %+v", x)
			}
		}
		aDots := slices.Clone(a.Dots)
		ab, ba := a.Merge(b), b.Merge(a)
		if !slices.Equal(a.Dots, aDots) {
			t.Fatalf("Merge modified its receiver")
		}
		if !eqContext(ab, ba) {
			t.Fatalf("Merge not commutative: %+v vs %+v", ab, ba)
		}
		if l, r := ab.Merge(c), a.Merge(b.Merge(c)); !eqContext(l, r) {
			t.Fatalf("Merge not associative: %+v vs %+v", l, r)
		}
		if aa := a.Merge(a); !eqContext(aa, a) {
			t.Fatalf("Merge not idempotent: %+v vs %+v", aa, a)
		}
		if ae, ea := a.Merge(Context{}), (Context{}).Merge(a); !eqContext(ae, a) || !eqContext(ea, a) {
			t.Fatalf("the empty context is not the identity: %+v, %+v vs %+v", ae, ea, a)
		}
		if !ab.Valid() {
			t.Fatalf("Merge produced %+v, not in normal form", ab)
		}
		if !ab.Equal(ba) || !a.Equal(a) {
			t.Fatalf("Equal disagrees with Merge")
		}
		// The merge covers exactly what either input covers.
		ca, cb, cab := coveredEvents(a), coveredEvents(b), coveredEvents(ab)
		for e := range ca {
			if !cab[e] {
				t.Fatalf("%v ∨ %v = %v does not cover %v, which the left covers", a, b, ab, e)
			}
		}
		for e := range cb {
			if !cab[e] {
				t.Fatalf("%v ∨ %v = %v does not cover %v, which the right covers", a, b, ab, e)
			}
		}
		for e := range cab {
			if !ca[e] && !cb[e] {
				t.Fatalf("%v ∨ %v = %v covers %v, which neither input covers", a, b, ab, e)
			}
		}
		// The closed part is the merge of the closed parts, whatever dots
		// came along.
		if !eqVV(ab.VV, a.VV.Merge(b.VV)) {
			t.Fatalf("Merge closed part %v, want %v", ab.VV, a.VV.Merge(b.VV))
		}

		// WithDot is the merge with a context of one dot.
		for _, d := range b.Dots {
			if w, m := a.WithDot(d), a.Merge(Context{Dots: []Dot{d}}); !w.Equal(m) || !w.Valid() {
				t.Fatalf("%v.WithDot(%v) = %v, want %v", a, d, w, m)
			}
		}
		// Pruning only removes knowledge and keeps the normal form.
		for limit := 1; limit <= 3; limit++ {
			p := ab.Prune(limit)
			if !p.Valid() || len(p.VV) > limit || len(p.Dots) > limit {
				t.Fatalf("%v.Prune(%d) = %+v", ab, limit, p)
			}
			for e := range coveredEvents(p) {
				if !cab[e] {
					t.Fatalf("%v.Prune(%d) = %v covers %v", ab, limit, p, e)
				}
			}
		}
		_ = fmt.Sprint(ab) // String never panics
	})
}
