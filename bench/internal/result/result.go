// Package result is what the bench programs share: collecting latencies,
// summarising them, and appending rows to a CSV file in the same columns
// as `ringtable bench --csv`, so that compare.sh and bench/summarize read
// every system's figures the same way.
package result

import (
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Header is the column list of `ringtable bench --csv` (cmd/ringtable/bench.go).
var Header = []string{"time", "label", "op", "concurrency", "keys", "dist", "value_size", "read_ratio",
	"ops_per_sec", "p50_ms", "p95_ms", "p99_ms", "p999_ms", "errors"}

// Recorder collects the latencies of one kind of operation from many
// goroutines.
type Recorder struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs int
}

// Ok records a successful operation.
func (r *Recorder) Ok(d time.Duration) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.mu.Unlock()
}

// Err records a failed operation.
func (r *Recorder) Err() {
	r.mu.Lock()
	r.errs++
	r.mu.Unlock()
}

// Stats summarises one kind of operation.
type Stats struct {
	Ops, Errors         int
	Rate                float64 // successful operations per second
	P50, P95, P99, P999 time.Duration
}

// Summary sorts the latencies and summarises them over elapsed.
func (r *Recorder) Summary(elapsed time.Duration) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Ops: len(r.lat), Errors: r.errs}
	if len(r.lat) == 0 {
		return s
	}
	s.Rate = float64(len(r.lat)) / elapsed.Seconds()
	slices.Sort(r.lat)
	at := func(q float64) time.Duration { return r.lat[int(q*float64(len(r.lat)-1))] }
	s.P50, s.P95, s.P99, s.P999 = at(0.50), at(0.95), at(0.99), at(0.999)
	return s
}

// Row describes the run a Stats came from.
type Row struct {
	Label, Op         string
	Concurrency, Keys int
	Dist              string
	ValueSize         int
	ReadRatio         float64
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

// Print writes a one-line human summary to stdout.
func Print(r Row, s Stats) {
	fmt.Printf("%-24s %-5s %8.0f ops/s  p50 %7s ms  p99 %7s ms  ops %d  errors %d\n",
		r.Label, r.Op, s.Rate, ms(s.P50), ms(s.P99), s.Ops, s.Errors)
}

// Append adds one row to the CSV file at path, writing the header first
// when the file is new. An empty path does nothing.
func Append(path string, r Row, s Stats) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		_ = w.Write(Header)
	}
	_ = w.Write([]string{time.Now().UTC().Format(time.RFC3339), r.Label, r.Op, strconv.Itoa(r.Concurrency),
		strconv.Itoa(r.Keys), r.Dist, strconv.Itoa(r.ValueSize), strconv.FormatFloat(r.ReadRatio, 'f', 2, 64),
		fmt.Sprintf("%.1f", s.Rate), ms(s.P50), ms(s.P95), ms(s.P99), ms(s.P999), strconv.Itoa(s.Errors)})
	w.Flush()
	return w.Error()
}

// Value returns a JSON object of exactly size bytes, the shape loadgen
// writes ({"v":"xxx…"}), so every system stores the same bytes.
func Value(size int) []byte {
	pad := max(size-len(`{"v":""}`), 0)
	b := make([]byte, 0, size)
	b = append(b, `{"v":"`...)
	for range pad {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}
