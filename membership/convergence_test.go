package membership_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/ring"
)

// simN is the replication factor of the simulated clusters.
const simN = 3

// simQ is the ring size of the simulated clusters: small, as ring
// building dominates the simulation's cost and placement is tested
// elsewhere.
const simQ = 64

// gossipNode is one simulated node: its own view and its handle on it.
type gossipNode struct {
	l    membership.Local
	view membership.State
	// holds is the partitions whose data the node has: its replicas in
	// the rings it was ready for (the simulation pulls data instantly).
	holds map[ring.Partition]bool
}

// gossipSim runs push-pull gossip over in-memory views in a seeded random
// order. It does no I/O: an exchange is two Merges.
type gossipSim struct {
	t     *testing.T
	rng   *rand.Rand
	nodes map[string]*gossipNode
	ids   []string // in creation order

	// memo lets checkOneRing reuse the rings of an equal view instead of
	// building every view's own.
	memo bool
	// safety makes every round check that each view's serving ring only
	// names replicas that hold the partition's data.
	safety bool
	rings  map[string]*ring.Ring // serving rings by view, for safety
}

func newGossipSim(t *testing.T, seed uint64) *gossipSim {
	return &gossipSim{t: t, rng: rand.New(rand.NewPCG(seed, 7)), nodes: map[string]*gossipNode{}, rings: map[string]*ring.Ring{}}
}

func (g *gossipSim) add(id string, view membership.State) *gossipNode {
	n := &gossipNode{l: membership.Local{ID: id}, view: view, holds: map[ring.Partition]bool{}}
	if r, err := view.Serving(); err == nil {
		n.holds = g.replicated(r, id)
	}
	g.nodes[id] = n
	g.ids = append(g.ids, id)
	return n
}

// exchange is one request/reply: a sends its view, b merges it and replies
// with its merged view, which a merges.
func (g *gossipSim) exchange(a, b *gossipNode) {
	b.view, _ = b.view.Merge(a.view)
	a.view, _ = a.view.Merge(b.view)
}

// round lets every node, in a random order, exchange with one random peer
// from its own view. With drive, every node then does what a storage node
// does between gossip periods: marks itself ready for the target it sees
// (the simulation moves data instantly) and advances if all are ready.
func (g *gossipSim) round(drive bool) {
	for _, i := range g.rng.Perm(len(g.ids)) {
		n := g.nodes[g.ids[i]]
		var peers []string
		for _, m := range n.view.Sorted() {
			if _, ok := g.nodes[m.ID]; ok && m.ID != n.l.ID {
				peers = append(peers, m.ID)
			}
		}
		if len(peers) == 0 {
			continue
		}
		g.exchange(n, g.nodes[peers[g.rng.IntN(len(peers))]])
	}
	if !drive {
		return
	}
	for _, id := range g.ids {
		n := g.nodes[id]
		if n.view.Transitioning() && n.view.Members[id].Ready != n.view.Epoch() {
			for p := range g.replicated(target(g.t, n.view), id) {
				n.holds[p] = true
			}
			n.view = n.l.MarkReady(n.view)
		}
		n.view = n.l.Advance(n.view)
	}
	if g.safety {
		g.checkSafety()
	}
}

func (g *gossipSim) replicated(r *ring.Ring, id string) map[ring.Partition]bool {
	out := map[ring.Partition]bool{}
	for _, p := range r.Replicates(ring.NodeID(id), simN) {
		out[p] = true
	}
	return out
}

// checkSafety fails if a view's serving ring sends a partition to a
// replica that does not hold its data: a read there could miss
// acknowledged writes. Reference: Dynamo §4.9 (adding/removing storage
// nodes).
func (g *gossipSim) checkSafety() {
	g.t.Helper()
	for _, id := range g.ids {
		v := g.nodes[id].view
		key := fmt.Sprint(v.Sorted())
		r, ok := g.rings[key]
		if !ok {
			var err error
			if r, err = v.Serving(); err != nil {
				continue // a waiting node's view of nobody
			}
			g.rings[key] = r
		}
		for p := range r.Q() {
			pl, _ := r.Preference(ring.Partition(p), simN)
			for _, x := range pl {
				if !g.nodes[string(x)].holds[ring.Partition(p)] {
					g.t.Fatalf("%s's serving ring names %s as a replica of partition %d, which it does not hold; view %+v", id, x, p, v.Sorted())
				}
			}
		}
	}
}

// agree reports whether every view equals the first.
func (g *gossipSim) agree() bool {
	first := g.nodes[g.ids[0]].view
	for _, n := range g.nodes {
		if !sameState(n.view, first) {
			return false
		}
	}
	return true
}

// until runs rounds until done holds, failing after limit rounds, and
// returns the number of rounds run.
func (g *gossipSim) until(limit int, drive bool, what string, done func() bool) int {
	g.t.Helper()
	for r := 0; ; r++ {
		if done() {
			return r
		}
		if r == limit {
			g.t.Fatalf("%s: not done after %d rounds; views:\n%s", what, limit, g.dump())
		}
		g.round(drive)
	}
}

