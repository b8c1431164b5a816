package ring

import (
	"crypto/md5"
	"encoding/binary"
	"sort"
)

// assigner replays joins and leaves over the partition table.
type assigner struct {
	q      int
	owners []NodeID
	weight map[NodeID]int
	count  map[NodeID]int
}

func newAssigner(q int) *assigner {
	return &assigner{q: q, owners: make([]NodeID, q), weight: map[NodeID]int{}, count: map[NodeID]int{}}
}

func weightOf(m Member) int {
	if m.Weight == 0 {
		return 1
	}
	return m.Weight
}

// share is the number of partitions id should own: its weighted fraction
// of Q, rounded to nearest.
func (a *assigner) share(id NodeID) int {
	total := 0
	for _, w := range a.weight {
		total += w
	}
	return (a.q*a.weight[id]*2 + total) / (2 * total)
}

// load compares nodes by partitions per unit of weight, exactly (cross
// multiplication), with ties broken by ID so the replay is deterministic.
func (a *assigner) heavier(x, y NodeID) bool {
	lx, ly := a.count[x]*a.weight[y], a.count[y]*a.weight[x]
	if lx != ly {
		return lx > ly
	}
	return x < y
}

func (a *assigner) join(m Member) {
	if _, ok := a.weight[m.ID]; ok {
		return
	}
	a.weight[m.ID] = weightOf(m)
	if len(a.weight) == 1 {
		for p := range a.owners {
			a.owners[p] = m.ID
		}
		a.count[m.ID] = a.q
		return
	}
	a.count[m.ID] = 0
	// Take one partition at a time from the currently heaviest node, so the
	// donors end as even as the joiner: only the joiner gains partitions.
	// Each donor gives up its partitions in the joiner's preference order
	// (a hash of partition and joiner), so a joiner's partitions are spread
	// over the ring rather than clustered.
	order := preferenceOrder(a.q, m.ID)
	next := map[NodeID]int{}
	for want := a.share(m.ID); a.count[m.ID] < want; {
		donor := a.pick(func(x, y NodeID) bool { return a.heavier(x, y) }, m.ID)
		i := next[donor]
		for a.owners[order[i]] != donor {
			i++
		}
		next[donor] = i + 1
		a.owners[order[i]] = m.ID
		a.count[donor]--
		a.count[m.ID]++
	}
}

func (a *assigner) leave(m Member) {
	if _, ok := a.weight[m.ID]; !ok {
		return
	}
	delete(a.weight, m.ID)
	delete(a.count, m.ID)
	if len(a.weight) == 0 {
		for p := range a.owners {
			a.owners[p] = ""
		}
		return
	}
	for p, o := range a.owners {
		if o != m.ID {
			continue
		}
		to := a.pick(func(x, y NodeID) bool { return a.heavier(y, x) }, "")
		a.owners[p] = to
		a.count[to]++
	}
}

// pick returns the first node other than skip by the given order.
func (a *assigner) pick(first func(x, y NodeID) bool, skip NodeID) NodeID {
	var best NodeID
	for id := range a.weight {
		if id == skip {
			continue
		}
		if best == "" || first(id, best) {
			best = id
		}
	}
	return best
}

// preferenceOrder ranks every partition for a joining node.
func preferenceOrder(q int, id NodeID) []int {
	order := make([]int, q)
	scores := make([]uint64, q)
	for p := range order {
		order[p] = p
		scores[p] = score(p, id)
	}
	sort.Slice(order, func(i, j int) bool {
		si, sj := scores[order[i]], scores[order[j]]
		if si != sj {
			return si < sj
		}
		return order[i] < order[j]
	})
	return order
}

func score(p int, id NodeID) uint64 {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(p))
	h := md5.New()
	h.Write(b[:])
	h.Write([]byte(id))
	var sum [md5.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}
