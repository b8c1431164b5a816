package speculate

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketsCoverEveryTime(t *testing.T) {
	// Every bucket's times lie above the one before's and at or below its
	// own upper bound, which is at most an eighth above any of them.
	prevUpper := time.Duration(-1)
	for i := range buckets {
		u := upper(i)
		if u <= prevUpper {
			t.Fatalf("upper(%d) = %v, not above upper(%d) = %v", i, u, i-1, prevUpper)
		}
		lo := prevUpper + 1
		if i > 0 && i < buckets-1 {
			for _, d := range []time.Duration{lo, (lo + u) / 2, u} {
				if got := bucket(d); got != i {
					t.Fatalf("bucket(%v) = %d, want %d (bounds %v–%v)", d, got, i, lo, u)
				}
			}
			if float64(u) > float64(lo)*9/8 {
				t.Fatalf("bucket %d spans %v–%v, more than an eighth", i, lo, u)
			}
		}
		prevUpper = u
	}
	for _, c := range []struct {
		d    time.Duration
		want int
	}{
		{-time.Second, 0},
		{0, 0},
		{65 * time.Microsecond, 0},
		{1 << minShift, 1},
		{1<<minShift + 1<<(minShift-subBits), 2},
		{1<<maxShift - 1, buckets - 2},
		{1 << maxShift, buckets - 1},
		{math.MaxInt64, buckets - 1},
	} {
		if got := bucket(c.d); got != c.want {
			t.Errorf("bucket(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

func TestDelay(t *testing.T) {
	ms := time.Millisecond
	cfg := Config{Quantile: 0.99, Min: ms, Max: 25 * ms, MinSamples: 100}
	repeat := func(d time.Duration, n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	for _, c := range []struct {
		name    string
		cfg     Config
		samples []time.Duration
		lo, hi  time.Duration // the delay's range
	}{
		{"nothing recorded", cfg, nil, 25 * ms, 25 * ms},
		{"too few to trust", cfg, repeat(2*ms, 99), 25 * ms, 25 * ms},
		{"enough", cfg, repeat(2*ms, 100), 2 * ms, 2*ms + ms/4},
		{"a tail under a hundredth", cfg, append(repeat(2*ms, 995), repeat(20*ms, 5)...), 2 * ms, 2*ms + ms/4},
		{"a tail over a hundredth", cfg, append(repeat(2*ms, 980), repeat(8*ms, 20)...), 8 * ms, 9 * ms},
		{"faster than the floor", cfg, repeat(100*time.Microsecond, 500), ms, ms},
		{"slower than the ceiling", cfg, repeat(time.Second, 500), 25 * ms, 25 * ms},
		{"the median", Config{Quantile: 0.5, Min: ms, Max: time.Second, MinSamples: 1},
			append(repeat(3*ms, 51), repeat(300*ms, 49)...), 3 * ms, 3*ms + ms/2},
		{"quantile 0 is fixed", Config{Min: ms, Max: 25 * ms}, repeat(2*ms, 1000), 25 * ms, 25 * ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := New(c.cfg)
			if got := e.Delay(); got != c.cfg.Max {
				t.Fatalf("delay before any Roll = %v, want Max %v", got, c.cfg.Max)
			}
			for _, d := range c.samples {
				e.Observe(d)
			}
			got := e.Roll()
			if got < c.lo || got > c.hi {
				t.Fatalf("Roll() = %v, want %v–%v", got, c.lo, c.hi)
			}
			if e.Delay() != got {
				t.Fatalf("Delay() = %v after Roll() returned %v", e.Delay(), got)
			}
		})
	}
}

// A period counts for two Rolls: the one that ends it and the next.
func TestPeriodsAge(t *testing.T) {
	ms := time.Millisecond
	e := New(Config{Quantile: 0.99, Min: ms, Max: 25 * ms, MinSamples: 100})
	for range 200 {
		e.Observe(4 * ms)
	}
	if d := e.Roll(); d > 5*ms {
		t.Fatalf("first Roll = %v, want about 4ms", d)
	}
	for range 60 {
		e.Observe(10 * ms)
	}
	// 260 times over the two periods, 60 of them 10 ms: above a hundredth.
	if d := e.Roll(); d < 10*ms || d > 12*ms {
		t.Fatalf("second Roll = %v, want about 10ms", d)
	}
	// The 4 ms period is gone; 60 times alone are too few, and so is
	// nothing: the delay stays.
	if d := e.Roll(); d < 10*ms || d > 12*ms {
		t.Fatalf("third Roll = %v, want it kept at about 10ms", d)
	}
	if d := e.Roll(); d < 10*ms || d > 12*ms {
		t.Fatalf("fourth Roll = %v, want it kept at about 10ms", d)
	}
	// Enough again: the new periods alone count.
	for range 100 {
		e.Observe(3 * ms)
	}
	if d := e.Roll(); d > 4*ms {
		t.Fatalf("fifth Roll = %v, want about 3ms", d)
	}
}

func TestNewRefusesBadBounds(t *testing.T) {
	for _, cfg := range []Config{
		{Quantile: 0.99, Min: 0, Max: time.Second},
		{Quantile: 0.99, Min: time.Second, Max: time.Millisecond},
		{Quantile: 1, Min: time.Millisecond, Max: time.Second},
		{Quantile: -0.5, Min: time.Millisecond, Max: time.Second},
		{Quantile: math.NaN(), Min: time.Millisecond, Max: time.Second},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", cfg)
				}
			}()
			New(cfg)
		}()
	}
}

// Recorders on many goroutines and a roller at once: the race detector
// watches, and every delay stays within its bounds.
func TestConcurrentRecordAndRoll(t *testing.T) {
	ms := time.Millisecond
	e := New(Config{Quantile: 0.99, Min: ms, Max: 25 * ms, MinSamples: 10})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e.Observe(time.Duration(g*i%40) * ms)
				if d := e.Delay(); d < ms || d > 25*ms {
					t.Errorf("Delay() = %v, out of bounds", d)
					return
				}
			}
		}()
	}
	for range 200 {
		if d := e.Roll(); d < ms || d > 25*ms {
			t.Errorf("Roll() = %v, out of bounds", d)
		}
	}
	close(stop)
	wg.Wait()
}

