package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// Table is a table's definition as stored in the catalog.
type Table struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	PartitionKey string `json:"partition_key"`
	SortKey      string `json:"sort_key,omitempty"`
	N            int    `json:"n"`
	R            int    `json:"r"`
	W            int    `json:"w"`
	Conflict     string `json:"conflict"`
	TTL          int64  `json:"ttl,omitempty"` // seconds; 0: items never expire
	MaxSiblings  int    `json:"max_siblings"`
	SiblingWarn  int    `json:"sibling_warn"`
	// Strict refuses sloppy quorum: writes and reads count only the
	// preference list, never fallbacks (Riak's PW/PR).
	Strict  bool      `json:"strict,omitempty"`
	Created time.Time `json:"created"`
}

// LWW reports whether the table resolves conflicts by last writer wins.
func (t *Table) LWW() bool { return t.Conflict == "lww" }

// The catalog is a system table with one partition key per tenant and one
// sort key per table name, so listing a tenant's tables is one scan.
const catalogTable = "catalog"

// catalog caches table definitions (never missing ones, so a table created
// on another gateway is visible at once).
type catalog struct {
	g     *Gateway
	cache *ttlCache[*Table]
}

func newCatalog(g *Gateway) *catalog {
	return &catalog{g: g, cache: newTTLCache[*Table](g.cfg.CatalogTTL)}
}

func tableCacheKey(tenant, name string) string { return tenant + "/" + name }

func (c *catalog) key(tenant, name string) tenants.Key {
	return c.g.sysKey(tenant, catalogTable, tenant, name)
}

func (c *catalog) lookup(ctx context.Context, tenant, name string) (*Table, error) {
	now := c.g.cfg.Clock.Now()
	if t, ok := c.cache.get(tableCacheKey(tenant, name), now); ok {
		return t, nil
	}
	t, _, err := c.read(ctx, tenant, name)
	if err != nil {
		return c.cache.orStale(tableCacheKey(tenant, name), now, err)
	}
	c.cache.put(tableCacheKey(tenant, name), t, now)
	return t, nil
}

// tableFirst resolves concurrent creates of one name the same way on every
// gateway: the earliest created, then the smallest ID.
func tableFirst(a, b *Table) bool {
	return a.Created.Before(b.Created) || (a.Created.Equal(b.Created) && a.ID < b.ID)
}

func (c *catalog) read(ctx context.Context, tenant, name string) (*Table, vclock.Context, error) {
	live, vctx, err := c.g.sysGet(ctx, c.key(tenant, name))
	if err != nil {
		return nil, vctx, err
	}
	t := firstOf(live, tableFirst)
	if t == nil {
		return nil, vctx, fmt.Errorf("table %q: %w", name, ErrNotFound)
	}
	return t, vctx, nil
}

func (c *catalog) create(ctx context.Context, tenant string, t *Table, maxTables int) error {
	_, vctx, err := c.read(ctx, tenant, t.Name)
	switch {
	case err == nil:
		return fmt.Errorf("table %q: %w", t.Name, ErrTableExists)
	case !errors.Is(err, ErrNotFound):
		return err
	}
	existing, err := c.list(ctx, tenant)
	if err != nil {
		return err
	}
	if len(existing) >= maxTables {
		return &QuotaError{Msg: fmt.Sprintf("table quota reached: the tenant has %d table(s) and its quota allows %d; drop a table or ask for a larger quota", len(existing), maxTables)}
	}
	t.ID = tenants.NewID()
	t.Created = c.g.cfg.Clock.Now().UTC()
	if err := c.g.sysPut(ctx, c.key(tenant, t.Name), t, vctx); err != nil {
		return err
	}
	err = c.settle(ctx, tenant, t)
	c.g.announce("table", tableCacheKey(tenant, t.Name))
	return err
}

// settle keeps t, just written, only if no other create of its name
// wrote at the same moment: every gateway would read the first of them
// (tableFirst) as the table, and a client told that its table was made
// would write into another one, of other keys. Both reads are quorum
// reads after quorum writes, so of two creates at least one sees the
// other. One that sees none keeps the table. One that sees another
// withdraws, writing the first of the others over every version, unless
// it is the first itself: then it waits for the others to withdraw, and
// withdraws if one does not, having kept its table because it saw none.
// So at most one create succeeds, and mostly one.
func (c *catalog) settle(ctx context.Context, tenant string, t *Table) error {
	const polls, every = 40, 50 * time.Millisecond
	k := c.key(tenant, t.Name)
	for i := 0; ; i++ {
		live, vctx, err := c.g.sysGet(ctx, k)
		if err != nil {
			return err
		}
		var mine bool
		var first *Table
		for _, v := range live {
			o := new(Table)
			if json.Unmarshal(v.Value, o) != nil {
				continue
			}
			if o.ID == t.ID {
				mine = true
			} else if first == nil || tableFirst(o, first) {
				first = o
			}
		}
		switch {
		case first == nil:
			return nil // ours alone, or dropped since
		case !mine:
			return fmt.Errorf("table %q: %w (created at the same moment by another request)", t.Name, ErrTableExists)
		case i < polls && tableFirst(t, first):
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(every):
			}
			continue
		}
		if err := c.g.sysPut(ctx, k, first, vctx); err != nil {
			return err
		}
		return fmt.Errorf("table %q: %w (created at the same moment by another request)", t.Name, ErrTableExists)
	}
}

func (c *catalog) drop(ctx context.Context, tenant, name string) error {
	t, vctx, err := c.read(ctx, tenant, name)
	if err != nil {
		return err
	}
	// The purge is recorded first: a drop that stopped between the two
	// writes would otherwise leave items nothing addresses and nothing
	// reclaims. One recorded for a table that is still there (its drop
	// failed after it) is discarded when due (runPurges).
	if err := c.g.schedulePurge(ctx, tenant, t.ID); err != nil {
		return err
	}
	if err := c.g.sysDelete(ctx, c.key(tenant, name), vctx); err != nil {
		return err
	}
	c.g.announce("table", tableCacheKey(tenant, name))
	return nil
}

// list returns a tenant's tables sorted by name.
func (c *catalog) list(ctx context.Context, tenant string) ([]*Table, error) {
	var out []*Table
	err := c.g.sysScan(ctx, c.key(tenant, ""), func(_ string, live vclock.Set) {
		if t := firstOf(live, tableFirst); t != nil {
			out = append(out, t)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
