package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ringtable/ringtable/tenants"
)

// The admin API manages tenants and their keys. It needs the admin key,
// which a tenant never has.
func (g *Gateway) adminRoutes(mux *http.ServeMux) {
	g.adminRoute(mux, "POST /v1/admin/tenants", "admin_create_tenant", g.adminCreateTenant)
	g.adminRoute(mux, "GET /v1/admin/tenants", "admin_list_tenants", g.adminListTenants)
	g.adminRoute(mux, "GET /v1/admin/tenants/{tenant}", "admin_get_tenant", g.adminGetTenant)
	g.adminRoute(mux, "DELETE /v1/admin/tenants/{tenant}", "admin_delete_tenant", g.adminDeleteTenant)
	g.adminRoute(mux, "PUT /v1/admin/tenants/{tenant}/quotas", "admin_set_quotas", g.adminSetQuotas)
	g.adminRoute(mux, "POST /v1/admin/tenants/{tenant}/keys", "admin_create_key", g.adminCreateKey)
	g.adminRoute(mux, "GET /v1/admin/tenants/{tenant}/keys", "admin_list_keys", g.adminListKeys)
	g.adminRoute(mux, "DELETE /v1/admin/tenants/{tenant}/keys/{key}", "admin_revoke_key", g.adminRevokeKey)
}

// tenantJSON is a tenant as the admin API shows it.
type tenantJSON struct {
	*tenants.Tenant
	StoredBytes int64 `json:"stored_bytes"`
}

// keyJSON is an API key as the admin API shows it: never the hash.
type keyJSON struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Revoked bool      `json:"revoked,omitempty"`
}

type newKeyJSON struct {
	Tenant *tenants.Tenant `json:"tenant,omitempty"`
	KeyID  string          `json:"key_id"`
	APIKey string          `json:"api_key"`
}

func (g *Gateway) adminCreateTenant(w http.ResponseWriter, r *http.Request) (int, error) {
	var req struct {
		Name   string         `json:"name"`
		Quotas tenants.Quotas `json:"quotas"`
	}
	if err := decodeStrict(r.Body, 64<<10, &req); err != nil {
		return 0, err
	}
	t, secret, k, err := g.reg.createTenant(r.Context(), req.Name, req.Quotas)
	if err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusCreated, newKeyJSON{Tenant: t, KeyID: k.ID, APIKey: secret})
	return http.StatusCreated, nil
}

// CreateTenant creates a tenant and returns it with its first API key, for
// processes that embed a gateway (ringtable dev creates its dev tenant so).
// If a tenant of that name exists, it returns that tenant with a new API
// key instead, and created false: the caller lost the key it had, or never
// kept it.
func (g *Gateway) CreateTenant(ctx context.Context, name string, q tenants.Quotas) (t *tenants.Tenant, key string, created bool, err error) {
	t, key, _, err = g.reg.createTenant(ctx, name, q)
	if !errors.Is(err, ErrTenantExists) {
		return t, key, err == nil, err
	}
	ts, err := g.reg.listTenants(ctx)
	if err != nil {
		return nil, "", false, err
	}
	for _, t := range ts {
		if t.Name == name {
			key, _, err := g.reg.createKey(ctx, t.ID)
			return t, key, false, err
		}
	}
	return nil, "", false, fmt.Errorf("tenant %q: %w", name, ErrNotFound) // deleted meanwhile
}

func (g *Gateway) adminListTenants(w http.ResponseWriter, r *http.Request) (int, error) {
	ts, err := g.reg.listTenants(r.Context())
	if err != nil {
		return 0, err
	}
	out := make([]tenantJSON, len(ts))
	for i, t := range ts {
		out[i] = tenantJSON{Tenant: t, StoredBytes: g.usage.of(t.ID)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenants": out})
	return http.StatusOK, nil
}

func (g *Gateway) adminGetTenant(w http.ResponseWriter, r *http.Request) (int, error) {
	t, _, err := g.reg.readTenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusOK, tenantJSON{Tenant: t, StoredBytes: g.usage.of(t.ID)})
	return http.StatusOK, nil
}

func (g *Gateway) adminDeleteTenant(w http.ResponseWriter, r *http.Request) (int, error) {
	if err := g.reg.deleteTenant(r.Context(), r.PathValue("tenant")); err != nil {
		return 0, err
	}
	g.revokeFeed(r.Context(), r.PathValue("tenant")) // feed.go
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, nil
}

func (g *Gateway) adminSetQuotas(w http.ResponseWriter, r *http.Request) (int, error) {
	var q tenants.Quotas
	if err := decodeStrict(r.Body, 64<<10, &q); err != nil {
		return 0, err
	}
	t, err := g.reg.setQuotas(r.Context(), r.PathValue("tenant"), q)
	if err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusOK, t)
	return http.StatusOK, nil
}

func (g *Gateway) adminCreateKey(w http.ResponseWriter, r *http.Request) (int, error) {
	t, _, err := g.reg.readTenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return 0, err
	}
	secret, k, err := g.reg.createKey(r.Context(), t.ID)
	if err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusCreated, newKeyJSON{KeyID: k.ID, APIKey: secret})
	return http.StatusCreated, nil
}

func (g *Gateway) adminListKeys(w http.ResponseWriter, r *http.Request) (int, error) {
	t, _, err := g.reg.readTenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return 0, err
	}
	ks, err := g.reg.listKeys(r.Context(), t.ID)
	if err != nil {
		return 0, err
	}
	out := make([]keyJSON, len(ks))
	for i, k := range ks {
		out[i] = keyJSON{ID: k.ID, Created: k.Created, Revoked: k.Revoked}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
	return http.StatusOK, nil
}

func (g *Gateway) adminRevokeKey(w http.ResponseWriter, r *http.Request) (int, error) {
	// A missing tenant is named as such, not as a key it lacks.
	t, _, err := g.reg.readTenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return 0, err
	}
	if err := g.reg.revokeKey(r.Context(), t.ID, r.PathValue("key")); err != nil {
		return 0, err
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, nil
}
