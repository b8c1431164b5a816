package gateway

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// System tables of the tenant registry:
//
//	tenants      pk "all",     sk tenant ID → tenants.Tenant
//	keys         pk key hash               → tenants.APIKey (lookup by secret)
//	tenant-keys  pk tenant ID, sk key ID   → tenants.APIKey (listing, revoking)
const (
	tenantsTable    = "tenants"
	keysTable       = "keys"
	tenantKeysTable = "tenant-keys"
)

// registry persists tenants and API keys and caches them for
// authentication. A revoked key or a deleted tenant is dropped from every
// gateway's cache by a notice, and cache entries expire after KeyTTL in
// case a notice is lost, so a revocation takes effect within seconds.
type registry struct {
	g       *Gateway
	tenants *ttlCache[*tenants.Tenant]
	keys    *ttlCache[*tenants.APIKey]
}

func newRegistry(g *Gateway) *registry {
	return &registry{g: g, tenants: newTTLCache[*tenants.Tenant](g.cfg.KeyTTL), keys: newTTLCache[*tenants.APIKey](g.cfg.KeyTTL)}
}

func (r *registry) tenantKey(id string) tenants.Key {
	return r.g.sysKey(sysTenant, tenantsTable, "all", id)
}

func (r *registry) hashKey(hash string) tenants.Key {
	return r.g.sysKey(sysTenant, keysTable, hash, "")
}

func (r *registry) tenantKeyKey(tenant, keyID string) tenants.Key {
	return r.g.sysKey(sysTenant, tenantKeysTable, tenant, keyID)
}

func tenantFirst(a, b *tenants.Tenant) bool {
	return a.Created.Before(b.Created) || (a.Created.Equal(b.Created) && a.ID < b.ID)
}

// A key record's siblings can only come from concurrent revocations of
// the same key: a revoked sibling wins.
func keyFirst(a, b *tenants.APIKey) bool { return a.Revoked && !b.Revoked }

// createTenant creates a tenant and its first API key; the secret is
// returned once and never stored.
func (r *registry) createTenant(ctx context.Context, name string, q tenants.Quotas) (*tenants.Tenant, string, *tenants.APIKey, error) {
	if err := validateName("tenant name", name); err != nil {
		return nil, "", nil, err
	}
	q = q.WithDefaults(r.g.cfg.Quotas)
	if err := q.Validate(); err != nil {
		return nil, "", nil, badRequest("quotas: %v", err)
	}
	// Names are for people, who would not tell two tenants of one name
	// apart. Tenants are few, and creating one is rare, so a scan checks,
	// and another after the write settles a race with another gateway.
	others, err := r.tenantsNamed(ctx, name, "")
	if err != nil {
		return nil, "", nil, err
	}
	if len(others) > 0 {
		return nil, "", nil, fmt.Errorf("%w: tenant %s has the name %q", ErrTenantExists, others[0].ID, name)
	}
	t := &tenants.Tenant{ID: tenants.NewID(), Name: name, Created: r.g.cfg.Clock.Now().UTC(), Quotas: q}
	if err := r.g.sysPut(ctx, r.tenantKey(t.ID), t, vclock.Context{}); err != nil {
		return nil, "", nil, err
	}
	if err := r.settleName(ctx, t); err != nil {
		return nil, "", nil, err
	}
	secret, k, err := r.createKey(ctx, t.ID)
	if err != nil {
		return nil, "", nil, err
	}
	return t, secret, k, nil
}

