package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/query"
	"github.com/ringtable/ringtable/tenants"
)

// defaultPage is the page size of a SELECT without LIMIT. LIMIT sets the
// page size; every page but the last comes with a cursor for the next.
const defaultPage = 1000

// cursor continues a SELECT. It is opaque to clients and bound to the table
// (by ID, so it dies with the table).
type cursor struct {
	Table string `json:"t"`
	PK    string `json:"k,omitempty"`
	After string `json:"a"`           // last sort key (scan: table suffix) returned
	Part  int    `json:"p,omitempty"` // scan: the ring partition in progress
	Scan  bool   `json:"s,omitempty"`
	Desc  bool   `json:"d,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(tok string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, badRequest("invalid cursor: use the \"next\" of the previous page of the same SELECT")
	}
	return c, nil
}

// skRange turns a sort-key condition into [start, end) bounds ("" end: no
// upper bound).
func skRange(sc *query.SortCond) (start, end string) {
	if sc == nil {
		return "", ""
	}
	switch sc.Op {
	case query.OpEq:
		return sc.Value, sc.Value + "\x00"
	case query.OpLt:
		return "", sc.Value
	case query.OpLe:
		return "", sc.Value + "\x00"
	case query.OpGt:
		return sc.Value + "\x00", ""
	case query.OpGe:
		return sc.Value, ""
	case query.OpBetween:
		return sc.Value, sc.Value2 + "\x00"
	case query.OpBeginsWith:
		return sc.Value, prefixEnd(sc.Value)
	}
	return "", ""
}

// prefixEnd is the smallest string greater than every string with prefix
// p ("" when there is none: p is all 0xff bytes).
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

func (g *Gateway) execSelect(ctx context.Context, ten *tenants.Tenant, st *query.Select, req queryRequest) (*queryResult, error) {
	t, err := g.cat.lookup(ctx, ten.ID, st.Table)
	if err != nil {
		return nil, err
	}
	if err := st.Bind(t.PartitionKey, t.SortKey); err != nil {
		return nil, &BadRequestError{Msg: err.Error(), Err: err}
	}
	rq, err := pick(st.R, req.R, t.R, t.N, "r")
	if err != nil {
		return nil, err
	}
	var cur *cursor
	if req.Cursor != "" {
		c, err := decodeCursor(req.Cursor)
		if err != nil {
			return nil, err
		}
		if c.Table != t.ID || c.Scan != st.AllowScan || c.Desc != st.Desc || (!c.Scan && (st.PK == nil || c.PK != st.PK.Value)) {
			return nil, badRequest("the cursor belongs to another SELECT: send it with the statement that returned it")
		}
		cur = &c
	}
	page := st.Limit
	if page <= 0 {
		page = defaultPage
	}
	out := &queryResult{Kind: kindRows, Rows: []rowJSON{}}
	for _, c := range st.Columns {
		out.Columns = append(out.Columns, c.String())
	}
	if st.AllowScan {
		return out, g.scanTable(ctx, ten, t, st, rq, page, cur, out)
	}
	start, end := skRange(st.SK)
	if cur != nil {
		if st.Desc {
			end = cur.After // exclusive: the next page is below it
		} else if s := cur.After + "\x00"; s > start {
			start = s
		}
	}
	k := g.key(tenants.KindData, ten.ID, t.ID, st.PK.Value, "")
	res := g.scanItems(ctx, &wire.ScanRequest{Key: k, Start: start, End: end, Reverse: st.Desc, Limit: uint32(page)}, t.N, rq)
	if res.Err != nil {
		g.quorumFailed(0, res.Err)
		return nil, res.Err
	}
	for _, it := range res.Items {
		out.Rows = g.rows(t, st.PK.Value, it.SK, it.Set, st.Columns, out.Rows)
	}
	if res.More && len(res.Items) > 0 {
		out.Next = cursor{Table: t.ID, PK: st.PK.Value, After: res.Items[len(res.Items)-1].SK, Desc: st.Desc}.encode()
	}
	return out, nil
}

// scanTable pages through a whole table, one ring partition after the
// other, each partition read from its own replicas. Each partition round
// takes a token from the tenant's request rate, so a scan cannot crowd out
// the tenant's other requests beyond its quota.
func (g *Gateway) scanTable(ctx context.Context, ten *tenants.Tenant, t *Table, st *query.Select, rq, page int, cur *cursor, out *queryResult) error {
	part, after := 0, ""
	if cur != nil {
		part, after = cur.Part, cur.After
	}
	q := g.Ring().Q()
	began := time.Now()
	for n, first := 0, true; part < q; part, after, first = part+1, "", false {
		// A page that took its time ends at a partition's start.
		if !first && time.Since(began) > g.cfg.ScanPageTime {
			out.Next = cursor{Table: t.ID, Scan: true, Part: part}.encode()
			return nil
		}
		if err := g.limits.wait(ctx, ten); err != nil {
			return err
		}
		k := tenants.Key{Kind: tenants.KindData, Partition: uint32(part), Tenant: ten.ID, Table: t.ID, PK: "-"}
		start := ""
		if after != "" {
			start = after + "\x00"
		}
		res := g.scanItems(ctx, &wire.ScanRequest{Key: k, Whole: true, Start: start, Limit: uint32(page - n)}, t.N, rq)
		if res.Err != nil {
			g.quorumFailed(0, res.Err)
			return res.Err
		}
		for _, it := range res.Items {
			pk, sk, err := tenants.SplitTableSuffix([]byte(it.SK))
			if err != nil {
				continue
			}
			out.Rows = g.rows(t, pk, sk, it.Set, st.Columns, out.Rows)
			n++
		}
		// A partition's replicas may stop short of the page (a reply is
		// bounded in bytes as well as items): the page ends there, and the
		// next goes on in the same partition.
		if res.More && len(res.Items) > 0 {
			out.Next = cursor{Table: t.ID, Scan: true, Part: part, After: res.Items[len(res.Items)-1].SK}.encode()
			return nil
		}
		if n >= page {
			if part+1 < q {
				out.Next = cursor{Table: t.ID, Scan: true, Part: part + 1}.encode()
			}
			return nil
		}
	}
	return nil
}
