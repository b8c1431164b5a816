package gateway

import (
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/gateway/speculate"
)

// A get's answers are timed until its speculation delay runs out; then
// the replicas still silent are timed once, and nothing after.
func TestSpeculationRecordsUntilTheDelay(t *testing.T) {
	reply := coord.Event{Kind: coord.EvReply, From: "n1"}
	slow := coord.Event{Kind: coord.EvSlow}
	for _, c := range []struct {
		name   string
		timing bool
		steps  []coord.Event
		silent int // at EvSlow
		want   uint64
	}{
		{"two answers", true, []coord.Event{reply, reply}, 0, 2},
		{"one answer, one silent", true, []coord.Event{reply, slow, reply}, 1, 2},
		{"both silent", true, []coord.Event{slow, reply, reply, {Kind: coord.EvTick}}, 2, 2},
		{"failures are not answers", true, []coord.Event{{Kind: coord.EvNoResponders, From: "n2"}, {Kind: coord.EvTick}}, 0, 0},
		{"a round without speculation", false, []coord.Event{reply, reply, slow}, 2, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Exactly want times let a Roll move the delay off Max; one
			// fewer does not.
			for _, need := range []uint64{c.want, c.want + 1} {
				est := speculate.New(speculate.Config{Quantile: 0.99, Min: time.Nanosecond, Max: time.Hour, MinSamples: max(need, 1)})
				sp := speculation{timing: c.timing, start: time.Now()}
				for _, ev := range c.steps {
					n := 0
					if ev.Kind == coord.EvSlow {
						n = c.silent
					}
					sp.record(ev, n, est)
				}
				moved := est.Roll() != time.Hour
				if wantMoved := need == c.want && c.want > 0; moved != wantMoved {
					t.Fatalf("with MinSamples %d the delay moved = %v, want %v: %d times recorded?", max(need, 1), moved, wantMoved, c.want)
				}
			}
		})
	}
}
