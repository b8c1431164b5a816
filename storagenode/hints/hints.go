// Package hints decides when a fallback node hands hinted versions back to
// the replicas they were written for (Dynamo's hinted handoff), as a pure
// state machine: the node's driver tells it which owners have hints and
// which are reachable, and how each delivery went; every tick it answers
// which owners to deliver to now. No I/O, no clock: time is ticks.
//
// An owner is tried only while it is reachable; a failed delivery backs
// off exponentially (BaseBackoff, doubling up to MaxBackoff ticks) so a
// flapping owner is not hammered; a successful one resets the backoff.
// Hints themselves live in the node's store and are deleted by the driver
// only after the owner acknowledged them.
package hints

import "sort"

// Scheduler tracks delivery per owner.
type Scheduler struct {
	BaseBackoff int // ticks after a first failure (default 1)
	MaxBackoff  int // cap of the backoff (default 64)

	tick    int
	targets map[string]*target
}

type target struct {
	failures int
	until    int // no attempt before this tick
}

// New returns a scheduler with default backoffs.
func New() *Scheduler {
	return &Scheduler{BaseBackoff: 1, MaxBackoff: 64, targets: map[string]*target{}}
}

func (s *Scheduler) target(owner string) *target {
	t, ok := s.targets[owner]
	if !ok {
		t = &target{}
		s.targets[owner] = t
	}
	return t
}

// Tick advances one period and returns, sorted, the owners that have
// pending hints, are reachable and are not backing off.
func (s *Scheduler) Tick(pending map[string]int, reachable func(owner string) bool) []string {
	s.tick++
	var due []string
	for owner, n := range pending {
		if n == 0 || !reachable(owner) {
			continue
		}
		if s.target(owner).until <= s.tick {
			due = append(due, owner)
		}
	}
	for owner := range s.targets {
		if pending[owner] == 0 {
			delete(s.targets, owner) // nothing left: forget its backoff
		}
	}
	sort.Strings(due)
	return due
}

// Delivered records a successful delivery to owner.
func (s *Scheduler) Delivered(owner string) {
	t := s.target(owner)
	t.failures, t.until = 0, 0
}

// Failed records a failed delivery to owner and returns the ticks it now
// waits.
func (s *Scheduler) Failed(owner string) int {
	t := s.target(owner)
	t.failures++
	wait := s.BaseBackoff
	for i := 1; i < t.failures && wait < s.MaxBackoff; i++ {
		if wait > s.MaxBackoff/2 {
			wait = s.MaxBackoff // doubling would pass the cap (or overflow)
			break
		}
		wait *= 2
	}
	wait = min(wait, s.MaxBackoff)
	t.until = s.tick + wait
	return wait
}

// Backoff returns the ticks owner still waits (0 when due).
func (s *Scheduler) Backoff(owner string) int {
	if t, ok := s.targets[owner]; ok && t.until > s.tick {
		return t.until - s.tick
	}
	return 0
}
