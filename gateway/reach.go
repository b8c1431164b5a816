package gateway

import (
	"sync"
	"time"

	"github.com/ringtable/ringtable/internal/clock"
)

// downFor is how long a node stays suspect after nobody answered on its
// subject: long enough to spare the next requests a failed stamp attempt,
// short enough that a restarted node is tried again soon.
const downFor = 2 * time.Second

// reachability remembers which nodes recently had no responders, so the
// coordinator does not pick them as stampers.
type reachability struct {
	clk  clock.Clock
	mu   sync.Mutex
	down map[string]time.Time
}

func newReachability(c clock.Clock) *reachability {
	return &reachability{clk: c, down: map[string]time.Time{}}
}

func (r *reachability) markDown(node string) {
	r.mu.Lock()
	r.down[node] = r.clk.Now()
	r.mu.Unlock()
}

func (r *reachability) markUp(node string) {
	r.mu.Lock()
	if _, ok := r.down[node]; ok {
		delete(r.down, node)
	}
	r.mu.Unlock()
}

// snapshot returns the nodes currently believed down; nil when none.
func (r *reachability) snapshot() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.down) == 0 {
		return nil
	}
	now := r.clk.Now()
	out := map[string]bool{}
	for n, t := range r.down {
		if now.Sub(t) < downFor {
			out[n] = true
		} else {
			delete(r.down, n)
		}
	}
	return out
}
