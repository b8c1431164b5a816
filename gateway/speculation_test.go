package gateway

import (
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/gateway/speculate"
)

// Only the first answer of each replica a get asked first is timed, and a
// replica still silent at the speculation delay is timed then, once.
func TestAnswerTimesCountFirstAsksOnce(t *testing.T) {
	est := speculate.New(speculate.Config{Quantile: 0.99, Min: time.Nanosecond, Max: time.Hour, MinSamples: 3})
	a := newAnswerTimes([]coord.Send{{To: "n1"}, {To: "n2"}, {To: "n3"}})
	reply := func(from string) coord.Event { return coord.Event{Kind: coord.EvReply, From: from} }
	steps := []struct {
		ev   coord.Event
		want bool
	}{
		{reply("n4"), false}, // a spare's answer
		{reply("n1"), true},
		{reply("n1"), false}, // a second answer of n1
		{coord.Event{Kind: coord.EvNoResponders, From: "n2"}, false},
		{coord.Event{Kind: coord.EvTick}, false},
	}
	for i, s := range steps {
		if got := a.answered(s.ev, est); got != s.want {
			t.Fatalf("step %d (%v from %q): answered = %v, want %v", i, s.ev.Kind, s.ev.From, got, s.want)
		}
	}
	if n := a.overdue(est); n != 2 {
		t.Fatalf("overdue = %d, want 2 (n2 and n3)", n)
	}
	if a.answered(reply("n3"), est) || a.overdue(est) != 0 {
		t.Fatal("a replica counted as overdue was counted again")
	}
	// Three times in all: exactly enough for a Roll to trust them.
	if d := est.Roll(); d == time.Hour {
		t.Fatalf("Roll after 3 times with MinSamples 3 kept the delay at Max")
	}
}
