package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/query"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// queryRequest is the body of POST /v1/query (see gateway/client).
type queryRequest struct {
	Statement string `json:"statement"`
	R         int    `json:"r"`
	W         int    `json:"w"`
	Trace     bool   `json:"trace"`
	Cursor    string `json:"cursor"`
}

// Result kinds of a statement.
const (
	kindOK     = "ok"
	kindRows   = "rows"
	kindTables = "tables"
	kindTable  = "table"
)

type queryResult struct {
	Statement string       `json:"statement"`
	Kind      string       `json:"kind"`
	Message   string       `json:"message,omitempty"`
	Affected  int          `json:"affected,omitempty"`
	Context   string       `json:"context,omitempty"`
	Siblings  int          `json:"siblings,omitempty"` // PUT and DELETE: the item's versions after the write
	Columns   []string     `json:"columns,omitempty"`
	Rows      []rowJSON    `json:"rows,omitempty"`
	Next      string       `json:"next,omitempty"`
	Tables    []*Table     `json:"tables,omitempty"`
	Table     *Table       `json:"table,omitempty"`
	Trace     []TraceEvent `json:"trace,omitempty"`
	Millis    float64      `json:"ms"`
}

type rowJSON struct {
	PK       string          `json:"pk"`
	SK       string          `json:"sk,omitempty"`
	Value    json.RawMessage `json:"value,omitempty"`
	Deleted  bool            `json:"deleted,omitempty"`
	Modified time.Time       `json:"modified"`
	Sibling  int             `json:"sibling"`
	Siblings int             `json:"siblings"`
	Context  string          `json:"context"`
}

type queryError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Statement int    `json:"statement"`
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
	// RetryAfterMillis is, for rate_limited, when the statement and those
	// after it may be sent again.
	RetryAfterMillis int64 `json:"retry_after_ms,omitempty"`
}

type queryResponse struct {
	Results []queryResult `json:"results"`
	Error   *queryError   `json:"error,omitempty"`
}

// queryHandler runs statements in order and stops at the first error. It
// answers itself (even for errors) so the results of the statements that
// ran before an error are not lost.
func (g *Gateway) queryHandler(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	var req queryRequest
	if err := decodeStrict(r.Body, query.MaxStatementSize+64<<10, &req); err != nil {
		return 0, err
	}
	if len(req.Statement) > query.MaxStatementSize {
		return 0, &TooLargeError{Msg: fmt.Sprintf("statement is %d bytes; the limit is %d (1 MiB)", len(req.Statement), query.MaxStatementSize)}
	}
	if req.R < 0 || req.R > query.MaxN || req.W < 0 || req.W > query.MaxN {
		return 0, badRequest("r=%d w=%d: must be between 0 (the table's) and %d", req.R, req.W, query.MaxN)
	}
	resp := queryResponse{Results: []queryResult{}}
	stmts, err := query.Parse(req.Statement)
	if err != nil {
		idx := 0
		var qe *query.Error
		if errors.As(err, &qe) {
			done, _ := query.Split(req.Statement[:min(qe.Pos.Offset, len(req.Statement))])
			idx = len(done)
		}
		return g.queryFailed(w, resp, idx, &BadRequestError{Msg: err.Error(), Err: err}, err)
	}
	if req.Cursor != "" && (len(stmts) != 1 || !isSelect(stmts[0])) {
		return g.queryFailed(w, resp, 0, badRequest("a cursor continues one SELECT: send it with that statement alone"), nil)
	}
	for i, st := range stmts {
		if i > 0 {
			// Each statement counts against the tenant's request rate, as
			// it would sent alone: a batch stops where the bucket runs
			// dry, with the results of what ran, and says when the rest
			// may follow.
			if ok, wait := g.limits.allow(ten, g.cfg.Clock.Now()); !ok {
				return g.queryFailed(w, resp, i, &RateLimitedError{RetryAfter: wait}, nil)
			}
		}
		start := time.Now()
		ctx := r.Context()
		var tr *tracer
		if req.Trace {
			tr = &tracer{start: start}
			ctx = withTracer(ctx, tr)
		}
		res, err := g.exec(ctx, ten, st, req)
		if err != nil {
			return g.queryFailed(w, resp, i, err, err)
		}
		res.Statement = st.String()
		res.Trace = tr.snapshot()
		res.Millis = float64(time.Since(start).Microseconds()) / 1000
		resp.Results = append(resp.Results, *res)
	}
	writeJSON(w, http.StatusOK, resp)
	return http.StatusOK, nil
}

