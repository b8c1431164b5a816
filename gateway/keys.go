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
	out := make([]string, len(pl))
	for i, x := range pl {
		out[i] = string(x)
	}
	return out
}

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
	return g.round(ctx, coord.Config{Op: coord.OpGet, Replicas: reps, R: quorum(r, len(reps)), Get: &wire.GetRequest{Key: k}})
}

// writeItem runs a quorum write of one key; req.Key is set here.
func (g *Gateway) writeItem(ctx context.Context, k tenants.Key, n, w int, req *wire.PutRequest) *coord.Result {
	reps := g.replicas(k, n)
	req.Key = k
	extra := g.extras(ring.Partition(k.Partition), n, reps)
	return g.round(ctx, coord.Config{Op: coord.OpPut, Replicas: reps, Extra: extra, W: quorum(w, len(reps)), Down: g.reach.snapshot(), Put: req})
}

// scanItems runs a quorum scan of one partition key.
func (g *Gateway) scanItems(ctx context.Context, req *wire.ScanRequest, n, r int) *coord.Result {
	reps := g.replicas(req.Key, n)
	return g.round(ctx, coord.Config{Op: coord.OpScan, Replicas: reps, R: quorum(r, len(reps)), Scan: req})
}
