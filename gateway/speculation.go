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

// record times, for the speculation delay, how long the replicas a get
// asked first take to answer: each answer before the delay runs out (an
// answer of a spare asked after a failure counts from the get's start
// too, a little long), and when it runs out (silent replicas still to
// answer) each of those replicas at the time it has taken so far. Their
// answers may come after the round has ended, and leaving them out would
// leave out the very answers the delay is for, and lower the delay until
// far more gets than the quantile says wait it out; so the delay settles
// where the quantile's share of first answers come later. Nothing after
// that counts.
func (sp *speculation) record(ev coord.Event, silent int, spec *speculate.Estimator) {
	if !sp.timing {
		return
	}
	switch ev.Kind {
	case coord.EvReply:
		spec.Observe(time.Since(sp.start))
	case coord.EvSlow:
		d := time.Since(sp.start)
		for range silent {
			spec.Observe(d)
		}
		sp.timing = false
	}
}
