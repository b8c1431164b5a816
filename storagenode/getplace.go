package storagenode

import "time"

// getPlacer decides where a node answers a get. On the subscription's
// goroutine a get costs no hand-off to a read worker (a channel send and
// a goroutine woken), which costs about as much CPU as a read from
// memory: read-only runs of `dev` took about a tenth more reads/s without
// it. But the subscription delivers one message at a time, so gets that
// wait for the disk there would be read one after another, holding up
// every request behind them. The placer therefore keeps a moving share of
// the inline gets that were slow: past slowShare, gets go to the workers,
// and one in probeEvery is still answered inline to notice when reads are
// fast again (below half the share). A get that is slow now and then (the
// goroutine was preempted, a page was faulted in) does not move it.
//
// It is owned by the subscription's goroutine and does no I/O.
type getPlacer struct {
	slow    time.Duration // an inline get that took longer is slow
	share   float64       // moving share of slow inline gets
	workers bool          // gets go to the workers, but for probes
	skipped int           // gets sent to the workers since the last probe
}

const (
	slowShare  = 0.25
	probeEvery = 64
	// shareWeight is the weight of the newest inline get in the share:
	// about 10 slow gets in a row send gets to the workers.
	shareWeight = 1.0 / 32
)

// inline reports whether the next get is answered on the subscription's
// goroutine; if so, took must be told how long it took.
func (p *getPlacer) inline() bool {
	if !p.workers {
		return true
	}
	if p.skipped++; p.skipped < probeEvery {
		return false
	}
	p.skipped = 0
	return true
}

// took records how long an inline get took and reports whether it was
// slow.
func (p *getPlacer) took(d time.Duration) bool {
	slow := d > p.slow
	x := 0.0
	if slow {
		x = 1
	}
	p.share += (x - p.share) * shareWeight
	switch {
	case p.share > slowShare:
		p.workers = true
	case p.share < slowShare/2:
		p.workers, p.skipped = false, 0
	}
	return slow
}
