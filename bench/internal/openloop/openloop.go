// Package openloop paces requests at a fixed rate whether or not earlier
// ones have answered, as users arriving independently do, so that a system
// that stalls is charged for every request that queued behind the stall.
// Each request's latency counts from the moment it was due, not from when
// it was sent (no coordinated omission). It is shared by the bench
// programs that measure a latency at a given rate; it never retries a
// request and never sends one late to catch up on a dropped one.
package openloop

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ringtable/ringtable/bench/internal/result"
)

// ErrDropped is the outcome of a request that came due while MaxInflight
// requests were still waiting for answers: it was not sent.
var ErrDropped = errors.New("openloop: too many requests in flight: not sent")

// Config is a schedule: Rate requests a second for Duration.
type Config struct {
	Rate        float64
	Duration    time.Duration
	MaxInflight int
}

// Outcome is one request's result.
type Outcome struct {
	Index   int
	Due     time.Duration // since the schedule began
	Latency time.Duration // from when it was due to its answer
	Err     error
}

// Flight is a schedule whose requests have all come due; some may still
// be waiting for answers.
type Flight struct {
	start time.Time
	wg    sync.WaitGroup
}

// Send calls op(i) on a goroutine of its own for each request i due
// during the schedule, at its due time (at once when behind), and done
// with each outcome, from any goroutine. It returns when the last request
// has come due.
func Send(c Config, op func(i int) error, done func(Outcome)) *Flight {
	if c.Rate <= 0 || c.MaxInflight < 1 {
		panic("openloop: need a positive rate and MaxInflight")
	}
	f := &Flight{start: time.Now()}
	slots := make(chan struct{}, c.MaxInflight)
	for i := 0; ; i++ {
		// From i, not summed intervals: no rounding error builds up.
		due := time.Duration(float64(i) * float64(time.Second) / c.Rate)
		if due >= c.Duration {
			break
		}
		if wait := due - time.Since(f.start); wait > 0 {
			time.Sleep(wait)
		}
		select {
		case slots <- struct{}{}:
		default:
			done(Outcome{Index: i, Due: due, Err: ErrDropped})
			continue
		}
		f.wg.Go(func() {
			defer func() { <-slots }()
			err := op(i)
			done(Outcome{Index: i, Due: due, Latency: time.Since(f.start) - due, Err: err})
		})
	}
	return f
}

// Wait waits for every sent request's answer and returns the time from
// the schedule's start to the last answer.
func (f *Flight) Wait() time.Duration {
	f.wg.Wait()
	return time.Since(f.start)
}

// Tally records outcomes: each answer's latency, and each failure or drop
// as an error, in Rec, and each answer in Log if it is set; it keeps the
// first error. Add may be called from any goroutine, as Send's done is.
type Tally struct {
	Rec *result.Recorder
	Log *LatencyLog

	mu    sync.Mutex
	first error
}

// Add records one outcome.
func (t *Tally) Add(o Outcome) {
	if o.Err == nil {
		t.Rec.Ok(o.Latency)
		t.Log.Add(o)
		return
	}
	t.Rec.Err()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first == nil {
		t.first = o.Err
	}
}

// First returns the first error added, if any.
func (t *Tally) First() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first
}

// Measure runs the schedule and records each answered request's latency in
// rec, and in log unless it is nil; it returns the time to the last answer
// and the first error (a dropped request counts as one).
func Measure(c Config, rec *result.Recorder, log *LatencyLog, op func(i int) error) (time.Duration, error) {
	t := &Tally{Rec: rec, Log: log}
	elapsed := Send(c, op, t.Add).Wait()
	return elapsed, t.First()
}

// LatencyLog keeps each answered request's due time and latency, to be
// written to its file (Write) and read back (ReadLatencies) by the
// report: when the slow requests came, not only how many. A nil log keeps
// and writes nothing. Add may be called from any goroutine.
type LatencyLog struct {
	path    string
	mu      sync.Mutex
	samples []Sample
}

// NewLatencyLog returns a log to be written to path, or nil when path is
// empty.
func NewLatencyLog(path string) *LatencyLog {
	if path == "" {
		return nil
	}
	return &LatencyLog{path: path}
}

// Sample is one answered request: when it was due, since the schedule
// began, and how long from then it took.
type Sample struct{ Due, Latency time.Duration }

// Add keeps o if it was answered.
func (l *LatencyLog) Add(o Outcome) {
	if l == nil || o.Err != nil {
		return
	}
	l.mu.Lock()
	l.samples = append(l.samples, Sample{o.Due, o.Latency})
	l.mu.Unlock()
}

// latencyHeader starts a latency log's file.
const latencyHeader = "due_ms,latency_ms"

// Write writes the samples to the log's file, in due order, as CSV in
// milliseconds.
func (l *LatencyLog) Write() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	samples := slices.SortedFunc(slices.Values(l.samples), func(a, b Sample) int { return cmp.Compare(a.Due, b.Due) })
	l.mu.Unlock()
	var b strings.Builder
	b.WriteString(latencyHeader + "\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "%.3f,%.3f\n", ms(s.Due), ms(s.Latency))
	}
	if err := os.WriteFile(l.path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("openloop: latency log: %w", err)
	}
	return nil
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

// ReadLatencies reads a file a LatencyLog wrote.
func ReadLatencies(path string) ([]Sample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if lines[0] != latencyHeader { // Split gives at least one line
		return nil, fmt.Errorf("openloop: %s: not a latency log (its first line is not %q)", path, latencyHeader)
	}
	samples := make([]Sample, 0, len(lines)-1)
	for i, line := range lines[1:] {
		var due, lat float64
		if _, err := fmt.Sscanf(line, "%g,%g", &due, &lat); err != nil {
			return nil, fmt.Errorf("openloop: %s line %d: %q: %w", path, i+2, line, err)
		}
		samples = append(samples, Sample{fromMs(due), fromMs(lat)})
	}
	return samples, nil
}

func fromMs(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// Pick returns a rate case's rate: the one asked for, else half the
// closed-loop rate measured before it (0: none was).
func Pick(asked, measured float64) (float64, error) {
	switch {
	case asked > 0:
		return asked, nil
	case measured > 0:
		return measured / 2, nil
	}
	return 0, errors.New("rate: no --rate and no closed-loop write rate measured before it (put write first in --ops)")
}
