package openloop

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringtable/ringtable/bench/internal/result"
)

// The tests run in synctest bubbles: time moves only when every goroutine
// of the test waits, so schedules and latencies are exact.

type outcomes struct {
	mu  sync.Mutex
	all []Outcome
}

func (o *outcomes) add(x Outcome) {
	o.mu.Lock()
	o.all = append(o.all, x)
	o.mu.Unlock()
}

func (o *outcomes) sorted() []Outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.SortedFunc(slices.Values(o.all), func(a, b Outcome) int { return a.Index - b.Index })
}

func TestSendsEachRequestOnSchedule(t *testing.T) {
	for _, tc := range []struct {
		rate     float64
		duration time.Duration
		want     int
	}{
		{1000, time.Second, 1000},
		{3, time.Second, 3},
		{3, 1001 * time.Millisecond, 4},   // due at 0, 333, 667 and 1000 ms
		{0.5, 10 * time.Second, 5},        // one every 2 s
		{1000, 500 * time.Microsecond, 1}, // the first is due at once
	} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			dueAt := func(i int) time.Duration { return time.Duration(float64(i) * float64(time.Second) / tc.rate) }
			var got outcomes
			f := Send(Config{Rate: tc.rate, Duration: tc.duration, MaxInflight: 4}, func(i int) error {
				if at := time.Since(start); at != dueAt(i) {
					t.Errorf("rate %v: request %d sent at %v, due at %v", tc.rate, i, at, dueAt(i))
				}
				return nil
			}, got.add)
			f.Wait()
			all := got.sorted()
			if len(all) != tc.want {
				t.Fatalf("rate %v for %v: %d outcomes, want %d", tc.rate, tc.duration, len(all), tc.want)
			}
			for i, o := range all {
				if o.Index != i || o.Due != dueAt(i) || o.Err != nil || o.Latency != 0 {
					t.Fatalf("rate %v: outcome %d = %+v, want due %v, no latency, no error", tc.rate, i, o, dueAt(i))
				}
			}
		})
	}
}

// A stalled system is charged from each request's due time, and requests
// due while MaxInflight wait are dropped, not sent late.
func TestStallIsChargedFromDueTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		failed := errors.New("refused")
		var got outcomes
		f := Send(Config{Rate: 100, Duration: 100 * time.Millisecond, MaxInflight: 3}, func(i int) error {
			<-release
			if i == 2 {
				return failed
			}
			return nil
		}, got.add)
		// Every request has come due (the last at 90 ms); the first three
		// are stuck in flight.
		time.Sleep(time.Second)
		close(release)
		if elapsed := f.Wait(); elapsed != 1090*time.Millisecond {
			t.Fatalf("elapsed %v, want 1.09s", elapsed)
		}
		all := got.sorted()
		if len(all) != 10 {
			t.Fatalf("%d outcomes, want 10", len(all))
		}
		for i, o := range all {
			due := time.Duration(i) * 10 * time.Millisecond
			var want Outcome
			switch {
			case i < 3:
				want = Outcome{Index: i, Due: due, Latency: 1090*time.Millisecond - due}
				if i == 2 {
					want.Err = failed
				}
			default:
				want = Outcome{Index: i, Due: due, Err: ErrDropped}
			}
			if o != want {
				t.Fatalf("outcome %d = %+v, want %+v", i, o, want)
			}
		}
	})
}

// A slow answer holds back nothing: the requests after it go out on time.
func TestSlowAnswerDoesNotDelayOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got outcomes
		f := Send(Config{Rate: 10, Duration: time.Second, MaxInflight: 100}, func(i int) error {
			if i == 0 {
				time.Sleep(550 * time.Millisecond)
			}
			return nil
		}, got.add)
		if elapsed := f.Wait(); elapsed != 900*time.Millisecond {
			t.Fatalf("elapsed %v, want 900ms (the last due time)", elapsed)
		}
		all := got.sorted()
		if len(all) != 10 || all[0].Latency != 550*time.Millisecond {
			t.Fatalf("outcomes %+v: want 10, the first 550ms late", all)
		}
		for _, o := range all[1:] {
			if o.Err != nil || o.Latency != 0 {
				t.Fatalf("outcome %+v: want sent on time and answered at once", o)
			}
		}
	})
}

func TestRejectsBadSchedules(t *testing.T) {
	for _, c := range []Config{{Rate: 0, MaxInflight: 1}, {Rate: -1, MaxInflight: 1}, {Rate: 1, MaxInflight: 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Send(%+v) did not panic", c)
				}
			}()
			Send(c, func(int) error { return nil }, func(Outcome) {})
		}()
	}
}

// Measure records answers, counts failures and drops as errors, and keeps
// the first error.
func TestMeasure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		refused := errors.New("refused")
		release := make(chan struct{})
		var rec result.Recorder
		path := filepath.Join(t.TempDir(), "latency.csv")
		log := NewLatencyLog(path)
		go func() {
			time.Sleep(2 * time.Second) // after the schedule: the slow ones are still held
			close(release)
		}()
		elapsed, first := Measure(Config{Rate: 10, Duration: time.Second, MaxInflight: 2}, &rec, log, func(i int) error {
			switch i {
			case 0:
				return refused
			case 1, 2:
				<-release // holds both slots: requests 3 to 9 are dropped
			}
			return nil
		})
		s := rec.Summary(elapsed)
		if elapsed != 2*time.Second || s.Ops != 2 || s.Errors != 8 || !errors.Is(first, refused) {
			t.Fatalf("elapsed %v, %d ok, %d errors, first %v: want 2s, 2 ok, 8 errors, first refused", elapsed, s.Ops, s.Errors, first)
		}
		// The log keeps the two answers, from their due times (100 and
		// 200 ms) to the release at 2 s.
		want := []Sample{{100 * time.Millisecond, 1900 * time.Millisecond}, {200 * time.Millisecond, 1800 * time.Millisecond}}
		if err := log.Write(); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadLatencies(path); err != nil || !slices.Equal(got, want) {
			t.Fatalf("latency log read back as %v (%v), want %v", got, err, want)
		}
		// Request 1 was due at 100 ms, request 2 at 200 ms.
		if s.P50 != 1800*time.Millisecond && s.P50 != 1900*time.Millisecond {
			t.Fatalf("p50 %v, want a latency counted from the due time", s.P50)
		}
	})
}

func TestPick(t *testing.T) {
	for _, tc := range []struct {
		asked, measured, want float64
		ok                    bool
	}{
		{1000, 0, 1000, true},
		{1000, 5000, 1000, true},
		{0, 5000, 2500, true},
		{0, 0, 0, false},
	} {
		got, err := Pick(tc.asked, tc.measured)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("Pick(%v, %v) = %v, %v; want %v, ok %v", tc.asked, tc.measured, got, err, tc.want, tc.ok)
		}
	}
}

// A file that is not a latency log, or has a malformed line, is refused
// with where it went wrong.
func TestReadLatenciesRejects(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"time,label\n1,2\n", "not a latency log"},
		{"due_ms,latency_ms\n0.000,1.500\n1.000;2.000\n", "line 3"},
		{"due_ms,latency_ms\n0.000,x\n", "line 2"},
	} {
		path := filepath.Join(t.TempDir(), "latency.csv")
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadLatencies(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one saying %q", tc.text, err, tc.want)
		}
	}
}
