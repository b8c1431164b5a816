package gateway

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/tenants"
)

// usageView is this gateway's estimate of the bytes each tenant stores,
// refreshed from the storage nodes' own accounting, plus what this gateway
// wrote since: quotas are checked against both, so that a tenant writing
// fast overshoots its quota by at most what it writes through other
// gateways between two reports, not by what every gateway lets through
// until the next one.
type usageView struct {
	mu    sync.RWMutex
	bytes map[string]int64
	// since counts, per tenant, the bytes of the items this gateway began
	// to write since the last report came in. Overwrites, and writes that
	// failed, count in full until the next report.
	since map[string]*atomic.Int64
}

func newUsageView() *usageView {
	return &usageView{bytes: map[string]int64{}, since: map[string]*atomic.Int64{}}
}

// of is the tenant's bytes as last reported.
func (u *usageView) of(tenant string) int64 {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.bytes[tenant]
}

// estimate is the tenant's bytes as last reported and written since.
func (u *usageView) estimate(tenant string) int64 {
	u.mu.RLock()
	defer u.mu.RUnlock()
	n := u.bytes[tenant]
	if c := u.since[tenant]; c != nil {
		n += c.Load()
	}
	return n
}

// wrote counts an item this gateway is about to write.
func (u *usageView) wrote(tenant string, n int64) {
	u.mu.RLock()
	c := u.since[tenant]
	u.mu.RUnlock()
	if c == nil {
		u.mu.Lock()
		if c = u.since[tenant]; c == nil {
			c = new(atomic.Int64)
			u.since[tenant] = c
		}
		u.mu.Unlock()
	}
	c.Add(n)
}

// report takes the nodes' totals and forgets what was written before:
// the totals hold it. Writes are counted as they begin, so none is in both
// (which refused a tenant short of its quota, and let it write again at
// the next report); one begun before the report came in but stored after
// the nodes answered is in neither, which lets a tenant past its quota by
// what it writes in those milliseconds.
func (u *usageView) report(total map[string]int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bytes = total
	for _, c := range u.since {
		c.Store(0)
	}
}

// check refuses a write of a tenant already at its stored-bytes quota.
func (u *usageView) check(t *tenants.Tenant) error {
	if used := u.estimate(t.ID); used >= t.Quotas.StoredBytes {
		return &QuotaError{Msg: fmt.Sprintf("stored bytes quota exceeded: the tenant stores about %d bytes and its quota allows %d; delete items or ask for a larger quota", used, t.Quotas.StoredBytes)}
	}
	return nil
}

func (g *Gateway) pollUsage(ctx context.Context) {
	t := time.NewTicker(g.cfg.UsageInterval)
	defer t.Stop()
	for {
		g.collectUsage(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// collectUsage asks every node for its per-table bytes and keeps, per
// tenant, the total divided by the replication factor: an item is counted
// once, not once per replica.
func (g *Gateway) collectUsage(ctx context.Context) {
	// The serving ring's nodes: a joining node's partial copies would be
	// counted beside the copies it is taking.
	replies := g.broadcast(ctx, nodeNames(g.Ring().Nodes()), &wire.UsageRequest{}, g.cfg.RoundTimeout)
	total := map[string]int64{}
	for _, r := range replies {
		for _, u := range r.Usage {
			total[u.Tenant] += u.Bytes
		}
	}
	copies := int64(min(g.cfg.N, len(g.Ring().Nodes())))
	for k := range total {
		total[k] /= max(copies, 1)
	}
	g.usage.report(total)
}

// broadcast sends one request to each of nodes and returns the successful
// replies that arrive within timeout, by node.
func (g *Gateway) broadcast(ctx context.Context, nodes []string, m wire.Message, timeout time.Duration) map[string]*wire.Reply {
	call := g.caller.Open(2*len(nodes) + 2)
	defer call.Close()
	wire.SetRound(m, call.Round())
	data := wire.Encode(m)
	for _, n := range nodes {
		if err := call.Send(g.subj.NodeOp(n, m.Type().String()), data); err != nil {
			g.log.Warn("broadcast send failed", "to", n, "err", err)
		}
	}
	out := map[string]*wire.Reply{}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for answered := 0; answered < len(nodes); {
		select {
		case msg := <-call.Replies():
			ev, mine := g.event(call, msg)
			if !mine {
				continue
			}
			answered++
			if ev.Reply != nil && ev.Reply.Err() == nil {
				out[ev.From] = ev.Reply
			}
		case <-timer.C:
			return out
		case <-ctx.Done():
			return out
		}
	}
	return out
}
