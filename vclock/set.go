package vclock

import (
	"bytes"
	"sort"
)

// Version is one stored value of an item with its clock. Value is opaque to
// this package (the item's JSON); a tombstone has Deleted set and no value.
type Version struct {
	Clock    Clock
	Value    []byte
	Deleted  bool
	Modified int64 // Unix ms at the stamping node; orders last-writer-wins
	Expires  int64 // Unix ms after which the version is gone; 0 never
	// Write identifies the client request that made the version (0: none).
	// A coordinator that retries a write on another stamper reuses it, and a
	// stamper that already holds a version of that request (forwarded by the
	// first stamper) acknowledges it instead of stamping a duplicate sibling;
	// a write whose context covers one stamp of a request supersedes the
	// others too (CoverRestamps).
	Write uint64
}

// Set is the sibling set of one item: versions sorted by dot, none of which
// supersedes another. The zero value is the empty set (item never written).
type Set []Version

func dotLess(a, b Dot) bool {
	if a.Actor != b.Actor {
		return a.Actor < b.Actor
	}
	return a.Counter < b.Counter
}

// Sync merges two replicas' sibling sets: their union, without duplicates,
// without any version another version supersedes. It is the only way sets
// are combined, on every replica, in read repair and in anti-entropy.
//
// Duplicates (same dot) are the same write; if their bodies differ (only a
// forged or corrupted message can do that) the one that sorts first is kept
// so the result does not depend on argument order.
func (s Set) Sync(o Set) Set {
	// The common cases on a read's path, answered without sorting: one
	// side empty, or both the same single version (what normalize would
	// keep of them).
	switch {
	case len(s) == 1 && len(o) == 0:
		return Set{s[0]}
	case len(s) == 0 && len(o) == 1:
		return Set{o[0]}
	case len(s) == 1 && len(o) == 1 && sameEvent(s[0].Clock.Dot, o[0].Clock.Dot) &&
		!versionBodyLess(s[0], o[0]) && !versionBodyLess(o[0], s[0]):
		return Set{s[0]}
	}
	all := make(Set, 0, len(s)+len(o))
	all = append(all, s...)
	all = append(all, o...)
	return normalize(all)
}

// normalize sorts, deduplicates and removes superseded versions.
func normalize(all Set) Set {
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !sameEvent(a.Clock.Dot, b.Clock.Dot) {
			return dotLess(a.Clock.Dot, b.Clock.Dot)
		}
		return versionBodyLess(a, b)
	})
	out := all[:0:0]
	for i, v := range all {
		if i > 0 && sameEvent(all[i-1].Clock.Dot, v.Clock.Dot) {
			continue
		}
		superseded := false
		for _, w := range all {
			if CompareClocks(v.Clock, w.Clock) == Before {
				superseded = true
				break
			}
		}
		if !superseded {
			out = append(out, v)
		}
	}
	return out
}

// versionBodyLess orders two versions with the same dot deterministically.
func versionBodyLess(a, b Version) bool {
	if c := bytes.Compare(a.Value, b.Value); c != 0 {
		return c < 0
	}
	if a.Deleted != b.Deleted {
		return !a.Deleted
	}
	if a.Modified != b.Modified {
		return a.Modified < b.Modified
	}
	if a.Expires != b.Expires {
		return a.Expires < b.Expires
	}
	if a.Write != b.Write {
		return a.Write < b.Write
	}
	if a.Clock.Dot.Stamp != b.Clock.Dot.Stamp {
		return a.Clock.Dot.Stamp < b.Clock.Dot.Stamp
	}
	return contextLess(a.Clock.Past, b.Clock.Past)
}

func pastLess(a, b VV) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i].Actor != b[i].Actor {
				return a[i].Actor < b[i].Actor
			}
			if a[i].Counter != b[i].Counter {
				return a[i].Counter < b[i].Counter
			}
			return a[i].Stamp < b[i].Stamp
		}
	}
	return len(a) < len(b)
}

// Context is what a reader of the whole set has seen. Every present dot
// and every closed past joins the VV: a set that holds an actor's event
// holds, or supersedes, that actor's earlier events on the item, so the
// reader has seen them too. Single dots of pasts stay single: they were
// seen by a writer without the events before them. A write made with this
// context supersedes every sibling.
func (s Set) Context() Context {
	var c Context
	for _, v := range s {
		c.VV = c.VV.Merge(v.Clock.Past.VV).WithDot(v.Clock.Dot)
		c.Dots = append(c.Dots, v.Clock.Past.Dots...)
	}
	return c.normal()
}

