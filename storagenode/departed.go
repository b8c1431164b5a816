package storagenode

import (
	"context"
	"time"

	"github.com/ringtable/ringtable/membership"
)

// departures tracks, on the cluster loop, which departed members this node
// has taken out of the bus's clustering (Config.RemoveFromBus).
type departures struct {
	done    map[string]bool
	pending map[string]bool      // a call under way
	next    map[string]time.Time // no new call before then
}

// busRetry spaces the calls for one member while they fail (the bus may
// have no JetStream leader for a while).
const busRetry = 10 * time.Second

// removeDeparted calls RemoveFromBus for the members that have left the
// ring, once each until it succeeds. Every active node does, so a
// departure is acted on while any node is up; the call is idempotent.
func (c *cluster) removeDeparted(ctx context.Context) {
	remove := c.n.cfg.RemoveFromBus
	if remove == nil || c.state.Members[c.n.cfg.ID].Status != membership.Active {
		return
	}
	d := &c.departed
	if d.done == nil {
		d.done, d.pending, d.next = map[string]bool{}, map[string]bool{}, map[string]time.Time{}
	}
	now := time.Now()
	for id, m := range c.state.Members {
		if m.Status != membership.Left || d.done[id] || d.pending[id] || now.Before(d.next[id]) {
			continue
		}
		d.pending[id] = true
		c.n.wg.Add(1)
		go func() {
			defer c.n.wg.Done()
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := remove(rctx, id)
			cancel()
			select {
			case c.in <- func() {
				delete(d.pending, id)
				if err != nil {
					d.next[id] = time.Now().Add(busRetry)
					c.n.log.Warn("departed member still in the bus's cluster; retrying", "member", id, "err", err)
					return
				}
				d.done[id] = true
				c.n.log.Info("departed member removed from the bus's cluster", "member", id)
			}:
			case <-ctx.Done():
			}
		}()
	}
}
