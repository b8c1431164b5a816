package gateway

import (
	"fmt"
	"net/http"

	"github.com/ringtable/ringtable/query"
	"github.com/ringtable/ringtable/tenants"
)

// tableRequest is the body of POST /v1/tables.
type tableRequest struct {
	Name         string `json:"name"`
	PartitionKey string `json:"partition_key"`
	SortKey      string `json:"sort_key"`
	N            int    `json:"n"`
	R            int    `json:"r"`
	W            int    `json:"w"`
	Conflict     string `json:"conflict"`
	TTL          int64  `json:"ttl"`
	MaxSiblings  int    `json:"max_siblings"`
	SiblingWarn  int    `json:"sibling_warn"`
	Strict       bool   `json:"strict"`
}

// newTable validates a create request against the gateway's defaults.
func (g *Gateway) newTable(req tableRequest) (*Table, error) {
	t := &Table{Name: req.Name, PartitionKey: req.PartitionKey, SortKey: req.SortKey,
		N: req.N, R: req.R, W: req.W, Conflict: req.Conflict, TTL: req.TTL,
		MaxSiblings: req.MaxSiblings, SiblingWarn: req.SiblingWarn, Strict: req.Strict}
	if err := validateName("table name", t.Name); err != nil {
		return nil, err
	}
	if t.PartitionKey == "" {
		return nil, badRequest("partition_key is required: name the attribute that is the table's partition key")
	}
	if err := validateName("partition_key", t.PartitionKey); err != nil {
		return nil, err
	}
	if t.SortKey != "" {
		if err := validateName("sort_key", t.SortKey); err != nil {
			return nil, err
		}
		if t.SortKey == t.PartitionKey {
			return nil, badRequest("sort_key %q is the same as partition_key", t.SortKey)
		}
	}
	if t.N == 0 {
		t.N = g.cfg.N
	}
	nodes := len(g.Ring().Nodes())
	if t.N < 1 || t.N > query.MaxN {
		return nil, badRequest("n=%d: must be between 1 and %d", t.N, query.MaxN)
	}
	if t.N > nodes {
		return nil, badRequest("n=%d: the cluster has only %d storage nodes", t.N, nodes)
	}
	if t.R == 0 {
		t.R = min(g.cfg.R, t.N)
	}
	if t.W == 0 {
		t.W = min(g.cfg.W, t.N)
	}
	if t.R < 1 || t.R > t.N || t.W < 1 || t.W > t.N {
		return nil, badRequest("r=%d w=%d: each must be between 1 and n=%d", t.R, t.W, t.N)
	}
	switch t.Conflict {
	case "":
		t.Conflict = "siblings"
	case "siblings", "lww":
	default:
		return nil, badRequest("conflict=%q: must be 'siblings' or 'lww'", t.Conflict)
	}
	if t.TTL < 0 || t.TTL > maxTTLSeconds {
		return nil, badRequest("ttl=%d: %s", t.TTL, ttlRange)
	}
	if t.MaxSiblings == 0 {
		t.MaxSiblings = g.cfg.MaxSiblings
	}
	if t.SiblingWarn == 0 {
		t.SiblingWarn = min(g.cfg.SiblingWarn, t.MaxSiblings)
	}
	if t.MaxSiblings < 1 || t.MaxSiblings > query.MaxSiblingsLimit || t.SiblingWarn < 1 || t.SiblingWarn > t.MaxSiblings {
		return nil, badRequest("max_siblings=%d sibling_warn=%d: need 1 ≤ sibling_warn ≤ max_siblings ≤ %d", t.MaxSiblings, t.SiblingWarn, query.MaxSiblingsLimit)
	}
	return t, nil
}

func (g *Gateway) createTable(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	var req tableRequest
	if err := decodeStrict(r.Body, 64<<10, &req); err != nil {
		return 0, err
	}
	t, err := g.newTable(req)
	if err != nil {
		return 0, err
	}
	if err := g.cat.create(r.Context(), ten.ID, t, ten.Quotas.Tables); err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusCreated, t)
	return http.StatusCreated, nil
}

func (g *Gateway) listTables(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	ts, err := g.cat.list(r.Context(), ten.ID)
	if err != nil {
		return 0, err
	}
	if ts == nil {
		ts = []*Table{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tables": ts})
	return http.StatusOK, nil
}

func (g *Gateway) table(r *http.Request, ten *tenants.Tenant) (*Table, error) {
	name := r.PathValue("table")
	if err := validateName("table name", name); err != nil {
		return nil, err
	}
	return g.cat.lookup(r.Context(), ten.ID, name)
}

func (g *Gateway) describeTable(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	t, err := g.table(r, ten)
	if err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusOK, t)
	return http.StatusOK, nil
}

func (g *Gateway) dropTable(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	name := r.PathValue("table")
	if err := validateName("table name", name); err != nil {
		return 0, err
	}
	if err := g.cat.drop(r.Context(), ten.ID, name); err != nil {
		return 0, err
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, nil
}

// validateName checks a table or attribute name (see query.ValidateName).
func validateName(what, s string) error {
	if err := query.ValidateName(what, s); err != nil {
		return &BadRequestError{Msg: err.Error()}
	}
	return nil
}

// validateKey checks a partition or sort key value; an oversized key is
// 413, like an oversized item.
func validateKey(what, k string) error {
	if len(k) > query.MaxKeyLen {
		return &TooLargeError{Msg: fmt.Sprintf("%s is %d bytes long; the limit is %d bytes", what, len(k), query.MaxKeyLen)}
	}
	if err := query.ValidateKey(what, k); err != nil {
		return &BadRequestError{Msg: err.Error()}
	}
	return nil
}