// Update applies a new write made with context ctx. The new version v
// (whose Clock.Dot the caller has stamped) gets ctx as its past, pruned to
// pruneLimit entries, and replaces exactly the siblings ctx covers.
func (s Set) Update(ctx Context, v Version, pruneLimit int) Set {
	v.Clock.Past = ctx.Prune(pruneLimit)
	out := make(Set, 0, len(s)+1)
	for _, old := range s {
		if !v.Clock.Past.Covers(old.Clock.Dot) {
			out = append(out, old)
		}
	}
	return normalize(append(out, v))
}

// WriteContext is the context a writer gets back for its new version v of
// the set s (after the write): exactly v's history, with v's dot folded
// into the closed VV when no other sibling of s was stamped by the same
// actor. Folding keeps contexts small in the common case; it is safe then
// because every earlier event of that actor on the item is superseded, so
// claiming it supersedes nothing alive.
func (s Set) WriteContext(v Version) Context {
	d := v.Clock.Dot
	for _, o := range s {
		if o.Clock.Dot.Actor == d.Actor && !sameEvent(o.Clock.Dot, d) {
			return v.Clock.History()
		}
	}
	// normal sorts and compacts the dots in place: copy them, or v's past
	// (shared with the version the set holds) would be overwritten.
	return Context{VV: v.Clock.Past.VV.WithDot(d), Dots: append([]Dot(nil), v.Clock.Past.Dots...)}.normal()
}

// ByWrite returns the version made by client request w, if the set holds
// one.
func (s Set) ByWrite(w uint64) (Version, bool) {
	for _, v := range s {
		if w != 0 && v.Write == w {
			return v, true
		}
	}
	return Version{}, false
}

// CoverRestamps returns ctx extended by the dots of every version of s
// made by the same client request as a version ctx covers; ctx itself is
// not changed. A write a coordinator retried on another stamper is one
// write with two dots (see OncePerWrite), and its answer's context names
// only the dot that answered. A client that saw one of them saw the
// write, so its next write supersedes both wherever its stamper holds
// both: the extended past travels with the new version, and every other
// replica drops the other stamp by the ordinary rule.
func (s Set) CoverRestamps(ctx Context) Context {
	out := ctx
	for _, v := range s {
		if v.Write == 0 || ctx.Covers(v.Clock.Dot) {
			continue
		}
		for _, w := range s {
			if w.Write == v.Write && ctx.Covers(w.Clock.Dot) {
				out = out.WithDot(v.Clock.Dot)
				break
			}
		}
	}
	return out
}

// OncePerWrite returns the set with each client request's versions after
// the first left out (versions without a request ID all stay), in the
// set's order; s itself is not changed. A coordinator that gave up on a
// slow stamper has another replica stamp the same request, and when the
// first stamp lands too the item holds two versions of one write: the
// same request ID, value and past, two dots. Nobody made that conflict,
// so it is shown and counted once, while the set keeps both, and the
// set's context, which covers both, replaces both when written with.
func (s Set) OncePerWrite() Set {
	var out Set // made at the first repeat
	for i, v := range s {
		_, repeat := s[:i].ByWrite(v.Write)
		switch {
		case repeat && out == nil:
			out = append(make(Set, 0, len(s)-1), s[:i]...)
		case !repeat && out != nil:
			out = append(out, v)
		}
	}
	if out == nil {
		return s
	}
	return out
}

// MaxCounter returns the largest counter of actor a in any dot or past of
// the set, so a stamping actor can stay above everything the item has seen.
func (s Set) MaxCounter(a Actor) uint64 {
	var m uint64
	for _, v := range s {
		if v.Clock.Dot.Actor == a && v.Clock.Dot.Counter > m {
			m = v.Clock.Dot.Counter
		}
		if c := v.Clock.Past.Max(a); c > m {
			m = c
		}
	}
	return m
}

// Live returns the versions that are neither tombstones nor expired at now.
func (s Set) Live(now int64) Set {
	var out Set
	for _, v := range s {
		if !v.Deleted && (v.Expires == 0 || v.Expires > now) {
			out = append(out, v)
		}
	}
	return out
}

// Newest returns the last-writer-wins survivor: the latest Modified, ties
// broken by dot so every replica picks the same one. ok is false for an
// empty set.
func (s Set) Newest() (Version, bool) {
	if len(s) == 0 {
		return Version{}, false
	}
	best := s[0]
	for _, v := range s[1:] {
		if v.Modified > best.Modified || (v.Modified == best.Modified && dotLess(best.Clock.Dot, v.Clock.Dot)) {
			best = v
		}
	}
	return best, true
}

// Same reports whether two sets hold exactly the same versions (by dot).
func (s Set) Same(o Set) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if !sameEvent(s[i].Clock.Dot, o[i].Clock.Dot) {
			return false
		}
	}
	return true
}

// Dots lists the dots of the set, in order.
func (s Set) Dots() []Dot {
	out := make([]Dot, len(s))
	for i, v := range s {
		out[i] = v.Clock.Dot
	}
	return out
}
