package gateway

import (
	"context"
	"time"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/gateway/speculate"
)

const (
	// speculateFloor is the shortest speculation delay: below it a
	// replica's scheduling hiccup would send a get's spares.
	speculateFloor = time.Millisecond
	// speculateEvery is how often the delay is derived anew, from the
	// answers of the last two such periods.
	speculateEvery = time.Second
	// speculateMinSamples is how many answers those two periods must hold
	// for their quantile to set the delay; with fewer (a quiet gateway)
	// the delay stays as it was, SpeculateAfter at first.
	speculateMinSamples = 50
)

func newSpeculation(cfg Config) *speculate.Estimator {
	return speculate.New(speculate.Config{
		Quantile:   cfg.SpeculateQuantile,
		Min:        min(speculateFloor, cfg.SpeculateAfter),
		Max:        cfg.SpeculateAfter,
		MinSamples: speculateMinSamples,
	})
}

// rollSpeculation derives the speculation delay once a period until the
// gateway closes.
func (g *Gateway) rollSpeculation(ctx context.Context) {
	t := time.NewTicker(speculateEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.m.speculateDelay.Set(g.spec.Roll().Seconds())
		}
	}
}

// answerTimes records how long the replicas a get asked first took to
// answer, for the speculation delay. The replicas still silent when the
// delay runs out count at the time they have taken so far: their answers
// may come after the round has ended, and leaving them out would leave
// out the very answers the delay is for, and lower the delay until far
// more gets than the quantile says wait it out. So the delay settles where
// the quantile's share of first answers come later.
type answerTimes struct {
	start time.Time
	asked [maxAsked]string
	n     int
}

// maxAsked bounds the replicas a round's first asks are timed for; a get
// asks R of them, and R above this is timed for the first maxAsked.
const maxAsked = 8

func newAnswerTimes(sends []coord.Send) answerTimes {
	a := answerTimes{start: time.Now()}
	for _, s := range sends {
		if a.n < maxAsked {
			a.asked[a.n] = s.To
			a.n++
		}
	}
	return a
}

// answered records ev's time if it is the first answer of a replica
// asked first, and says whether it was.
func (a *answerTimes) answered(ev coord.Event, spec *speculate.Estimator) bool {
	if ev.Kind != coord.EvReply || a.n == 0 {
		return false
	}
	for i := range a.n {
		if a.asked[i] == ev.From {
			spec.Observe(time.Since(a.start))
			a.n--
			a.asked[i] = a.asked[a.n]
			return true
		}
	}
	return false
}

// overdue records the replicas asked first that have not answered yet at
// the time they have taken so far, and returns how many there were; their
// answers will not count again.
func (a *answerTimes) overdue(spec *speculate.Estimator) int {
	d := time.Since(a.start)
	n := a.n
	for range n {
		spec.Observe(d)
	}
	a.n = 0
	return n
}