func isSelect(st query.Statement) bool { _, ok := st.(*query.Select); return ok }

// queryFailed answers with the results so far and the error, positioned
// when it comes from the parser or validation.
func (g *Gateway) queryFailed(w http.ResponseWriter, resp queryResponse, idx int, err, positioned error) (int, error) {
	status, code := classify(err)
	qe := &queryError{Code: code, Message: err.Error(), Statement: idx}
	var pe *query.Error
	if positioned != nil && errors.As(positioned, &pe) && pe.Pos.Line > 0 {
		qe.Line, qe.Column = pe.Pos.Line, pe.Pos.Column
	}
	resp.Error = qe
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", rl.retryAfterSeconds())
		qe.RetryAfterMillis = rl.retryAfterMillis()
	}
	writeJSON(w, status, resp)
	return status, nil
}

// exec runs one statement.
func (g *Gateway) exec(ctx context.Context, ten *tenants.Tenant, st query.Statement, req queryRequest) (*queryResult, error) {
	if query.ShellOnly(st) {
		return nil, badRequest("%s is a shell command: run it in `ringtable shell`", strings.Fields(st.String())[0])
	}
	switch st := st.(type) {
	case *query.CreateTable:
		return g.execCreate(ctx, ten, st)
	case *query.DropTable:
		err := g.cat.drop(ctx, ten.ID, st.Table)
		if errors.Is(err, ErrNotFound) && st.IfExists {
			return &queryResult{Kind: kindOK, Message: fmt.Sprintf("table %s does not exist", st.Table)}, nil
		}
		if err != nil {
			return nil, err
		}
		return &queryResult{Kind: kindOK, Message: fmt.Sprintf("table %s dropped", st.Table)}, nil
	case *query.ShowTables:
		ts, err := g.cat.list(ctx, ten.ID)
		if ts == nil {
			ts = []*Table{}
		}
		return &queryResult{Kind: kindTables, Tables: ts}, err
	case *query.Describe:
		t, err := g.cat.lookup(ctx, ten.ID, st.Table)
		return &queryResult{Kind: kindTable, Table: t}, err
	case *query.Put:
		return g.execWrite(ctx, ten, st.Table, st.Key, &wire.PutRequest{Value: st.Value}, st.Context, st.W, req.W, st.HasTTL, st.TTL)
	case *query.Delete:
		return g.execWrite(ctx, ten, st.Table, st.Key, &wire.PutRequest{Deleted: true}, st.Context, st.W, req.W, false, 0)
	case *query.Get:
		return g.execGet(ctx, ten, st, req)
	case *query.Select:
		return g.execSelect(ctx, ten, st, req)
	}
	return nil, badRequest("%s: statement not supported by the gateway", st.String())
}

func (g *Gateway) execCreate(ctx context.Context, ten *tenants.Tenant, st *query.CreateTable) (*queryResult, error) {
	t, err := g.newTable(tableRequest{Name: st.Table, PartitionKey: st.PartitionKey, SortKey: st.SortKey,
		N: st.N, R: st.R, W: st.W, Conflict: string(st.Conflict), TTL: int64(st.TTL / time.Second), Strict: st.Strict,
		MaxSiblings: st.MaxSiblings, SiblingWarn: st.SiblingWarn})
	if err != nil {
		return nil, err
	}
	err = g.cat.create(ctx, ten.ID, t, ten.Quotas.Tables)
	if errors.Is(err, ErrTableExists) && st.IfNotExists {
		return &queryResult{Kind: kindOK, Message: fmt.Sprintf("table %s already exists", st.Table)}, nil
	}
	if err != nil {
		return nil, err
	}
	return &queryResult{Kind: kindOK, Message: fmt.Sprintf("table %s created", st.Table), Table: t}, nil
}

// keyRef resolves a statement's table and key.
func (g *Gateway) keyRef(ctx context.Context, ten *tenants.Tenant, table string, k query.Key) (itemRef, error) {
	t, err := g.cat.lookup(ctx, ten.ID, table)
	if err != nil {
		return itemRef{}, err
	}
	switch {
	case t.SortKey != "" && k.Sort == "":
		return itemRef{}, badRequest("table %s has sort key %s: write KEY ('%s-value', '%s-value')", t.Name, t.SortKey, t.PartitionKey, t.SortKey)
	case t.SortKey == "" && k.Sort != "":
		return itemRef{}, badRequest("table %s has no sort key: write KEY ('%s-value')", t.Name, t.PartitionKey)
	}
	return itemRef{t: t, key: g.key(tenants.KindData, ten.ID, t.ID, k.Partition, k.Sort)}, nil
}