func (g *gossipSim) dump() string {
	var out string
	for _, id := range g.ids {
		out += fmt.Sprintf("  %s: %+v\n", id, g.nodes[id].view.Sorted())
	}
	return out
}

// checkOneRing fails unless every view builds the same serving ring and
// the same target ring, with the given nodes.
func (g *gossipSim) checkOneRing(servingIDs, targetIDs []string) {
	g.t.Helper()
	first := g.nodes[g.ids[0]].view
	s0, t0 := serving(g.t, first), target(g.t, first)
	if got := s0.Nodes(); !slices.Equal(got, nodeIDs(servingIDs...)) {
		g.t.Fatalf("serving nodes %v, want %v", got, servingIDs)
	}
	if got := t0.Nodes(); !slices.Equal(got, nodeIDs(targetIDs...)) {
		g.t.Fatalf("target nodes %v, want %v", got, targetIDs)
	}
	for _, id := range g.ids[1:] {
		v := g.nodes[id].view
		if g.memo && sameState(v, first) {
			continue
		}
		s, t := serving(g.t, v), target(g.t, v)
		if d := ringDiff(s, s0); d != "" {
			g.t.Fatalf("%s and %s build different serving rings: %s", id, g.ids[0], d)
		}
		if d := ringDiff(t, t0); d != "" {
			g.t.Fatalf("%s and %s build different target rings: %s", id, g.ids[0], d)
		}
	}
}

// joinBatch brings new nodes in through the seed: each announces itself,
// does one exchange with the seed, then joins from what it learned. All of
// the batch join at the same moment, so they pick the same sequence.
func (g *gossipSim) joinBatch(seed string, batch []string) {
	g.t.Helper()
	for _, id := range batch {
		n := g.add(id, membership.Local{ID: id}.Announce(membership.NewState(simQ)))
		g.exchange(n, g.nodes[seed])
	}
	var seq uint64
	for _, id := range batch {
		n := g.nodes[id]
		v, err := n.l.Join(n.view)
		if err != nil {
			g.t.Fatalf("Join %s: %v", id, err)
		}
		n.view = v
		if got := v.Members[id].Joined; seq == 0 {
			seq = got
		} else if got != seq {
			g.t.Fatalf("%s joined at %d, the batch at %d: the joins are not simultaneous", id, got, seq)
		}
	}
}

// TestGossipConvergence: N nodes (5..8) join a one-node cluster through
// it as seed, in batches of simultaneous joins, gossiping in a seeded
// random order. Views agree within a few rounds, and every view then
// builds the same serving and target rings: simultaneous joins never form
// two rings. Reference: Dynamo §4.8.1 (gossip-based membership).
func TestGossipConvergence(t *testing.T) {
	const seeds = 25
	maxRounds := map[string]int{}
	for n := 5; n <= 8; n++ {
		// Push-pull gossip spreads a record to all in ~log2(N) rounds; a
		// transition needs three spreads (joins, readiness, advances).
		spread := 3*int(math.Ceil(math.Log2(float64(n)))) + 2
		for _, mode := range []string{"all-at-once", "batches", "transition-while-gossiping"} {
			name := fmt.Sprintf("N=%d/%s", n, mode)
			t.Run(name, func(t *testing.T) {
				for seed := range uint64(seeds) {
					g := newGossipSim(t, seed*1000+uint64(n))
					g.memo = seed >= 5 // the first seeds build every view's rings
					g.safety = seed < 5
					g.add("n1", membership.Local{ID: "n1"}.Bootstrap(membership.NewState(simQ), []string{"n1"}))
					all := ids(n)
					batches := [][]string{all[1:]}
					if mode != "all-at-once" {
						batches = nil
						for rest := all[1:]; len(rest) > 0; {
							k := min(len(rest), 2+g.rng.IntN(3))
							batches = append(batches, rest[:k])
							rest = rest[k:]
						}
					}
					active := []string{"n1"}
					for _, b := range batches {
						g.joinBatch("n1", b)
						members := append(slices.Clone(active), b...)
						if mode != "transition-while-gossiping" {
							r := g.until(spread, false, fmt.Sprintf("seed %d: views after joins of %v", seed, b), g.agree)
							maxRounds[name+"/agree"] = max(maxRounds[name+"/agree"], r)
							g.checkOneRing(active, members)
						}
						r := g.until(3*spread, true, fmt.Sprintf("seed %d: transition for %v", seed, b), func() bool {
							return g.agree() && !g.nodes["n1"].view.Transitioning()
						})
						maxRounds[name+"/transition"] = max(maxRounds[name+"/transition"], r)
						active = members
						g.checkOneRing(active, active)
						for _, id := range active {
							if st := status(g.nodes["n1"].view, id); st != membership.Active {
								t.Fatalf("seed %d: %s is %s after the transition", seed, id, st)
							}
						}
					}
				}
			})
		}
		t.Logf("N=%d: bound for agreement %d rounds, for a transition %d", n, spread, 3*spread)
	}
	keys := make([]string, 0, len(maxRounds))
	for k := range maxRounds {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("%s: at most %d rounds over %d seeds", k, maxRounds[k], seeds)
	}
}