// The delay is the bucket bound of the sample quantile: at or above the
// true quantile of what was recorded and at most an eighth over it, unless
// a bound applies; and never outside the bounds.
func FuzzDelay(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(99))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255}, uint8(50))
	f.Fuzz(func(t *testing.T, raw []byte, pct uint8) {
		q := float64(pct%99+1) / 100
		lo, hi := 100*time.Microsecond, 10*time.Second
		e := New(Config{Quantile: q, Min: lo, Max: hi, MinSamples: 1})
		var samples []time.Duration
		for len(raw) >= 4 {
			d := time.Duration(binary.LittleEndian.Uint32(raw)) * 10 // up to 43 s
			raw = raw[4:]
			samples = append(samples, d)
			e.Observe(d)
		}
		got := e.Roll()
		if got < lo || got > hi {
			t.Fatalf("Roll() = %v, outside %v–%v", got, lo, hi)
		}
		if len(samples) == 0 {
			if got != hi {
				t.Fatalf("Roll() = %v with nothing recorded, want Max", got)
			}
			return
		}
		slices.Sort(samples)
		rank := max(1, int(math.Ceil(q*float64(len(samples)))))
		want := samples[min(rank, len(samples))-1] // the true quantile
		switch {
		case want <= lo || want >= hi:
			// A bound applies.
		case got < want:
			t.Fatalf("Roll() = %v, below the %v quantile %v of %v", got, q, want, samples)
		case want >= 1<<minShift && float64(got) > float64(want)*9/8:
			t.Fatalf("Roll() = %v, more than an eighth over the %v quantile %v", got, q, want)
		}
	})
}