// pick chooses a quorum: the statement's, else the session's, else the
// table's; checked against the table's N.
func pick(stmt, session, table, n int, what string) (int, error) {
	q := table
	if session > 0 {
		q = session
	}
	if stmt > 0 {
		q = stmt
	}
	if q > n {
		return 0, badRequest("%s=%d: the table's n is %d", what, q, n)
	}
	return q, nil
}

func (g *Gateway) execWrite(ctx context.Context, ten *tenants.Tenant, table string, k query.Key, req *wire.PutRequest, tok string, stmtW, sessW int, hasTTL bool, ttl time.Duration) (*queryResult, error) {
	ref, err := g.keyRef(ctx, ten, table, k)
	if err != nil {
		return nil, err
	}
	wq, err := pick(stmtW, sessW, ref.t.W, ref.t.N, "w")
	if err != nil {
		return nil, err
	}
	if req.Context, err = decodeContext(tok, ref.key.Fingerprint()); err != nil {
		return nil, err
	}
	if !req.Deleted {
		if err := query.CheckKeyAttributes(req.Value, ref.t.PartitionKey, k.Partition, ref.t.SortKey, k.Sort); err != nil {
			return nil, &BadRequestError{Msg: err.Error()}
		}
		if err := g.usage.check(ten); err != nil {
			return nil, err
		}
		req.TTLMillis = ref.t.TTL * 1000
		if hasTTL {
			req.TTLMillis = ttl.Milliseconds()
		}
	}
	res, err := g.writeVersion(withStrict(ctx, ref.t.Strict), ref, wq, req)
	if err != nil {
		return nil, err
	}
	return &queryResult{Kind: kindOK, Affected: 1, Context: encodeContext(res.Context, ref.key.Fingerprint()), Siblings: res.Siblings}, nil
}

func (g *Gateway) execGet(ctx context.Context, ten *tenants.Tenant, st *query.Get, req queryRequest) (*queryResult, error) {
	ref, err := g.keyRef(ctx, ten, st.Table, st.Key)
	if err != nil {
		return nil, err
	}
	rq, err := pick(st.R, req.R, ref.t.R, ref.t.N, "r")
	if err != nil {
		return nil, err
	}
	res := g.readItem(withStrict(ctx, ref.t.Strict), ref.key, ref.t.N, rq)
	if res.Err != nil {
		g.quorumFailed(0, res.Err)
		return nil, res.Err
	}
	out := &queryResult{Kind: kindRows, Rows: []rowJSON{}}
	out.Rows = g.rows(ref.t, st.Key.Partition, st.Key.Sort, res.Set, nil, out.Rows)
	return out, nil
}

// rows renders an item's visible versions, one row per sibling, with the
// context that resolves them all.
func (g *Gateway) rows(t *Table, pk, sk string, s vclock.Set, cols []query.Path, out []rowJSON) []rowJSON {
	vis := visible(t, s, g.cfg.Clock.Now().UnixMilli())
	if len(vis) == 0 {
		return out
	}
	g.m.siblings.Observe(float64(len(vis)))
	ctxTok := encodeContext(s.Context(), tenants.ItemFingerprint(t.ID, pk, sk))
	for i, v := range vis {
		row := rowJSON{PK: pk, SK: sk, Deleted: v.Deleted, Modified: time.UnixMilli(v.Modified).UTC(), Sibling: i + 1, Siblings: len(vis), Context: ctxTok}
		if !v.Deleted {
			row.Value = project(v.Value, cols)
		}
		out = append(out, row)
	}
	return out
}

// project keeps only the given dotted paths of an item, as an object whose
// keys are the paths as written ("b.c"); missing paths are omitted.
func project(item json.RawMessage, cols []query.Path) json.RawMessage {
	if len(cols) == 0 {
		return item
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(item, &doc) != nil {
		return item
	}
	out := map[string]json.RawMessage{}
	for _, p := range cols {
		if v, ok := lookupPath(doc, p); ok {
			out[strings.Join(p, ".")] = v
		}
	}
	b, _ := json.Marshal(out)
	return b
}

func lookupPath(doc map[string]json.RawMessage, p query.Path) (json.RawMessage, bool) {
	v, ok := doc[p[0]]
	if !ok || len(p) == 1 {
		return v, ok
	}
	var sub map[string]json.RawMessage
	if json.Unmarshal(v, &sub) != nil {
		return nil, false
	}
	return lookupPath(sub, p[1:])
}
