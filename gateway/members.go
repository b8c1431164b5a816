package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/ring"
)

// members follows the storage nodes' member list: a gateway keeps no
// membership of its own, it learns the list from any node at start and
// merges every broadcast after.
type members struct {
	mu     sync.Mutex
	state  membership.State
	target *ring.Ring // nil unless the ring is changing
}

// learnMembers asks the nodes for their view until one answers.
func (g *Gateway) learnMembers(ctx context.Context) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		data, err := g.conn.Request(rctx, g.subj.GossipAll(), nil)
		cancel()
		if err == nil {
			var st membership.State
			if err := json.Unmarshal(data, &st); err == nil && g.applyMembers(st) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gateway: no storage node answered with a ring: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (g *Gateway) onMembers(m *messaging.Msg) {
	var st membership.State
	if len(m.Data) == 0 || json.Unmarshal(m.Data, &st) != nil {
		return
	}
	g.applyMembers(st)
}

// applyMembers merges a view and rebuilds the rings; it reports whether
// the gateway now has a serving ring.
func (g *Gateway) applyMembers(in membership.State) bool {
	g.mem.mu.Lock()
	defer g.mem.mu.Unlock()
	if in.Q != g.cfg.Q {
		g.log.Warn("member list of a ring with another Q ignored", "q", in.Q, "want", g.cfg.Q)
		return g.ring.Load() != nil
	}
	st, changed := g.mem.state.Merge(in)
	if !changed && g.ring.Load() != nil {
		return true
	}
	serving, err := st.Serving()
	if err != nil {
		return g.ring.Load() != nil
	}
	g.mem.state = st
	g.ring.Store(serving)
	g.mem.target = nil
	if st.Transitioning() {
		if t, err := st.Target(); err == nil {
			g.mem.target = t
		}
	}
	return true
}

// extras returns the replicas a write must also reach because the ring is
// changing: the target ring's replicas that the serving ring lacks.
func (g *Gateway) extras(p ring.Partition, n int, replicas []string) []string {
	g.mem.mu.Lock()
	t := g.mem.target
	g.mem.mu.Unlock()
	if t == nil {
		return nil
	}
	tp, _ := t.Preference(p, n)
	var out []string
	for _, x := range tp {
		found := false
		for _, r := range replicas {
			found = found || r == string(x)
		}
		if !found {
			out = append(out, string(x))
		}
	}
	return out
}

// alive lists the members that hold or take data (active, joining,
// leaving): what an operator's request and a purge must reach, where the
// serving ring leaves a joining node out.
func (g *Gateway) alive() []string {
	g.mem.mu.Lock()
	defer g.mem.mu.Unlock()
	return g.mem.state.Alive()
}

// ringChanging reports whether joins or leaves are pending.
func (g *Gateway) ringChanging() bool {
	g.mem.mu.Lock()
	defer g.mem.mu.Unlock()
	return g.mem.state.Transitioning()
}

// Members returns the gateway's view of the member list.
func (g *Gateway) Members() membership.State {
	g.mem.mu.Lock()
	defer g.mem.mu.Unlock()
	return g.mem.state.Clone()
}
