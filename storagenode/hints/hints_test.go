package hints_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ringtable/ringtable/storagenode/hints"
)

func TestNewDefaults(t *testing.T) {
	s := hints.New()
	if s.BaseBackoff != 1 || s.MaxBackoff != 64 {
		t.Errorf("New() backoffs = %d, %d; want 1, 64", s.BaseBackoff, s.MaxBackoff)
	}
	if got := s.Tick(nil, func(string) bool { return true }); len(got) != 0 {
		t.Errorf("Tick with nothing pending = %v", got)
	}
	if s.Backoff("never-seen") != 0 {
		t.Error("an unknown owner backs off")
	}
}

// TestFailedBackoff: consecutive failures wait BaseBackoff, doubling, up
// to MaxBackoff, for any configuration, without overflowing.
func TestFailedBackoff(t *testing.T) {
	for _, tt := range []struct {
		base, max int
		want      []int
	}{
		{1, 64, []int{1, 2, 4, 8, 16, 32, 64, 64, 64}},
		{1, 8, []int{1, 2, 4, 8, 8}},
		{2, 7, []int{2, 4, 7, 7}},
		{3, 3, []int{3, 3, 3}},
		{10, 6, []int{6, 6}},
		{1, 1, []int{1, 1}},
	} {
		t.Run(fmt.Sprintf("base=%d max=%d", tt.base, tt.max), func(t *testing.T) {
			s := hints.New()
			s.BaseBackoff, s.MaxBackoff = tt.base, tt.max
			var got []int
			for range tt.want {
				got = append(got, s.Failed("a"))
				if s.Backoff("a") != got[len(got)-1] {
					t.Fatalf("Backoff = %d right after Failed returned %d", s.Backoff("a"), got[len(got)-1])
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("waits %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("huge max", func(t *testing.T) {
		s := hints.New()
		s.MaxBackoff = math.MaxInt
		for k := 1; k <= 200; k++ {
			want := math.MaxInt
			if k <= 63 {
				want = 1 << (k - 1)
			}
			if got := s.Failed("a"); got != want {
				t.Fatalf("failure %d waits %d, want %d", k, got, want)
			}
		}
	})
}

// TestRandomSchedules drives schedulers with random pending counts,
// reachability and outcomes, and checks each tick against a model: an
// owner is due exactly when it has hints, is reachable and its backoff
// (BaseBackoff·2^(failures-1), capped, since its last failure) is over;
// a success or an empty queue forgets its failures.
func TestRandomSchedules(t *testing.T) {
	owners := []string{"a", "b", "c", "d"}
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 9))
		s := hints.New()
		s.BaseBackoff, s.MaxBackoff = 1+rng.IntN(3), 1+rng.IntN(20)
		var (
			tick     int
			failures = map[string]int{}
			next     = map[string]int{} // no attempt before this tick
			pending  = map[string]int{}
			down     = map[string]bool{}
		)
		for step := range 200 {
			for _, o := range owners {
				if rng.IntN(8) == 0 {
					pending[o] = rng.IntN(3)
				}
				if rng.IntN(8) == 0 {
					down[o] = !down[o]
				}
			}
			tick++
			var want []string
			for _, o := range owners {
				if pending[o] > 0 && !down[o] && next[o] <= tick {
					want = append(want, o)
				}
			}
			for _, o := range owners {
				if pending[o] == 0 {
					failures[o], next[o] = 0, 0
				}
			}
			got := s.Tick(clonePending(pending), func(o string) bool { return !down[o] })
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d step %d: due %v, want %v (pending %v, down %v, next %v)", seed, step, got, want, pending, down, next)
			}
			for _, o := range got {
				if rng.IntN(2) == 0 {
					s.Delivered(o)
					failures[o], next[o] = 0, 0
					continue
				}
				failures[o]++
				wait := s.BaseBackoff << (failures[o] - 1)
				if failures[o] > 20 || wait > s.MaxBackoff {
					wait = s.MaxBackoff
				}
				if got := s.Failed(o); got != wait {
					t.Fatalf("seed %d step %d: %s's failure %d waits %d, want %d", seed, step, o, failures[o], got, wait)
				}
				next[o] = tick + wait
			}
			for _, o := range owners {
				if want := max(next[o]-tick, 0); s.Backoff(o) != want {
					t.Fatalf("seed %d step %d: Backoff(%s) = %d, want %d", seed, step, o, s.Backoff(o), want)
				}
			}
		}
	}
}

// clonePending copies m, so the scheduler cannot depend on the caller's map.
func clonePending(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
