package vclock

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// parseVV builds a version vector from "a:1 b:2@5" (actor:counter@stamp, the
// stamp optional). Entries are taken in the order given, unnormalised, so
// tests can also build invalid vectors.
func parseVV(t testing.TB, s string) VV {
	t.Helper()
	var v VV
	for _, f := range strings.Fields(s) {
		e := Entry{}
		actor, rest, ok := strings.Cut(f, ":")
		if !ok {
			t.Fatalf("parseVV %q: missing ':' in %q", s, f)
		}
		e.Actor = Actor(actor)
		counter, stamp, hasStamp := strings.Cut(rest, "@")
		c, err := strconv.ParseUint(counter, 10, 64)
		if err != nil {
			t.Fatalf("parseVV %q: %v", s, err)
		}
		e.Counter = c
		if hasStamp {
			st, err := strconv.ParseInt(stamp, 10, 64)
			if err != nil {
				t.Fatalf("parseVV %q: %v", s, err)
			}
			e.Stamp = st
		}
		v = append(v, e)
	}
	return v
}

// parseCtx builds a context from "a:1 b:2@5 | c:7 d:3@1": the closed VV,
// then, after a bar, the single dots (same syntax). Both parts are taken as
// given, unnormalised, so tests can also build invalid contexts.
func parseCtx(t testing.TB, s string) Context {
	t.Helper()
	closed, single, _ := strings.Cut(s, "|")
	c := Context{VV: parseVV(t, closed)}
	for _, e := range parseVV(t, single) {
		c.Dots = append(c.Dots, Dot(e))
	}
	return c
}

// dot builds a dot with a zero stamp.
func dot(a Actor, c uint64) Dot { return Dot{Actor: a, Counter: c} }

// ver builds a version with the given dot, closed past and value.
func ver(d Dot, past VV, value string) Version {
	return Version{Clock: Clock{Dot: d, Past: Closed(past)}, Value: []byte(value)}
}

// verCtx builds a version with the given dot, past context and value.
func verCtx(d Dot, past Context, value string) Version {
	return Version{Clock: Clock{Dot: d, Past: past}, Value: []byte(value)}
}

// eqVV reports whether two vectors hold the same entries (stamps included);
// nil and empty are the same vector.
func eqVV(a, b VV) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// eqContext reports whether two contexts hold the same entries and dots,
// stamps included; nil and empty are the same.
func eqContext(a, b Context) bool {
	return eqVV(a.VV, b.VV) && slices.Equal(a.Dots, b.Dots)
}

// eqVersion compares everything a version holds.
func eqVersion(a, b Version) bool {
	return a.Clock.Dot == b.Clock.Dot && eqContext(a.Clock.Past, b.Clock.Past) &&
		string(a.Value) == string(b.Value) && a.Deleted == b.Deleted &&
		a.Modified == b.Modified && a.Expires == b.Expires && a.Write == b.Write
}

// eqSet compares two sets version by version, bodies included.
func eqSet(a, b Set) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !eqVersion(a[i], b[i]) {
			return false
		}
	}
	return true
}

// event is the identity of a write: a dot without its stamp.
type event struct {
	Actor   Actor
	Counter uint64
}

func eventOf(d Dot) event { return event{d.Actor, d.Counter} }

func events(s Set) map[event]bool {
	m := make(map[event]bool, len(s))
	for _, v := range s {
		m[eventOf(v.Clock.Dot)] = true
	}
	return m
}

// checkSetInvariants fails the test unless s is strictly sorted by dot and
// no version in it is superseded by another one.
func checkSetInvariants(t testing.TB, s Set) {
	t.Helper()
	for i := 1; i < len(s); i++ {
		if !dotLess(s[i-1].Clock.Dot, s[i].Clock.Dot) {
			t.Fatalf("set not strictly sorted by dot: %v", s.Dots())
		}
	}
	for _, v := range s {
		if v.Clock.Dot.IsZero() {
			t.Fatalf("version without a dot in %v", s.Dots())
		}
		for _, w := range s {
			if o := CompareClocks(v.Clock, w.Clock); o == Before || o == After {
				t.Fatalf("set %v holds %v and %v, which are ordered (%v)", s.Dots(), v.Clock.Dot, w.Clock.Dot, o)
			}
		}
	}
}

// byteSource turns fuzz input into small numbers; it yields zeros once the
// input is exhausted, so every input decodes to something.
type byteSource struct{ b []byte }

func (s *byteSource) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) intn(n int) int { return int(s.next()) % n }

var fuzzActors = []Actor{"a", "b", "c", "d", "e"}

// vv decodes a valid version vector over a small alphabet of actors with
// small counters and stamps, so that equal counters and ties are frequent.
func (s *byteSource) vv() VV {
	var entries []Entry
	for _, a := range fuzzActors {
		c := s.next()
		if c%3 == 0 {
			continue
		}
		entries = append(entries, Entry{Actor: a, Counter: uint64(c%7 + 1), Stamp: int64(s.next() % 4)})
	}
	return VV(entries)
}

