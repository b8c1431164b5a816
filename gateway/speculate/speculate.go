// Package speculate derives how long a get that asked only R replicas
// waits for them before it asks its spares too: a high quantile of the
// times recent answers took, within bounds, as Cassandra's speculative
// retry takes a table's 99th percentile. A fixed delay long enough for a
// loaded machine costs a fast network's reads many times their usual
// latency whenever a replica pauses; one derived from the answers follows
// the network and the load.
//
// It keeps counts in buckets of fixed width on a logarithmic scale, and
// does no I/O and no timing of its own: the driver records the times it
// measured and closes a period with Roll, once a second or so. It must
// never let the delay leave its bounds, nor block the goroutines that
// record.
package speculate

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Config bounds the delay and says which quantile it follows.
type Config struct {
	// Quantile of the recorded times the delay follows, in (0, 1); 0
	// keeps the delay at Max.
	Quantile float64
	// Min and Max bound the delay (0 < Min ≤ Max).
	Min, Max time.Duration
	// MinSamples is how many times the two periods before Roll must hold
	// for their quantile to be trusted; with fewer the delay stays as it
	// was (Max at first): a lull in the traffic says nothing new about the
	// replicas.
	MinSamples uint64
}

// Estimator records answer times from any goroutine and turns them into a
// delay. Roll must be called from one goroutine at a time.
type Estimator struct {
	cfg   Config
	cur   atomic.Uint32 // the period being recorded: an index into periods
	delay atomic.Int64
	// Three periods: the one being recorded and the two Roll reads. A
	// period is cleared two Rolls after it was last recorded into, so a
	// recorder that read the index just before a Roll still lands its
	// time in a period nobody clears meanwhile.
	periods [3]period
}

type period [buckets]atomic.Uint64

// New returns an estimator whose delay is Max until a Roll has seen enough.
// It panics on bounds that are not ordered, as a programming error.
func New(cfg Config) *Estimator {
	if cfg.Min <= 0 || cfg.Max < cfg.Min || cfg.Quantile < 0 || cfg.Quantile >= 1 || math.IsNaN(cfg.Quantile) {
		panic("speculate: need 0 < Min ≤ Max and 0 ≤ Quantile < 1")
	}
	e := &Estimator{cfg: cfg}
	e.delay.Store(int64(cfg.Max))
	return e
}

// Observe records one answer's time.
func (e *Estimator) Observe(d time.Duration) {
	if e.cfg.Quantile == 0 {
		return
	}
	e.periods[e.cur.Load()][bucket(d)].Add(1)
}

// Delay returns the current delay.
func (e *Estimator) Delay() time.Duration { return time.Duration(e.delay.Load()) }

// Roll ends the current period and derives the delay from it and the
// period before; it returns the new delay.
func (e *Estimator) Roll() time.Duration {
	if e.cfg.Quantile == 0 {
		return e.cfg.Max
	}
	c := e.cur.Load()
	next := (c + 1) % 3
	for i := range e.periods[next] {
		e.periods[next][i].Store(0)
	}
	e.cur.Store(next)
	var counts [buckets]uint64
	var total uint64
	for _, p := range []*period{&e.periods[c], &e.periods[(c+2)%3]} {
		for i := range p {
			n := p[i].Load()
			counts[i] += n
			total += n
		}
	}
	if total == 0 || total < e.cfg.MinSamples {
		return e.Delay()
	}
	d := min(max(quantile(&counts, total, e.cfg.Quantile), e.cfg.Min), e.cfg.Max)
	e.delay.Store(int64(d))
	return d
}

// The buckets: times up to 1<<minShift ns share bucket 0; above that each
// power of two is split into 1<<subBits buckets of equal width, so a
// bucket's upper bound is at most 1/8 above any time in it; times from
// 1<<maxShift ns (about 69 s) on share the last.
const (
	subBits  = 3
	minShift = 16 // 65.5 µs
	maxShift = 36 // 68.7 s
	buckets  = (maxShift-minShift)<<subBits + 2
)

// bucket returns the index of d's bucket.
func bucket(d time.Duration) int {
	if d < 1<<minShift {
		return 0
	}
	if d >= 1<<maxShift {
		return buckets - 1
	}
	exp := bits.Len64(uint64(d)) - 1 // minShift ≤ exp < maxShift
	sub := int(uint64(d)>>(exp-subBits)) & (1<<subBits - 1)
	return (exp-minShift)<<subBits + sub + 1
}

// upper returns the largest time bucket i holds (for the last bucket, its
// lower bound).
func upper(i int) time.Duration {
	switch {
	case i <= 0:
		return 1<<minShift - 1
	case i >= buckets-1:
		return 1 << maxShift
	}
	i--
	exp := i>>subBits + minShift
	sub := i & (1<<subBits - 1)
	lo := uint64(1)<<exp + uint64(sub)<<(exp-subBits)
	return time.Duration(lo + 1<<(exp-subBits) - 1)
}

// quantile returns the upper bound of the bucket that holds the q-th
// quantile of total counts: the smallest bound at or below which at least
// q of them lie.
func quantile(counts *[buckets]uint64, total uint64, q float64) time.Duration {
	rank := uint64(math.Ceil(q * float64(total)))
	rank = min(max(rank, 1), total)
	var seen uint64
	for i, n := range counts {
		seen += n
		if seen >= rank {
			return upper(i)
		}
	}
	return upper(buckets - 1)
}
