package gateway

import (
	"testing"
	"time"
)

// A round timer taken from the pool never delivers the tick of the round
// that used it before, even one that fired and was never received.
func TestRoundTimerNoStaleTick(t *testing.T) {
	for i := 0; i < 20; i++ {
		old := roundTimer(time.Microsecond)
		time.Sleep(2 * time.Millisecond) // fired; nobody received it
		releaseTimer(old)
		tm := roundTimer(time.Hour)
		select {
		case <-tm.C:
			t.Fatalf("try %d: a reused timer delivered a stale tick", i)
		case <-time.After(5 * time.Millisecond):
		}
		releaseTimer(tm)
	}
	tm := roundTimer(time.Millisecond)
	select {
	case <-tm.C:
	case <-time.After(10 * time.Second):
		t.Fatal("a reused timer never fired")
	}
	releaseTimer(tm)
}
