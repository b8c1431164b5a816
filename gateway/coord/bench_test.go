package coord_test

import (
	"testing"

	"github.com/ringtable/ringtable/gateway/coord"
)

// A whole round, as the gateway drives it for every request: the machine's
// own allocations, without the I/O.
func BenchmarkPutRound(b *testing.B) {
	cfg := sloppyPut(2)
	evs := []coord.Event{withSet(ok("n1", 1)), ok("n2", 1), ok("n3", 1)}
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

func BenchmarkGetRound(b *testing.B) {
	cfg := sloppyGet(2)
	evs := []coord.Event{ok("n1", 0), ok("n2", 0), ok("n3", 0)}
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
