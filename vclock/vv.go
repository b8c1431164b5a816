package vclock

import (
	"sort"
	"strings"
)

// Actor names a storage-node incarnation: the node ID and the epoch it took
// when its data directory was created.
type Actor string

// Entry is one actor's counter in a version vector. Stamp is the wall-clock
// time (Unix milliseconds) at which the counter was last advanced; it only
// orders entries for pruning and never affects causality.
type Entry struct {
	Actor   Actor
	Counter uint64
	Stamp   int64
}

// VV is a version vector: entries sorted by actor, at most one per actor,
// counters never zero. The zero value is the empty vector. VV values are
// treated as immutable; every operation returns a new slice.
type VV []Entry

// Order is the causal relation between two clocks.
type Order int

const (
	// Equal: both describe the same history.
	Equal Order = iota
	// Before: the left side happened before the right side.
	Before
	// After: the left side happened after the right side.
	After
	// Concurrent: neither has seen the other.
	Concurrent
)

func (o Order) String() string {
	switch o {
	case Equal:
		return "equal"
	case Before:
		return "before"
	case After:
		return "after"
	default:
		return "concurrent"
	}
}

// Get returns the actor's counter, zero when absent.
func (v VV) Get(a Actor) uint64 {
	i := sort.Search(len(v), func(i int) bool { return v[i].Actor >= a })
	if i < len(v) && v[i].Actor == a {
		return v[i].Counter
	}
	return 0
}

// Covers reports whether the event d is part of the history v describes.
func (v VV) Covers(d Dot) bool { return d.Counter != 0 && v.Get(d.Actor) >= d.Counter }

// Descends reports whether v has seen everything o has (v ≥ o pointwise).
func (v VV) Descends(o VV) bool {
	for _, e := range o {
		if v.Get(e.Actor) < e.Counter {
			return false
		}
	}
	return true
}

// Compare returns the causal order of a relative to b.
func Compare(a, b VV) Order {
	ab, ba := a.Descends(b), b.Descends(a)
	switch {
	case ab && ba:
		return Equal
	case ab:
		return After
	case ba:
		return Before
	default:
		return Concurrent
	}
}

// Merge returns the pointwise maximum of v and o. For equal counters the
// later stamp is kept, so merge stays commutative.
func (v VV) Merge(o VV) VV {
	out := make(VV, 0, len(v)+len(o))
	i, j := 0, 0
	for i < len(v) && j < len(o) {
		switch {
		case v[i].Actor < o[j].Actor:
			out = append(out, v[i])
			i++
		case v[i].Actor > o[j].Actor:
			out = append(out, o[j])
			j++
		default:
			out = append(out, maxEntry(v[i], o[j]))
			i++
			j++
		}
	}
	out = append(out, v[i:]...)
	return append(out, o[j:]...)
}

func maxEntry(a, b Entry) Entry {
	if a.Counter != b.Counter {
		if a.Counter > b.Counter {
			return a
		}
		return b
	}
	if b.Stamp > a.Stamp {
		return b
	}
	return a
}

// WithDot returns v extended to cover the event d.
func (v VV) WithDot(d Dot) VV {
	if d.Counter == 0 {
		return v
	}
	return v.Merge(VV{{Actor: d.Actor, Counter: d.Counter, Stamp: d.Stamp}})
}

// Event returns v with the actor's counter advanced by one, stamped now.
func (v VV) Event(a Actor, now int64) VV {
	return v.WithDot(Dot{Actor: a, Counter: v.Get(a) + 1, Stamp: now})
}

// Prune returns v reduced to at most limit entries by dropping the entries
// with the oldest stamps first (ties: the smaller actor goes first, so the
// result is deterministic). A limit below one keeps everything.
//
// NB: pruning removes knowledge. Used on a version's Past, it can only make
// that version supersede less, which yields a spurious sibling rather than a
// lost write.
func (v VV) Prune(limit int) VV {
	if limit < 1 || len(v) <= limit {
		return v
	}
	byAge := make(VV, len(v))
	copy(byAge, v)
	sort.Slice(byAge, func(i, j int) bool {
		if byAge[i].Stamp != byAge[j].Stamp {
			return byAge[i].Stamp < byAge[j].Stamp
		}
		return byAge[i].Actor < byAge[j].Actor
	})
	kept := byAge[len(byAge)-limit:]
	sort.Slice(kept, func(i, j int) bool { return kept[i].Actor < kept[j].Actor })
	return kept
}

// Valid reports whether v is sorted by actor with no duplicates and no zero
// counters, as every decoded or constructed VV must be.
func (v VV) Valid() bool {
	for i, e := range v {
		if e.Counter == 0 || e.Actor == "" {
			return false
		}
		if i > 0 && v[i-1].Actor >= e.Actor {
			return false
		}
	}
	return true
}

// Normalize sorts entries by actor, merges duplicates and drops zero
// counters. It is for building vectors from untrusted or unordered input.
func Normalize(entries []Entry) VV {
	out := VV(nil)
	for _, e := range entries {
		if e.Counter == 0 || e.Actor == "" {
			continue
		}
		out = out.Merge(VV{e})
	}
	return out
}

func (v VV) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(e.Actor))
		b.WriteByte(':')
		b.WriteString(uitoa(e.Counter))
	}
	b.WriteByte('}')
	return b.String()
}

func uitoa(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(buf[i:])
}
