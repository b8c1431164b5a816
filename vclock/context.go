package vclock

import (
	"sort"
	"strings"
)

// Context is what a client (or a version's writer) has seen of an item.
//
// VV is closed knowledge: every event of an actor up to its counter, as a
// read of a whole sibling set gives (a set that holds an actor's event also
// holds, or supersedes, each earlier event of that actor on the item).
// Dots are single events seen without the events before them, as a write
// gives: the writer saw its own new version, not the concurrent versions
// the same replica stamped earlier. Keeping those apart is what stops a
// chain of writes from silently superseding siblings its writer never saw.
//
// Dots are sorted by actor and counter, unique, and none is covered by VV.
type Context struct {
	VV   VV
	Dots []Dot
}

// Covers reports whether the event d is part of what c has seen.
func (c Context) Covers(d Dot) bool {
	if c.VV.Covers(d) {
		return true
	}
	i := sort.Search(len(c.Dots), func(i int) bool { return !dotLess(c.Dots[i], d) })
	return i < len(c.Dots) && sameEvent(c.Dots[i], d)
}

// IsEmpty reports whether c has seen nothing.
func (c Context) IsEmpty() bool { return len(c.VV) == 0 && len(c.Dots) == 0 }

// Get returns the closed counter of actor a (Dots are not counted).
func (c Context) Get(a Actor) uint64 { return c.VV.Get(a) }

// Max returns the largest counter of actor a that c mentions.
func (c Context) Max(a Actor) uint64 {
	m := c.VV.Get(a)
	for _, d := range c.Dots {
		if d.Actor == a && d.Counter > m {
			m = d.Counter
		}
	}
	return m
}

// Merge returns the union of two contexts.
func (c Context) Merge(o Context) Context {
	return Context{VV: c.VV.Merge(o.VV), Dots: append(append([]Dot(nil), c.Dots...), o.Dots...)}.normal()
}

// WithDot returns c extended by the single event d.
func (c Context) WithDot(d Dot) Context {
	if d.IsZero() || c.Covers(d) {
		return c
	}
	return Context{VV: c.VV, Dots: append(append([]Dot(nil), c.Dots...), d)}.normal()
}

// normal sorts the dots, drops duplicates and dots the VV covers. Of two
// copies of one event the later stamp is kept (as VV.Merge does), so the
// result does not depend on the order of the input.
func (c Context) normal() Context {
	sort.Slice(c.Dots, func(i, j int) bool {
		if sameEvent(c.Dots[i], c.Dots[j]) {
			return c.Dots[i].Stamp > c.Dots[j].Stamp
		}
		return dotLess(c.Dots[i], c.Dots[j])
	})
	out := c.Dots[:0]
	for i, d := range c.Dots {
		if d.IsZero() || c.VV.Covers(d) || (i > 0 && sameEvent(c.Dots[i-1], d)) {
			continue
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		out = nil
	}
	c.Dots = out
	return c
}

// Prune bounds c to limit VV entries and limit dots, dropping the oldest
// stamps first. Like VV.Prune it only removes knowledge, so a version whose
// past is pruned can only supersede less.
func (c Context) Prune(limit int) Context {
	if limit < 1 || len(c.Dots) <= limit {
		return Context{VV: c.VV.Prune(limit), Dots: c.Dots}
	}
	byAge := append([]Dot(nil), c.Dots...)
	sort.SliceStable(byAge, func(i, j int) bool { return byAge[i].Stamp < byAge[j].Stamp })
	return Context{VV: c.VV.Prune(limit), Dots: byAge[len(byAge)-limit:]}.normal()
}

// Valid reports whether c is in normal form.
func (c Context) Valid() bool {
	if !c.VV.Valid() {
		return false
	}
	for i, d := range c.Dots {
		if d.IsZero() || d.Actor == "" || c.VV.Covers(d) || (i > 0 && !dotLess(c.Dots[i-1], d)) {
			return false
		}
	}
	return true
}

// Equal reports whether two contexts have seen the same events.
func (c Context) Equal(o Context) bool {
	if Compare(c.VV, o.VV) != Equal || len(c.Dots) != len(o.Dots) {
		return false
	}
	for i := range c.Dots {
		if !sameEvent(c.Dots[i], o.Dots[i]) {
			return false
		}
	}
	return true
}

// Closed returns a context with the VV and no dots.
func Closed(vv VV) Context { return Context{VV: vv} }

func (c Context) String() string {
	if len(c.Dots) == 0 {
		return c.VV.String()
	}
	var b strings.Builder
	b.WriteString(c.VV.String())
	b.WriteString("+[")
	for i, d := range c.Dots {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.String())
	}
	b.WriteByte(']')
	return b.String()
}

func contextLess(a, b Context) bool {
	if pastLess(a.VV, b.VV) != pastLess(b.VV, a.VV) {
		return pastLess(a.VV, b.VV)
	}
	for i := 0; i < len(a.Dots) && i < len(b.Dots); i++ {
		if a.Dots[i] != b.Dots[i] {
			if !sameEvent(a.Dots[i], b.Dots[i]) {
				return dotLess(a.Dots[i], b.Dots[i])
			}
			return a.Dots[i].Stamp < b.Dots[i].Stamp
		}
	}
	return len(a.Dots) < len(b.Dots)
}
