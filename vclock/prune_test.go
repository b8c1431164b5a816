package vclock

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// honestVersions decodes versions whose pasts are random but causal: a past
// only mentions counters its actors had already handed out, as closed
// entries or as single dots above them, so no two versions can claim to
// have seen each other. (Forged clocks that do are reported Concurrent by
// CompareClocks, and pruning one side of such a pair can order it; that is
// outside what pruning promises.)
func honestVersions(src *byteSource) []Version {
	n := 2 + src.intn(11)
	handed := map[Actor]uint64{}
	out := make([]Version, 0, n)
	for i := range n {
		var past Context
		for _, b := range fuzzActors {
			if handed[b] == 0 {
				continue
			}
			closed := uint64(0)
			if src.intn(3) != 0 {
				closed = 1 + uint64(src.intn(int(handed[b])))
				past.VV = append(past.VV, Entry{Actor: b, Counter: closed, Stamp: int64(src.intn(8))})
			}
			// Single dots: some of the counters above the closed entry.
			for c := closed + 1; c <= handed[b]; c++ {
				if src.intn(3) == 0 {
					past.Dots = append(past.Dots, Dot{Actor: b, Counter: c, Stamp: int64(src.intn(8))})
				}
			}
		}
		a := fuzzActors[src.intn(len(fuzzActors))]
		handed[a]++
		out = append(out, Version{
			Clock: Clock{Dot: Dot{Actor: a, Counter: handed[a], Stamp: int64(i)}, Past: past},
			Value: []byte(fmt.Sprintf("v%d", i)),
		})
	}
	return out
}

func pruneAll(s []Version, limit int) Set {
	out := make(Set, len(s))
	for i, v := range s {
		v.Clock.Past = v.Clock.Past.Prune(limit)
		out[i] = v
	}
	return out
}

// checkPruning checks the pruning property on the versions data decodes
// to, and reports whether pruning dropped a single dot of some past.
func checkPruning(t *testing.T, data []byte, limit int) (droppedDots bool) {
	src := &byteSource{b: data}
	vs := honestVersions(src)
	pruned := pruneAll(vs, limit)
	for i := range vs {
		full, short := vs[i].Clock.Past, pruned[i].Clock.Past
		if !full.Valid() || !short.Valid() {
			t.Fatalf("past %+v or its pruning %+v not valid", full, short)
		}
		if len(short.VV) > limit || len(short.Dots) > limit {
			t.Fatalf("past pruned to %d still has %d entries and %d dots", limit, len(short.VV), len(short.Dots))
		}
		droppedDots = droppedDots || len(short.Dots) < len(full.Dots)
		// Pruning only removes knowledge.
		for _, w := range vs {
			if short.Covers(w.Clock.Dot) && !full.Covers(w.Clock.Dot) {
				t.Fatalf("pruning %v to %d made it cover %v", full, limit, w.Clock.Dot)
			}
		}
		for j := range vs {
			before := CompareClocks(vs[i].Clock, vs[j].Clock)
			after := CompareClocks(pruned[i].Clock, pruned[j].Clock)
			switch {
			case before == Concurrent && after != Concurrent:
				t.Fatalf("pruning to %d made concurrent %v / %v %v:\n %+v\n %+v", limit, vs[i].Clock.Dot, vs[j].Clock.Dot, after, pruned[i].Clock, pruned[j].Clock)
			case before == Before && after == After, before == After && after == Before:
				t.Fatalf("pruning reversed %v / %v", vs[i].Clock.Dot, vs[j].Clock.Dot)
			case before == Equal && after != Equal:
				t.Fatalf("pruning changed equality")
			}
		}
	}

	// Split the versions over two replicas (some on both) and sync them,
	// unpruned and pruned: pruning may add siblings, never remove one.
	var a, b []Version
	for i, v := range vs {
		switch src.intn(3) {
		case 0:
			a = append(a, v)
		case 1:
			b = append(b, v)
		default:
			a, b = append(a, v), append(b, vs[i])
		}
	}
	setA, setB := Set(nil).Sync(a), Set(nil).Sync(b)
	unpruned := setA.Sync(setB)
	prunedSync := pruneAll(setA, limit).Sync(pruneAll(setB, limit))
	kept := events(prunedSync)
	for _, v := range unpruned {
		if !kept[eventOf(v.Clock.Dot)] {
			t.Fatalf("pruning to %d lost %v: unpruned sync %v, pruned sync %v", limit, v.Clock.Dot, unpruned.Dots(), prunedSync.Dots())
		}
	}
	if len(prunedSync) < len(unpruned) {
		t.Fatalf("pruned sync has fewer versions")
	}
	checkSetInvariants(t, prunedSync)

	// The same through Update: a pruned context replaces a subset of what
	// the full context replaces.
	ctx := setB.Context()
	nv := ver(Dot{Actor: "z", Counter: 1, Stamp: 99}, nil, "new")
	full, short := setA.Update(ctx, nv, 0), setA.Update(ctx, nv, limit)
	shortEvents := events(short)
	for _, v := range full {
		if !shortEvents[eventOf(v.Clock.Dot)] {
			t.Fatalf("Update with prune limit %d lost %v", limit, v.Clock.Dot)
		}
	}
	return droppedDots
}

// FuzzPruneNeverLosesConcurrent: pruning pasts turns superseded versions
// into spurious siblings at worst, never a concurrent version into a
// superseded one.
func FuzzPruneNeverLosesConcurrent(f *testing.F) {
	f.Add([]byte{}, uint8(1))
	f.Add([]byte{9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, uint8(2))
	f.Add([]byte("pruning must prefer a spurious sibling to a lost write"), uint8(1))
	f.Add([]byte{12, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, limit uint8) {
		checkPruning(t, data, 1+int(limit%4))
	})
}

// TestPruneNeverLosesConcurrent runs the pruning property over seeded
// random inputs, so it is exercised by a plain go test as well.
func TestPruneNeverLosesConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	data := make([]byte, 96)
	droppedDots := 0
	for i := range 3000 {
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		if checkPruning(t, data, 1+i%3) {
			droppedDots++
		}
	}
	// Pruning of single dots is exercised, not only of closed entries.
	if droppedDots < 300 {
		t.Fatalf("pruning dropped single dots in only %d of 3000 cases", droppedDots)
	}
	t.Logf("pruning dropped single dots in %d of 3000 cases", droppedDots)
}
