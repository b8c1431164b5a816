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
// coordinator does not pick them as stampers, and which recently left a
// get without an answer past the speculation delay (late), so the next
// gets ask them last. A node that answers anything is neither.
type reachability struct {
	clk  clock.Clock
	mu   sync.Mutex
	down map[string]time.Time
	late map[string]time.Time
}

func newReachability(c clock.Clock) *reachability {
	return &reachability{clk: c, down: map[string]time.Time{}, late: map[string]time.Time{}}
}

func (r *reachability) markLate(nodes []string) {
	r.mu.Lock()
	now := r.clk.Now()
	for _, n := range nodes {
		r.late[n] = now
	}
	r.mu.Unlock()
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
	if _, ok := r.late[node]; ok {
		delete(r.late, node)
	}
	r.mu.Unlock()
}

// snapshot returns the nodes currently believed down; nil when none.
func (r *reachability) snapshot() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current(r.down)
}

// snapshots returns the nodes believed down and those late.
func (r *reachability) snapshots() (down, late map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current(r.down), r.current(r.late)
}

// current returns the nodes of set marked within downFor, dropping the
// others; nil when none.
func (r *reachability) current(set map[string]time.Time) map[string]bool {
	if len(set) == 0 {
		return nil
	}
	now := r.clk.Now()
	var out map[string]bool
	for n, t := range set {
		if now.Sub(t) < downFor {
			if out == nil {
				out = map[string]bool{}
			}
			out[n] = true
		} else {
			delete(set, n)
		}
	}
	return out
}