// settleName keeps t, just written, only if no other tenant has its name.
// Both scans are quorum reads after quorum writes, so of two tenants
// written at the same moment at least one sees the other. One that sees
// none keeps its name. One that sees another withdraws, unless it is the
// first of them (tenantFirst): then it waits for the others
// to withdraw, and withdraws itself if one does not, having kept its name
// because it saw none. So at most one is kept, and mostly one.
func (r *registry) settleName(ctx context.Context, t *tenants.Tenant) error {
	const polls, every = 40, 50 * time.Millisecond
	for i := 0; ; i++ {
		others, err := r.tenantsNamed(ctx, t.Name, t.ID)
		if err == nil && len(others) == 0 {
			return nil
		}
		first := err == nil && i < polls
		for _, o := range others {
			first = first && tenantFirst(t, o)
		}
		if !first {
			if derr := r.withdraw(ctx, t); derr != nil {
				r.g.log.Warn("tenant of a taken name not withdrawn", "tenant", t.ID, "name", t.Name, "err", derr)
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: tenant %s has the name %q", ErrTenantExists, others[0].ID, t.Name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// withdraw deletes a tenant that lost its name before it had a key.
func (r *registry) withdraw(ctx context.Context, t *tenants.Tenant) error {
	_, vctx, err := r.g.sysGet(ctx, r.tenantKey(t.ID))
	if err != nil {
		return err
	}
	return r.g.sysDelete(ctx, r.tenantKey(t.ID), vctx)
}

// tenantsNamed lists the live tenants named name, but for the one with
// the ID except.
func (r *registry) tenantsNamed(ctx context.Context, name, except string) ([]*tenants.Tenant, error) {
	all, err := r.listTenants(ctx)
	if err != nil {
		return nil, err
	}
	var out []*tenants.Tenant
	for _, o := range all {
		if o.Name == name && o.ID != except {
			out = append(out, o)
		}
	}
	return out, nil
}

// hintTenantName adds to err, a not-found answer for the tenant ID id,
// which tenant has id as its name, if one does and none has it as its ID:
// the admin API addresses tenants by ID, and a name is the easy mistake.
func (r *registry) hintTenantName(ctx context.Context, id string, err error) error {
	ts, lerr := r.listTenants(ctx)
	if lerr != nil {
		return err
	}
	var named []string
	for _, t := range ts {
		if t.ID == id {
			return err
		}
		if t.Name == id {
			named = append(named, t.ID)
		}
	}
	if len(named) == 0 {
		return err
	}
	return fmt.Errorf("%w (%q is the name of tenant %s; the admin API takes tenant IDs)", err, id, strings.Join(named, ", "))
}

func (r *registry) listTenants(ctx context.Context) ([]*tenants.Tenant, error) {
	var out []*tenants.Tenant
	err := r.g.sysScan(ctx, r.tenantKey(""), func(_ string, live vclock.Set) {
		if t := firstOf(live, tenantFirst); t != nil {
			out = append(out, t)
		}
	})
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || (out[i].Name == out[j].Name && out[i].ID < out[j].ID)
	})
	return out, err
}

// tenant returns a tenant, from cache when fresh.
func (r *registry) tenant(ctx context.Context, id string) (*tenants.Tenant, error) {
	now := r.g.cfg.Clock.Now()
	if t, ok := r.tenants.get(id, now); ok {
		if t == nil {
			return nil, fmt.Errorf("tenant %q: %w", id, ErrNotFound)
		}
		return t, nil
	}
	t, _, err := r.readTenant(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		if t, err = r.tenants.orStale(id, now, err); err != nil {
			return nil, err
		}
		if t == nil {
			return nil, fmt.Errorf("tenant %q: %w", id, ErrNotFound)
		}
		return t, nil
	}
	r.tenants.put(id, t, now) // a missing tenant is cached too: it never comes back
	if t == nil {
		return nil, err
	}
	return t, nil
}

func (r *registry) readTenant(ctx context.Context, id string) (*tenants.Tenant, vclock.Context, error) {
	if id == "" || len(id) > tenants.MaxIDLen {
		return nil, vclock.Context{}, fmt.Errorf("tenant %q: %w", id, ErrNotFound)
	}
	live, vctx, err := r.g.sysGet(ctx, r.tenantKey(id))
	if err != nil {
		return nil, vctx, err
	}
	t := firstOf(live, tenantFirst)
	if t == nil {
		return nil, vctx, fmt.Errorf("tenant %q: %w", id, ErrNotFound)
	}
	return t, vctx, nil
}

func (r *registry) setQuotas(ctx context.Context, id string, q tenants.Quotas) (*tenants.Tenant, error) {
	t, vctx, err := r.readTenant(ctx, id)
	if err != nil {
		return nil, err
	}
	t.Quotas = q.WithDefaults(t.Quotas)
	if err := t.Quotas.Validate(); err != nil {
		return nil, badRequest("quotas: %v", err)
	}
	if err := r.g.sysPut(ctx, r.tenantKey(id), t, vctx); err != nil {
		return nil, err
	}
	r.g.announce("tenant", id)
	return t, nil
}

// deleteTenant makes the tenant's keys and data unreachable at once and
// schedules its data for reclamation.
func (r *registry) deleteTenant(ctx context.Context, id string) error {
	_, vctx, err := r.readTenant(ctx, id)
	if err != nil {
		return err
	}
	// The purge first, as a table's drop does it (catalog.drop).
	if err := r.g.schedulePurge(ctx, id, ""); err != nil {
		return err
	}
	if err := r.g.sysDelete(ctx, r.tenantKey(id), vctx); err != nil {
		return err
	}
	r.g.announce("tenant", id)
	return nil
}

func (r *registry) createKey(ctx context.Context, tenant string) (string, *tenants.APIKey, error) {
	secret := tenants.NewSecret()
	hash, _ := tenants.HashSecret(secret)
	k := &tenants.APIKey{ID: tenants.NewID(), Tenant: tenant, Hash: hash, Created: r.g.cfg.Clock.Now().UTC()}
	// The listing entry first: a key that exists must be revocable.
	if err := r.g.sysPut(ctx, r.tenantKeyKey(tenant, k.ID), k, vclock.Context{}); err != nil {
		return "", nil, err
	}
	if err := r.g.sysPut(ctx, r.hashKey(hash), k, vclock.Context{}); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

func (r *registry) listKeys(ctx context.Context, tenant string) ([]*tenants.APIKey, error) {
	var out []*tenants.APIKey
	err := r.g.sysScan(ctx, r.tenantKeyKey(tenant, ""), func(_ string, live vclock.Set) {
		if k := firstOf(live, keyFirst); k != nil {
			out = append(out, k)
		}
	})
	return out, err
}

func (r *registry) revokeKey(ctx context.Context, tenant, keyID string) error {
	lk := r.tenantKeyKey(tenant, keyID)
	live, vctx, err := r.g.sysGet(ctx, lk)
	if err != nil {
		return err
	}
	k := firstOf(live, keyFirst)
	if k == nil {
		return fmt.Errorf("key %q of tenant %q: %w", keyID, tenant, ErrNotFound)
	}
	k.Revoked = true
	_, hctx, err := r.g.sysGet(ctx, r.hashKey(k.Hash))
	if err != nil {
		return err
	}
	// The lookup entry first: that is what authentication reads.
	if err := r.g.sysPut(ctx, r.hashKey(k.Hash), k, hctx); err != nil {
		return err
	}
	if err := r.g.sysPut(ctx, lk, k, vctx); err != nil {
		return err
	}
	r.g.announce("key", k.Hash)
	return nil
}

// authenticate maps a secret to its live tenant. Unknown, revoked and
// orphaned keys are all just ErrUnauthorized: the caller learns nothing
// about other tenants.
func (r *registry) authenticate(ctx context.Context, secret string, d tenants.Digest) (*tenants.Tenant, error) {
	var buf [tenants.KeyHashLen]byte
	hb, err := tenants.AppendKeyHash(buf[:0], secret, d)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed API key", ErrUnauthorized)
	}
	now := r.g.cfg.Clock.Now()
	k, ok := r.keys.getBytes(hb, now)
	if !ok {
		hash := string(hb)
		live, _, err := r.g.sysGet(ctx, r.hashKey(hash))
		if err != nil {
			if k, err = r.keys.orStale(hash, now, err); err != nil {
				return nil, err
			}
		} else {
			k = firstOf(live, keyFirst)
			r.keys.put(hash, k, now)
		}
	}
	if k == nil || k.Revoked {
		return nil, fmt.Errorf("%w: unknown or revoked API key", ErrUnauthorized)
	}
	t, err := r.tenant(ctx, k.Tenant)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown or revoked API key", ErrUnauthorized)
	}
	return t, err
}
