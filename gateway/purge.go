package gateway

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/vclock"
)

// Deleting a tenant or dropping a table makes its items unreachable at
// once (nothing addresses them any more: IDs are never reused) and records
// a pending purge. Every gateway's purge loop sends pending purges to the
// members (joining ones too), until all have done them and no partition
// is moving, so a node that was down when the tenant was deleted is
// reclaimed when it is back.
const purgesTable = "purges"

type purgeRecord struct {
	Tenant   string    `json:"tenant"`
	Table    string    `json:"table,omitempty"`
	Recorded time.Time `json:"recorded,omitzero"` // absent in older records
	After    time.Time `json:"after"`
	Done     []string  `json:"done,omitempty"`
}

// purgeAbandonAfter is how long after its purge was recorded a drop or a
// deletion must have been done: a purge whose tenant or table is still
// there later is one whose drop failed. Before then the drop may be under
// way (the purge is recorded first), or another gateway's cached view may
// still show the tenant.
const purgeAbandonAfter = time.Minute

func (g *Gateway) purgeKey(tenant, table string) string { return tenant + "/" + table }

func (g *Gateway) schedulePurge(ctx context.Context, tenant, table string) error {
	now := g.cfg.Clock.Now().UTC()
	rec := purgeRecord{Tenant: tenant, Table: table, Recorded: now, After: now.Add(g.cfg.PurgeGrace)}
	return g.sysPut(ctx, g.sysKey(sysTenant, purgesTable, "all", g.purgeKey(tenant, table)), rec, vclock.Context{})
}

func purgeFirst(a, b *purgeRecord) bool { return len(a.Done) > len(b.Done) }

func (g *Gateway) purgeLoop(ctx context.Context) {
	t := time.NewTicker(g.cfg.PurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := g.runPurges(ctx); err != nil && ctx.Err() == nil {
			g.log.Debug("purges not run", "err", err)
		}
	}
}

// runPurges advances every due purge by one broadcast.
func (g *Gateway) runPurges(ctx context.Context) error {
	var due []*purgeRecord
	now := g.cfg.Clock.Now()
	err := g.sysScan(ctx, g.sysKey(sysTenant, purgesTable, "all", ""), func(_ string, live vclock.Set) {
		if rec := firstOf(live, purgeFirst); rec != nil && !now.Before(rec.After) {
			due = append(due, rec)
		}
	})
	if err != nil {
		return err
	}
	for _, rec := range due {
		k := g.sysKey(sysTenant, purgesTable, "all", g.purgeKey(rec.Tenant, rec.Table))
		live, err := g.purgeTargetLive(ctx, rec)
		if err != nil {
			return err
		}
		if live && now.Sub(cmp.Or(rec.Recorded, rec.After)) < purgeAbandonAfter {
			continue // its drop or deletion may not be done yet
		}
		if live {
			// Its drop or deletion failed after recording the purge; a
			// new one records it again.
			_, vctx, err := g.sysGet(ctx, k)
			if err == nil {
				err = g.sysDelete(ctx, k, vctx)
			}
			if err != nil {
				return err
			}
			g.log.Info("purge discarded: its tenant or table is still there", "tenant", rec.Tenant, "table", rec.Table)
			continue
		}
		// Joining nodes too: the partitions they pull may hold items
		// of what is purged.
		nodes := g.alive()
		replies := g.broadcast(ctx, nodes, &wire.PurgeRequest{Tenant: rec.Tenant, Table: rec.Table}, time.Minute)
		for n := range replies {
			if !slices.Contains(rec.Done, n) {
				rec.Done = append(rec.Done, n)
			}
		}
		_, vctx, err := g.sysGet(ctx, k)
		if err != nil {
			return err
		}
		all := true
		for _, n := range nodes {
			all = all && slices.Contains(rec.Done, n)
		}
		// While partitions move, a page a node pulled before its donor
		// purged may be stored after its own purge: the purge is sent
		// again until the ring is settled.
		if all && !g.ringChanging() {
			err = g.sysDelete(ctx, k, vctx)
			g.log.Info("purge complete", "tenant", rec.Tenant, "table", rec.Table)
		} else {
			err = g.sysPut(ctx, k, rec, vctx)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// purgeTargetLive says whether a purge's tenant, or table (by ID), is
// still there.
func (g *Gateway) purgeTargetLive(ctx context.Context, rec *purgeRecord) (bool, error) {
	if _, _, err := g.reg.readTenant(ctx, rec.Tenant); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if rec.Table == "" {
		return true, nil
	}
	tables, err := g.cat.list(ctx, rec.Tenant)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(tables, func(t *Table) bool { return t.ID == rec.Table }), nil
}
