package gateway

import (
	"maps"
	"testing"
	"time"

	"github.com/ringtable/ringtable/internal/clock"
)

func TestReachabilityLateAndDown(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	r := newReachability(clk)
	check := func(what string, wantDown, wantLate map[string]bool) {
		t.Helper()
		down, late := r.snapshots()
		if !maps.Equal(down, wantDown) || !maps.Equal(late, wantLate) {
			t.Fatalf("%s: down %v late %v, want down %v late %v", what, down, late, wantDown, wantLate)
		}
		if s := r.snapshot(); !maps.Equal(s, wantDown) {
			t.Fatalf("%s: snapshot %v, want %v", what, s, wantDown)
		}
	}
	check("at first", nil, nil)
	r.markLate([]string{"n1", "n2"})
	r.markDown("n3")
	check("marked", map[string]bool{"n3": true}, map[string]bool{"n1": true, "n2": true})
	r.markUp("n1") // any answer: neither late nor down
	check("n1 answered", map[string]bool{"n3": true}, map[string]bool{"n2": true})
	clk.Advance(downFor - time.Millisecond)
	r.markLate([]string{"n3"})
	check("n3 late too", map[string]bool{"n3": true}, map[string]bool{"n2": true, "n3": true})
	clk.Advance(time.Millisecond) // the first marks expire
	check("after downFor", nil, map[string]bool{"n3": true})
}
