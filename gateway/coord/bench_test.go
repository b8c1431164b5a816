package coord_test

import (
	"testing"

	"github.com/ringtable/ringtable/gateway/coord"
)

// Whole rounds, as the gateway drives one for every request: the
// machine's own cost and allocations, without the I/O.
func BenchmarkPutRound(b *testing.B) {
	benchRound(b, sloppyPut(2), withSet(ok("n1", 1)), ok("n2", 1), ok("n3", 1))
}

func BenchmarkGetRound(b *testing.B) {
	benchRound(b, sloppyGet(2), ok("n1", 0), ok("n2", 0), ok("n3", 0))
}

func benchRound(b *testing.B, cfg coord.Config, evs ...coord.Event) {
	b.ReportAllocs()
	for b.Loop() {
		m := coord.New(cfg)
		m.Start()
		for _, ev := range evs {
			m.Step(ev)
		}
		if !m.Done() {
			b.Fatal("the round did not end")
		}
	}
}
