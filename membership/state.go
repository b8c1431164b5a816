package membership

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/ringtable/ringtable/ring"
)

// Status is where a member is in its life.
type Status string

const (
	// Joining: in the target ring, receiving its partitions.
	Joining Status = "joining"
	// Active: owns and serves its partitions.
	Active Status = "active"
	// Leaving: still serving while its partitions move to new owners.
	Leaving Status = "leaving"
	// Left: gone; kept in the list so rings replay the same history.
	Left Status = "left"
	// Waiting: known but not yet asked to join (auto-join off).
	Waiting Status = "waiting"
)

// Member is one node's record.
type Member struct {
	ID      string `json:"id"`
	Weight  int    `json:"weight,omitempty"`
	Joined  uint64 `json:"joined,omitempty"` // join sequence; 0 while waiting
	Left    uint64 `json:"left,omitempty"`   // leave sequence; 0 unless leaving or left
	Status  Status `json:"status"`
	Ready   string `json:"ready,omitempty"` // epoch of the target ring whose data it holds
	Version uint64 `json:"version"`
}

// State is a view of the member list. The zero value is empty.
type State struct {
	Q       int               `json:"q"`
	Members map[string]Member `json:"members"`
}

// NewState returns an empty state for a ring of q partitions.
func NewState(q int) State { return State{Q: q, Members: map[string]Member{}} }

// Clone returns a deep copy.
func (s State) Clone() State {
	c := State{Q: s.Q, Members: make(map[string]Member, len(s.Members))}
	for k, v := range s.Members {
		c.Members[k] = v
	}
	return c
}

// newer reports whether a should replace b when merging.
func newer(a, b Member) bool {
	if a.Version != b.Version {
		return a.Version > b.Version
	}
	// Equal versions with different content only arise from a record
	// rewritten after a lost disk; order deterministically.
	return fmt.Sprint(a) > fmt.Sprint(b)
}

// Merge returns the union of two views, taking per member the newer
// record, and whether s changed.
func (s State) Merge(o State) (State, bool) {
	out := s.Clone()
	changed := false
	if out.Q == 0 && o.Q != 0 {
		out.Q, changed = o.Q, true
	}
	for id, m := range o.Members {
		if cur, ok := out.Members[id]; !ok || newer(m, cur) {
			out.Members[id] = m
			changed = true
		}
	}
	return out, changed
}

// Sorted returns the members sorted by ID.
func (s State) Sorted() []Member {
	out := make([]Member, 0, len(s.Members))
	for _, m := range s.Members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// NextSeq is the sequence for a new join or leave: after every one known.
func (s State) NextSeq() uint64 {
	var m uint64
	for _, x := range s.Members {
		m = max(m, x.Joined, x.Left)
	}
	return m + 1
}

func ringMember(m Member, left uint64) ring.Member {
	return ring.Member{ID: ring.NodeID(m.ID), Weight: m.Weight, Joined: m.Joined, Left: left}
}

// serving lists the ring members that own data now.
func (s State) serving() []ring.Member {
	var out []ring.Member
	for _, m := range s.Sorted() {
		switch m.Status {
		case Active, Leaving:
			out = append(out, ringMember(m, 0))
		case Left:
			out = append(out, ringMember(m, m.Left))
		}
	}
	return out
}

// target lists the ring members once pending changes are done.
func (s State) target() []ring.Member {
	var out []ring.Member
	for _, m := range s.Sorted() {
		switch m.Status {
		case Active, Joining:
			out = append(out, ringMember(m, 0))
		case Leaving, Left:
			out = append(out, ringMember(m, m.Left))
		}
	}
	return out
}

// Serving builds the ring that reads and writes use now: the target ring
// once every member is ready for it. NB: members advance one at a time, so
// a view can hold some advanced and some pending members; the ring replayed
// from such a mix gives partitions to nodes that pulled them for neither
// ring.
func (s State) Serving() (*ring.Ring, error) {
	if s.AllReady() {
		return s.Target()
	}
	return ring.New(s.Q, s.serving())
}

// Target builds the ring once pending joins and leaves are done.
func (s State) Target() (*ring.Ring, error) { return ring.New(s.Q, s.target()) }

// Epoch names the target ring: members ready for an epoch hold the data
// that ring gives them.
func (s State) Epoch() string {
	h := sha256.New()
	fmt.Fprintf(h, "q=%d", s.Q)
	for _, m := range s.target() {
		fmt.Fprintf(h, "|%s,%d,%d,%d", m.ID, m.Weight, m.Joined, m.Left)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Transitioning reports whether joins or leaves are pending.
func (s State) Transitioning() bool {
	for _, m := range s.Members {
		if m.Status == Joining || m.Status == Leaving {
			return true
		}
	}
	return false
}

// AllReady reports whether every member of the target ring (and every
// leaving member, which must hand its data over) is ready for the current
// epoch.
func (s State) AllReady() bool {
	e := s.Epoch()
	for _, m := range s.Members {
		switch m.Status {
		case Active, Joining, Leaving:
			if m.Ready != e {
				return false
			}
		}
	}
	return true
}

// Alive lists members that are or will be part of the ring (not left,
// not waiting), sorted.
func (s State) Alive() []string {
	var out []string
	for _, m := range s.Sorted() {
		if m.Status != Left && m.Status != Waiting {
			out = append(out, m.ID)
		}
	}
	return out
}
