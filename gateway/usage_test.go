package gateway

import (
	"testing"

	"github.com/ringtable/ringtable/tenants"
)

// A tenant's estimate is the last report plus what this gateway wrote
// since it came in.
func TestUsageEstimate(t *testing.T) {
	u := newUsageView()
	ten := &tenants.Tenant{ID: "a", Quotas: tenants.Quotas{StoredBytes: 1000}}
	steps := []struct {
		do        func()
		want      int64 // the estimate after the step
		refused   bool
		reported  int64 // what of() answers
		otherWant int64
	}{
		{do: func() {}, want: 0},
		{do: func() { u.wrote("a", 400) }, want: 400},
		{do: func() { u.wrote("a", 400); u.wrote("b", 7) }, want: 800, otherWant: 7},
		// The report holds those writes (a little less, say): they are
		// not counted twice.
		{do: func() { u.report(map[string]int64{"a": 790}) }, want: 790, reported: 790},
		{do: func() { u.wrote("a", 300) }, want: 1090, refused: true, reported: 790},
		{do: func() { u.report(map[string]int64{"a": 1085, "b": 7}) }, want: 1085, refused: true, reported: 1085, otherWant: 7},
		// Deletes shrink what nodes report; the estimate follows.
		{do: func() { u.report(map[string]int64{"a": 10}) }, want: 10, reported: 10},
	}
	for i, s := range steps {
		s.do()
		if got := u.estimate("a"); got != s.want {
			t.Errorf("step %d: estimate %d, want %d", i, got, s.want)
		}
		if got := u.of("a"); got != s.reported {
			t.Errorf("step %d: reported %d, want %d", i, got, s.reported)
		}
		if got := u.estimate("b"); got != s.otherWant {
			t.Errorf("step %d: other tenant's estimate %d, want %d", i, got, s.otherWant)
		}
		if err := u.check(ten); (err != nil) != s.refused {
			t.Errorf("step %d: check = %v, want refused %v", i, err, s.refused)
		}
	}
}
