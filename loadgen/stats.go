package loadgen

import (
	"slices"
	"time"
)

// OpStats summarises one kind of operation.
type OpStats struct {
	Ops      int
	Errors   int
	Rate     float64 // successful operations per second
	P50, P95 time.Duration
	P99      time.Duration
	P999     time.Duration
	Max      time.Duration
}

func summarise(lat []time.Duration, errs int, elapsed time.Duration) OpStats {
	s := OpStats{Ops: len(lat), Errors: errs}
	if elapsed > 0 {
		s.Rate = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) == 0 {
		return s
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration {
		i := int(q * float64(len(lat)-1))
		return lat[i]
	}
	s.P50, s.P95, s.P99, s.P999, s.Max = at(0.50), at(0.95), at(0.99), at(0.999), lat[len(lat)-1]
	return s
}

// Report is the outcome of a run.
type Report struct {
	Config   Config
	Elapsed  time.Duration
	Reads    OpStats
	Writes   OpStats
	NotFound int // reads of keys never written (not errors)
	// Resolved counts writes that read the item and wrote with the
	// read's context, which resolves its siblings: because an earlier
	// write's answer said it had some, because a write without a context
	// met versions the run had not seen, or because the table's sibling
	// maximum refused the write.
	Resolved int
	// MaxSiblings is the most siblings a write's answer reported.
	MaxSiblings int
	// PreloadResolved counts keys the preload found written by an earlier
	// run and rewrote with the context it read, leaving one version each.
	PreloadResolved int
	Errors          map[string]int // error kind → count
}

// Total is the rate of all successful operations.
func (r *Report) Total() float64 { return r.Reads.Rate + r.Writes.Rate }
