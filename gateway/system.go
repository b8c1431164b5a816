package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// The cluster's own tables (catalog, tenants, API keys, pending purges) are
// items in the system keyspace, replicated by the same quorum rounds as
// data, so every gateway sees the same state and none keeps any.
const (
	systemN = 3
	systemQ = 2 // R and W for system items: a majority of systemN
	// sysTenant owns the tables that belong to no tenant.
	sysTenant = "sys"
)

// sysKey is the key of a system item.
func (g *Gateway) sysKey(owner, table, pk, sk string) tenants.Key {
	return g.key(tenants.KindSystem, owner, table, pk, sk)
}

// sysGet reads a system item: its live versions and the context of the
// read (for a write that replaces them).
func (g *Gateway) sysGet(ctx context.Context, k tenants.Key) (vclock.Set, vclock.Context, error) {
	res := g.readItem(ctx, k, systemN, systemQ)
	if res.Err != nil {
		return nil, vclock.Context{}, fmt.Errorf("system table %s: %w", k.Table, res.Err)
	}
	return res.Set.Live(g.cfg.Clock.Now().UnixMilli()), res.Set.Context(), nil
}

// sysPut writes a system item as JSON with the context of a read.
func (g *Gateway) sysPut(ctx context.Context, k tenants.Key, v any, vctx vclock.Context) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	res := g.writeItem(ctx, k, systemN, systemQ, &wire.PutRequest{Context: vctx, Value: b})
	if res.Err != nil {
		return fmt.Errorf("system table %s: %w", k.Table, res.Err)
	}
	return nil
}

// sysDelete deletes a system item with the context of a read.
func (g *Gateway) sysDelete(ctx context.Context, k tenants.Key, vctx vclock.Context) error {
	res := g.writeItem(ctx, k, systemN, systemQ, &wire.PutRequest{Context: vctx, Deleted: true})
	if res.Err != nil {
		return fmt.Errorf("system table %s: %w", k.Table, res.Err)
	}
	return nil
}

// sysScan visits the live items of one system partition key in sort-key
// order.
func (g *Gateway) sysScan(ctx context.Context, k tenants.Key, fn func(sk string, live vclock.Set)) error {
	start := ""
	for {
		res := g.scanItems(ctx, &wire.ScanRequest{Key: k, Start: start, Limit: 1000}, systemN, systemQ)
		if res.Err != nil {
			return fmt.Errorf("system table %s: %w", k.Table, res.Err)
		}
		now := g.cfg.Clock.Now().UnixMilli()
		for _, it := range res.Items {
			if live := it.Set.Live(now); len(live) > 0 {
				fn(it.SK, live)
			}
		}
		if !res.More || len(res.Items) == 0 {
			return nil
		}
		start = res.Items[len(res.Items)-1].SK + "\x00"
	}
}

// firstOf decodes the sibling that sorts first by less: concurrent writes
// of one system item resolve the same way on every gateway.
func firstOf[T any](live vclock.Set, less func(a, b *T) bool) *T {
	var best *T
	for _, v := range live {
		t := new(T)
		if json.Unmarshal(v.Value, t) != nil {
			continue
		}
		if best == nil || less(t, best) {
			best = t
		}
	}
	return best
}

// ttlCache holds values fetched from system tables for a bounded time;
// notices from other gateways drop entries early.
type ttlCache[V any] struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

func newTTLCache[V any](ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, m: map[string]ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(k string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return c.fresh(e, ok, now)
}

// getBytes is get for a key held in bytes: the lookup converts it without
// a copy.
func (c *ttlCache[V]) getBytes(k []byte, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(k)]
	return c.fresh(e, ok, now)
}

func (c *ttlCache[V]) fresh(e ttlEntry[V], ok bool, now time.Time) (V, bool) {
	if !ok || now.Sub(e.at) >= c.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// staleLimit bounds how old a cached entry may be and still stand in for
// a read of the system keyspace that cannot reach its quorum.
const staleLimit = 10 * time.Minute

// orStale answers a failed refresh of k: when the system keyspace could
// not reach its quorum (replicas down), a recent enough entry is used
// instead, so that losing replicas does not also lock every tenant out of
// what the data's own quorums still allow. An entry dropped by a notice
// (a revoked key, a dropped table) is gone and never comes back this way.
func (c *ttlCache[V]) orStale(k string, now time.Time, err error) (V, error) {
	var zero V
	if !errors.Is(err, coord.ErrQuorum) {
		return zero, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.Sub(e.at) >= staleLimit {
		return zero, err
	}
	return e.v, nil
}

func (c *ttlCache[V]) put(k string, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 100000 {
		// Bounded: a flood of distinct lookups must not grow memory.
		clear(c.m)
	}
	c.m[k] = ttlEntry[V]{v: v, at: now}
}

func (c *ttlCache[V]) drop(k string) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// notice is a change to a system table announced by the gateway that made
// it, so other gateways drop what they cached.
type notice struct {
	Kind string `json:"kind"` // "table", "tenant", "key"
	Key  string `json:"key"`  // cache key of the changed entry
}

func (g *Gateway) announce(kind, key string) {
	g.onNotice(notice{Kind: kind, Key: key})
	b, _ := json.Marshal(notice{Kind: kind, Key: key})
	if err := g.conn.Publish(g.subj.System("changes"), "", b); err != nil {
		g.log.Warn("change notice not sent", "kind", kind, "err", err)
	}
}

func (g *Gateway) notice(m *messaging.Msg) {
	var n notice
	if json.Unmarshal(m.Data, &n) == nil {
		g.onNotice(n)
	}
}

func (g *Gateway) onNotice(n notice) {
	switch n.Kind {
	case "table":
		g.cat.cache.drop(n.Key)
	case "tenant":
		g.reg.tenants.drop(n.Key)
	case "key":
		g.reg.keys.drop(n.Key)
	}
}
