package vclock

// Dot is the single event that created a version: the stamping actor and
// the counter it took. Dots are unique: an actor never hands out a counter
// twice (storage nodes draw them from a durable, node-wide sequence).
type Dot struct {
	Actor   Actor
	Counter uint64
	Stamp   int64 // Unix ms of the write; used for pruning only
}

// sameEvent reports whether a and b name the same write: the same actor
// and counter. Stamp is metadata used for pruning only, not identity.
func sameEvent(a, b Dot) bool { return a.Actor == b.Actor && a.Counter == b.Counter }

// IsZero reports whether d is the absent dot.
func (d Dot) IsZero() bool { return d.Counter == 0 }

func (d Dot) String() string { return string(d.Actor) + ":" + uitoa(d.Counter) }

// Clock is a dotted version vector: the dot of the write plus the causal
// past the writer had seen (the context it wrote with).
type Clock struct {
	Dot  Dot
	Past Context
}

// History is exactly what the clock's version knows: its past and itself.
func (c Clock) History() Context { return c.Past.WithDot(c.Dot) }

// Supersedes reports whether c's writer had seen o, so o is obsolete.
func (c Clock) Supersedes(o Clock) bool {
	return !sameEvent(c.Dot, o.Dot) && c.Past.Covers(o.Dot)
}

// CompareClocks returns the causal order of a relative to b. Two clocks
// that each claim to have seen the other (impossible for honest histories,
// possible for forged or pruned ones) are reported as concurrent, so that
// neither is ever dropped.
func CompareClocks(a, b Clock) Order {
	if sameEvent(a.Dot, b.Dot) {
		return Equal
	}
	ab, ba := a.Supersedes(b), b.Supersedes(a)
	switch {
	case ab && !ba:
		return After
	case ba && !ab:
		return Before
	default:
		return Concurrent
	}
}
