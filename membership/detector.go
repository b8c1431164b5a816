package membership

import "sort"

// Detector is a node's local view of which peers answer. It is a state
// machine driven by events (a peer answered, a peer did not) and ticks; it
// never removes a member from the ring: a temporary failure is not a
// departure.
//
// A peer that fails to answer a gossip exchange or a replica request is
// unreachable at once (requests to it would only time out); it is
// reachable again as soon as it answers anything. While unreachable it is
// probed every ProbeEvery ticks, so its recovery is noticed even when no
// request would go its way.
type Detector struct {
	ProbeEvery int // ticks between probes of an unreachable peer (default 2)

	tick  int
	peers map[string]*peerState
}

type peerState struct {
	reachable bool
	since     int // tick of the last change
	probed    int // tick of the last probe
}

// NewDetector returns a detector that considers every peer reachable
// until it fails to answer.
func NewDetector() *Detector { return &Detector{ProbeEvery: 2, peers: map[string]*peerState{}} }

func (d *Detector) peer(id string) *peerState {
	p, ok := d.peers[id]
	if !ok {
		p = &peerState{reachable: true, since: d.tick}
		d.peers[id] = p
	}
	return p
}

// Heard records an answer from id. It reports whether id was unreachable.
func (d *Detector) Heard(id string) (recovered bool) {
	p := d.peer(id)
	if p.reachable {
		return false
	}
	p.reachable, p.since = true, d.tick
	return true
}

// Missed records that id did not answer. It reports whether id was
// reachable until now.
func (d *Detector) Missed(id string) (failed bool) {
	p := d.peer(id)
	if !p.reachable {
		return false
	}
	p.reachable, p.since, p.probed = false, d.tick, d.tick
	return true
}

// Reachable reports the current view of id.
func (d *Detector) Reachable(id string) bool { return d.peer(id).reachable }

// Tick advances time by one gossip period and returns the unreachable
// peers due for a probe, sorted.
func (d *Detector) Tick() []string {
	d.tick++
	var due []string
	for id, p := range d.peers {
		if !p.reachable && d.tick-p.probed >= d.ProbeEvery {
			p.probed = d.tick
			due = append(due, id)
		}
	}
	sort.Strings(due)
	return due
}

// Unreachable lists the peers currently believed down, sorted.
func (d *Detector) Unreachable() []string {
	var out []string
	for id, p := range d.peers {
		if !p.reachable {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Forget drops a peer that left the ring.
func (d *Detector) Forget(id string) { delete(d.peers, id) }