// context decodes a valid context. It reads exactly the bytes vv reads (so
// corpora written for closed pasts keep their shape) and takes the single
// dots from the bits vv leaves unused: an absent actor may get a dot, a
// present one a dot above its closed counter. Stamps are small, so two
// contexts often hold one event with different stamps.
func (s *byteSource) context() Context {
	var c Context
	for _, a := range fuzzActors {
		b := s.next()
		if b%3 == 0 {
			if x := b / 3; x%4 == 1 {
				c.Dots = append(c.Dots, Dot{Actor: a, Counter: uint64(x/4%7 + 1), Stamp: int64(x / 4 / 7 % 4)})
			}
			continue
		}
		e := Entry{Actor: a, Counter: uint64(b%7 + 1)}
		st := s.next()
		e.Stamp = int64(st % 4)
		c.VV = append(c.VV, e)
		if st/4%4 == 1 {
			c.Dots = append(c.Dots, Dot{Actor: a, Counter: e.Counter + 1 + uint64(st/16%3), Stamp: int64(st / 48)})
		}
	}
	return c
}

// version decodes an arbitrary (possibly forged) version.
func (s *byteSource) version() Version {
	a := fuzzActors[s.intn(len(fuzzActors))]
	d := Dot{Actor: a, Counter: uint64(s.intn(6) + 1), Stamp: int64(s.intn(3))}
	past := s.context()
	vb := s.next() // value and write id share a byte, keeping old corpora meaningful
	return Version{
		Clock:    Clock{Dot: d, Past: past},
		Value:    []byte{'v', '0' + vb%3},
		Write:    uint64(vb / 3 % 2),
		Deleted:  s.intn(5) == 0,
		Modified: int64(s.intn(4)),
	}
}

// set decodes a set of up to 7 arbitrary versions, normalised by Sync.
func (s *byteSource) set() Set {
	n := s.intn(8)
	raw := make(Set, 0, n)
	for range n {
		raw = append(raw, s.version())
	}
	return Set(nil).Sync(raw)
}

// history simulates replicas of one item exchanging writes and syncs: every
// write is stamped by its replica's actor with a fresh node-wide counter and
// carries a context some client really obtained: a fresh read of some
// replica (Set.Context), an older read or write context, the context its
// own previous write returned (Set.WriteContext, as a storage node returns
// it), or none. Pasts therefore carry single dots as well as closed
// entries. It returns every set some replica held along the way.
func history(rng *rand.Rand, replicas, steps int) []Set {
	sets := make([]Set, replicas)
	counters := make([]uint64, replicas)
	clients := make([]Context, 3) // each client's context from its last write
	var contexts []Context
	var snapshots []Set
	for step := range steps {
		r := rng.IntN(replicas)
		switch op := rng.IntN(10); {
		case op < 6: // write at r by client c
			c := rng.IntN(len(clients))
			var ctx Context
			switch rng.IntN(4) {
			case 0: // fresh read from some replica
				ctx = sets[rng.IntN(replicas)].Context()
				contexts = append(contexts, ctx)
			case 1: // stale context from an earlier read or write
				if len(contexts) > 0 {
					ctx = contexts[rng.IntN(len(contexts))]
				}
			case 2: // the context c's own last write returned
				ctx = clients[c]
			} // case 3: blind write
			counters[r]++
			d := Dot{Actor: Actor(fmt.Sprintf("n%d", r)), Counter: counters[r], Stamp: int64(step)}
			v := Version{
				Clock:    Clock{Dot: d},
				Value:    []byte(fmt.Sprintf("w%d", step)),
				Modified: int64(step),
			}
			sets[r] = sets[r].Update(ctx, v, 0)
			if got, ok := byDot(sets[r], d); ok {
				clients[c] = sets[r].WriteContext(got)
				contexts = append(contexts, clients[c])
			}
		default: // anti-entropy between r and another replica
			o := rng.IntN(replicas)
			sets[r] = sets[r].Sync(sets[o])
			sets[o] = sets[o].Sync(sets[r])
		}
		snapshots = append(snapshots, sets[r])
	}
	return snapshots
}

// byDot returns the version of s with dot d's event.
func byDot(s Set, d Dot) (Version, bool) {
	for _, v := range s {
		if sameEvent(v.Clock.Dot, d) {
			return v, true
		}
	}
	return Version{}, false
}

// transitive reports whether the versions of the given sets are free of
// forgeries (one dot with two different bodies) and supersession among them
// is a strict partial order (no mutual supersession, and z ⊐ y ⊐ x implies
// z ⊐ x). Sync is associative on such sets.
func transitive(sets ...Set) bool {
	var all []Version
	for _, s := range sets {
		all = append(all, s...)
	}
	for _, x := range all {
		for _, y := range all {
			if eventOf(x.Clock.Dot) == eventOf(y.Clock.Dot) && !eqVersion(x, y) {
				return false
			}
			if !y.Clock.Supersedes(x.Clock) {
				continue
			}
			if x.Clock.Supersedes(y.Clock) {
				return false
			}
			for _, z := range all {
				if z.Clock.Supersedes(y.Clock) && !z.Clock.Supersedes(x.Clock) && eventOf(z.Clock.Dot) != eventOf(x.Clock.Dot) {
					return false
				}
			}
		}
	}
	return true
}
