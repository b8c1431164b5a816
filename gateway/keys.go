package gateway

import (
	"context"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/tenants"
)

// key builds the storage key of an item and its ring partition.
func (g *Gateway) key(kind tenants.Kind, tenant, tableID, pk, sk string) tenants.Key {
	p := g.Ring().PartitionOf(ring.KeyHash(tenant, tableID, pk))
	return tenants.Key{Kind: kind, Partition: uint32(p), Tenant: tenant, Table: tableID, PK: pk, SK: sk}
}

// replicas returns the first n nodes of a key's preference list.
func (g *Gateway) replicas(k tenants.Key, n int) []string {
	pl, _ := g.Ring().Preference(ring.Partition(k.Partition), n)
	return nodeNames(pl)
}

// fallbacks returns the nodes after a key's preference list, in order.
func (g *Gateway) fallbacks(k tenants.Key, n int) []string {
	_, fb := g.Ring().Preference(ring.Partition(k.Partition), n)
	return nodeNames(fb)
}

func nodeNames(ids []ring.NodeID) []string {
	out := make([]string, len(ids))
	for i, x := range ids {
		out[i] = string(x)
	}
	return out
}

// strictKey marks a context whose rounds must not use fallbacks.
type strictKey struct{}

func withStrict(ctx context.Context, strict bool) context.Context {
	if !strict {
		return ctx
	}
	return context.WithValue(ctx, strictKey{}, true)
}

func isStrict(ctx context.Context) bool { v, _ := ctx.Value(strictKey{}).(bool); return v }

// quorum clamps a requested quorum to the replicas that exist, so a
// cluster smaller than N still serves (with the guarantees it can give).
func quorum(q, replicas int) int {
	if q > replicas {
		return replicas
	}
	return q
}

// readItem runs a quorum read of one key.
func (g *Gateway) readItem(ctx context.Context, k tenants.Key, n, r int) *coord.Result {
	reps := g.replicas(k, n)
	all := g.cfg.ReadRepairEvery <= 1 || g.gets.Add(1)%uint64(g.cfg.ReadRepairEvery) == 0
	down, late := g.reach.snapshots()
	return g.round(ctx, coord.Config{Op: coord.OpGet, Replicas: reps, Fallbacks: g.fallbacks(k, n), Strict: isStrict(ctx),
		Down: down, Late: late, R: quorum(r, len(reps)), AskAll: all, Get: &wire.GetRequest{Key: k}})
}

// writeItem runs a quorum write of one key; req.Key is set here.
func (g *Gateway) writeItem(ctx context.Context, k tenants.Key, n, w int, req *wire.PutRequest) *coord.Result {
	reps := g.replicas(k, n)
	req.Key = k
	extra := g.extras(ring.Partition(k.Partition), n, reps)
	return g.round(ctx, coord.Config{Op: coord.OpPut, Replicas: reps, Fallbacks: g.fallbacks(k, n), Strict: isStrict(ctx),
		Extra: extra, W: quorum(w, len(reps)), Down: g.reach.snapshot(), Put: req})
}

// scanItems runs a quorum scan of one partition key.
func (g *Gateway) scanItems(ctx context.Context, req *wire.ScanRequest, n, r int) *coord.Result {
	reps := g.replicas(req.Key, n)
	return g.round(ctx, coord.Config{Op: coord.OpScan, Replicas: reps, R: quorum(r, len(reps)), Scan: req})
}
