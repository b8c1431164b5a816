package membership

import (
	"errors"
	"fmt"
)

// Local is one node's handle on the member list: the operations that
// change its own record. Every method returns the new state; the caller
// persists and gossips it.
type Local struct {
	ID     string
	Weight int
}

// Errors of membership operations.
var (
	ErrNotMember  = errors.New("membership: not a member of the ring")
	ErrWrongState = errors.New("membership: operation not allowed in this state")
)

func (l Local) bump(s State, m Member) State {
	m.Version = s.Members[l.ID].Version + 1
	out := s.Clone()
	out.Members[l.ID] = m
	return out
}

// Bootstrap makes the node an active member of a ring that has none: the
// first node of a new cluster, or each node of a configured initial member
// list (all with sequence 1, so they build the same ring).
func (l Local) Bootstrap(s State, initial []string) State {
	out := s
	for _, id := range initial {
		if _, ok := out.Members[id]; ok {
			continue
		}
		m := Member{ID: id, Joined: 1, Status: Active, Version: 1}
		if id == l.ID {
			m.Weight = l.Weight
		}
		out = out.Clone()
		out.Members[id] = m
	}
	return out
}

// Announce adds the node as waiting (known, not joining), if absent.
func (l Local) Announce(s State) State {
	if _, ok := s.Members[l.ID]; ok {
		return s
	}
	return l.bump(s, Member{ID: l.ID, Weight: l.Weight, Status: Waiting})
}

// Join starts joining: the node takes the next sequence and enters the
// target ring. A node that is already in the ring is unchanged.
func (l Local) Join(s State) (State, error) {
	m, ok := s.Members[l.ID]
	if ok && m.Status != Waiting && m.Status != Left {
		return s, nil
	}
	if ok && m.Status == Left {
		return s, fmt.Errorf("%w: %s left the ring; start it with a new ID (or a wiped directory under a new ID)", ErrWrongState, l.ID)
	}
	return l.bump(s, Member{ID: l.ID, Weight: l.Weight, Joined: s.NextSeq(), Status: Joining}), nil
}

// Leave starts handing the node's partitions to their new owners.
func (l Local) Leave(s State) (State, error) {
	m, ok := s.Members[l.ID]
	if !ok {
		return s, ErrNotMember
	}
	switch m.Status {
	case Leaving, Left:
		return s, nil
	case Active:
	default:
		return s, fmt.Errorf("%w: %s is %s; only an active member can leave", ErrWrongState, l.ID, m.Status)
	}
	m.Status, m.Left = Leaving, s.NextSeq()
	return l.bump(s, m), nil
}

// MarkReady records that the node holds the data of the current target
// ring.
func (l Local) MarkReady(s State) State {
	m, ok := s.Members[l.ID]
	e := s.Epoch()
	if !ok || m.Ready == e {
		return s
	}
	m.Ready = e
	return l.bump(s, m)
}

// Advance completes the node's own transition once every target member is
// ready: a joining node becomes active, a leaving one left.
func (l Local) Advance(s State) State {
	m, ok := s.Members[l.ID]
	if !ok || !s.AllReady() {
		return s
	}
	switch m.Status {
	case Joining:
		m.Status = Active
	case Leaving:
		m.Status = Left
	default:
		return s
	}
	return l.bump(s, m)
}
