package storagenode

import (
	"testing"
	"time"
)

// run feeds the placer gets that would take the given durations inline
// and returns, for each, whether it was answered inline.
func run(p *getPlacer, took []time.Duration) []bool {
	out := make([]bool, len(took))
	for i, d := range took {
		if out[i] = p.inline(); out[i] {
			p.took(d)
		}
	}
	return out
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func count(b []bool) (n int) {
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

const (
	fast = 20 * time.Microsecond
	slow = 5 * time.Millisecond
)

func TestGetPlacerKeepsFastGetsInline(t *testing.T) {
	p := &getPlacer{slow: time.Millisecond}
	if got := count(run(p, repeat(fast, 10000))); got != 10000 {
		t.Fatalf("%d of 10000 fast gets inline, want all", got)
	}
}

func TestGetPlacerIgnoresAnOccasionalSlowGet(t *testing.T) {
	p := &getPlacer{slow: time.Millisecond}
	var took []time.Duration
	for i := range 10000 {
		d := fast
		if i%20 == 0 { // 5% slow: preemption, a page fault
			d = slow
		}
		took = append(took, d)
	}
	if got := count(run(p, took)); got != len(took) {
		t.Fatalf("%d of %d gets inline with 5%% of them slow, want all", got, len(took))
	}
	// Even a burst of a few slow gets does not send gets away.
	if got := count(run(p, append(repeat(slow, 5), repeat(fast, 100)...))); got != 105 {
		t.Fatalf("%d of 105 gets inline after a burst of 5 slow ones, want all", got)
	}
}

func TestGetPlacerSendsSlowGetsToWorkersAndProbes(t *testing.T) {
	p := &getPlacer{slow: time.Millisecond}
	inline := run(p, repeat(slow, 20))
	first := -1 // the first get sent to the workers
	for i, in := range inline {
		if !in {
			first = i
			break
		}
	}
	if first < 5 || first > 15 {
		t.Fatalf("gets went to the workers from get %d of a run of slow ones (%v), want after about 10", first, inline)
	}
	// While reads are slow, one get in probeEvery is still tried inline.
	if got := count(run(p, repeat(slow, 100*probeEvery))); got != 100 {
		t.Fatalf("%d of %d slow gets inline after switching, want one in %d (100)", got, 100*probeEvery, probeEvery)
	}
	// Once reads are fast again, the probes bring gets back inline: the
	// share, near 1 after so many slow gets, falls below half of
	// slowShare after about 66 fast probes.
	back := run(p, repeat(fast, 100*probeEvery))
	last := -1 // the last get sent to the workers
	for i, in := range back {
		if !in {
			last = i
		}
	}
	if last < 0 || last == len(back)-1 {
		t.Fatalf("fast gets never came back inline (last sent to the workers: %d of %d)", last, len(back))
	}
	if probes := count(back[:last+1]); probes < 55 || probes > 75 {
		t.Fatalf("%d fast probes before gets came back inline, want about 66", probes)
	}
}
