package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/internal/jsonenc"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/query"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// ContextHeader carries an item's causal context: out on reads and
// writes, in on writes.
const ContextHeader = "X-Ringtable-Context"

// SiblingsHeader says, on a write's answer, how many versions the item
// has after the write at the replica that stamped it. More than one means
// concurrent writes left siblings: an application resolves them by
// reading the item and writing with that read's context, before the
// item grows to its table's sibling maximum.
const SiblingsHeader = "X-Ringtable-Siblings"

// itemRef is a resolved item address.
type itemRef struct {
	t   *Table
	key tenants.Key
}

// keyText shows an item's key in a message: quoted, as bytes that are
// not text are too, and with its sort key if it has one.
func keyText(k tenants.Key) string {
	if k.SK == "" {
		return strconv.Quote(k.PK)
	}
	return "(" + strconv.Quote(k.PK) + ", " + strconv.Quote(k.SK) + ")"
}

func (g *Gateway) item(r *http.Request, ten *tenants.Tenant) (itemRef, error) {
	t, err := g.table(r, ten)
	if err != nil {
		return itemRef{}, err
	}
	pk, sk := r.PathValue("pk"), r.PathValue("sk")
	if strings.HasSuffix(r.URL.Path, "/item") {
		q := r.Form
		pk, sk = q.Get("pk"), q.Get("sk")
	}
	if err := validateKey("partition key", pk); err != nil {
		return itemRef{}, err
	}
	if r.Method == http.MethodPut {
		if err := utf8Key("partition key", pk); err != nil {
			return itemRef{}, err
		}
		if err := utf8Key("sort key", sk); err != nil {
			return itemRef{}, err
		}
	}
	switch {
	case t.SortKey != "" && sk == "":
		return itemRef{}, badRequest("table %q has sort key %q: address items as /v1/tables/%s/items/{%s}/{%s}", t.Name, t.SortKey, t.Name, t.PartitionKey, t.SortKey)
	case t.SortKey == "" && sk != "":
		return itemRef{}, badRequest("table %q has no sort key: address items as /v1/tables/%s/items/{%s}", t.Name, t.Name, t.PartitionKey)
	case sk != "":
		if err := validateKey("sort key", sk); err != nil {
			return itemRef{}, err
		}
	}
	return itemRef{t: t, key: g.key(tenants.KindData, ten.ID, t.ID, pk, sk)}, nil
}

// utf8Key refuses to create an item whose key is not UTF-8 text: answers
// and change events carry keys as JSON strings, which would turn such a
// key into another one that addresses nothing. Reads and deletes still
// take any bytes, so items written before keys were checked stay
// reachable.
func utf8Key(what, k string) error {
	if i := query.InvalidUTF8(k); i >= 0 {
		return badRequest("%s is not UTF-8 text: byte %#02x at offset %d (keys are text; encode binary keys, as base64 for example)", what, k[i], i)
	}
	return nil
}

// quorumParam reads an ?r= or ?w= override, bounded by the table's N.
func quorumParam(r *http.Request, name string, def, n int) (int, error) {
	s := r.Form.Get(name)
	if s == "" {
		return def, nil
	}
	q, err := strconv.Atoi(s)
	if err != nil || q < 1 || q > n {
		return 0, badRequest("%s=%q: must be an integer between 1 and the table's n=%d", name, s, n)
	}
	return q, nil
}

// visible picks what a read returns: the live versions (and tombstones
// concurrent with them, so a conflict between a delete and an update is
// seen), or for a last-writer-wins table only the newest version.
func visible(t *Table, s vclock.Set, now int64) vclock.Set {
	if t.LWW() {
		if v, ok := s.Newest(); ok && !v.Deleted && (v.Expires == 0 || v.Expires > now) {
			return vclock.Set{v}
		}
		return nil
	}
	live := s.Live(now)
	if len(live) == 0 {
		return nil
	}
	if len(live) == len(s) {
		return live.OncePerWrite()
	}
	var out vclock.Set
	for _, v := range s {
		if v.Deleted || v.Expires == 0 || v.Expires > now {
			out = append(out, v)
		}
	}
	return out.OncePerWrite()
}

// appendGetResponse appends a read's answer:
//
//	{"items":[{"value":{…},"deleted":true,"modified":"…","expires":"…"},…],"context":"…"}
//
// (value absent for a tombstone, deleted and expires only when set). It
// is written by hand because it is on every read's path and reflection
// cost a twentieth of the gateway's CPU: values were validated and
// compacted when written, so they go out as stored.
func appendGetResponse(b []byte, vis vclock.Set, ctxTok string) []byte {
	b = append(b, `{"items":[`...)
	for i, v := range vis {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if !v.Deleted && len(v.Value) > 0 {
			b = append(b, `"value":`...)
			b = append(b, v.Value...)
			b = append(b, ',')
		}
		if v.Deleted {
			b = append(b, `"deleted":true,`...)
		}
		b = append(b, `"modified":`...)
		b = jsonenc.Time(b, time.UnixMilli(v.Modified).UTC())
		if v.Expires != 0 {
			b = append(b, `,"expires":`...)
			b = jsonenc.Time(b, time.UnixMilli(v.Expires).UTC())
		}
		b = append(b, '}')
	}
	b = append(b, `],"context":`...)
	b = jsonenc.String(b, ctxTok)
	return append(b, "}\n"...)
}

func (g *Gateway) getItem(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	ref, err := g.item(r, ten)
	if err != nil {
		return 0, err
	}
	rq, err := quorumParam(r, "r", ref.t.R, ref.t.N)
	if err != nil {
		return 0, err
	}
	strict, err := strictParam(r, ref.t)
	if err != nil {
		return 0, err
	}
	res := g.readItem(withStrict(r.Context(), strict), ref.key, ref.t.N, rq)
	if res.Err != nil {
		g.quorumFailed(coord.OpGet, res.Err)
		return 0, res.Err
	}
	ctxTok := encodeContext(res.Set.Context(), ref.key.Fingerprint())
	if ctxTok != "" {
		w.Header().Set(ContextHeader, ctxTok)
	}
	vis := visible(ref.t, res.Set, g.cfg.Clock.Now().UnixMilli())
	if len(vis) == 0 {
		return 0, fmt.Errorf("table %q: item %s: %w", ref.t.Name, keyText(ref.key), ErrNotFound)
	}
	g.m.siblings.Observe(float64(len(vis)))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(appendGetResponse(make([]byte, 0, 128+vclock.EncodedSize(vis)), vis, ctxTok))
	return http.StatusOK, nil
}

func (g *Gateway) putItem(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	ref, err := g.item(r, ten)
	if err != nil {
		return 0, err
	}
	body, err := readItemBody(r.Body)
	if err != nil {
		return 0, err
	}
	if err := query.CheckKeyAttributes(body, ref.t.PartitionKey, ref.key.PK, ref.t.SortKey, ref.key.SK); err != nil {
		return 0, &BadRequestError{Msg: err.Error()}
	}
	if err := g.usage.check(ten); err != nil {
		return 0, err
	}
	return g.write(w, r, ref, &wire.PutRequest{Value: body})
}

func (g *Gateway) deleteItem(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	ref, err := g.item(r, ten)
	if err != nil {
		return 0, err
	}
	return g.write(w, r, ref, &wire.PutRequest{Deleted: true})
}

func (g *Gateway) write(w http.ResponseWriter, r *http.Request, ref itemRef, req *wire.PutRequest) (int, error) {
	wq, err := quorumParam(r, "w", ref.t.W, ref.t.N)
	if err != nil {
		return 0, err
	}
	if req.Context, err = decodeContext(r.Header.Get(ContextHeader), ref.key.Fingerprint()); err != nil {
		return 0, err
	}
	if ttl, err := ttlParam(r, ref.t.TTL); err != nil {
		return 0, err
	} else if !req.Deleted {
		req.TTLMillis = ttl * 1000
	}
	strict, err := strictParam(r, ref.t)
	if err != nil {
		return 0, err
	}
	res, err := g.writeVersion(withStrict(r.Context(), strict), ref, wq, req)
	if err != nil {
		return 0, err
	}
	w.Header().Set(ContextHeader, encodeContext(res.Context, ref.key.Fingerprint()))
	w.Header().Set(SiblingsHeader, strconv.Itoa(res.Siblings))
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, nil
}

// writeVersion runs the write round of an item with the table's sibling
// policy and a fresh request ID.
func (g *Gateway) writeVersion(ctx context.Context, ref itemRef, wq int, req *wire.PutRequest) (*coord.Result, error) {
	req.MaxSiblings = uint32(ref.t.MaxSiblings)
	req.LWW = ref.t.LWW()
	req.TableName = ref.t.Name    // the stamper's change event goes to its feed
	req.Write = rand.Uint64() | 1 // never 0, which means "no request ID"
	if !req.Deleted {
		// Counted before the round: a write whose replicas a usage report
		// already saw must not be counted again once that report is in.
		g.usage.wrote(ref.key.Tenant, int64(len(req.Value)+len(ref.key.PK)+len(ref.key.SK)))
	}
	res := g.writeItem(ctx, ref.key, ref.t.N, wq, req)
	if res.Err != nil {
		g.quorumFailed(coord.OpPut, res.Err)
		return nil, res.Err
	}
	if res.Siblings > ref.t.SiblingWarn {
		g.log.Warn("item has many siblings", "table", ref.t.Name, "siblings", res.Siblings)
	}
	return res, nil
}

func (g *Gateway) quorumFailed(op coord.Op, err error) {
	if errors.Is(err, coord.ErrQuorum) {
		g.m.quorumFail.WithLabelValues(op.String()).Inc()
	}
}

// strictParam reads ?strict=true|false, defaulting to the table's mode.
func strictParam(r *http.Request, t *Table) (bool, error) {
	s := r.Form.Get("strict")
	if s == "" {
		return t.Strict, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, badRequest("strict=%q: must be true or false", s)
	}
	return v, nil
}

// The TTLs a table or a write may have, as statements take them.
const maxTTLSeconds = int64(query.MaxTTL / time.Second)

var ttlRange = fmt.Sprintf("must be a number of seconds from 0 (none) to %d (%d years)", maxTTLSeconds, query.MaxTTL/(365*24*time.Hour))

// ttlParam reads ?ttl= (seconds), defaulting to the table's.
func ttlParam(r *http.Request, def int64) (int64, error) {
	s := r.Form.Get("ttl")
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > maxTTLSeconds {
		return 0, badRequest("ttl=%q: %s", s, ttlRange)
	}
	return v, nil
}

// readItemBody reads and checks an item: one JSON object of at most
// MaxItemSize bytes once compacted, stored compacted. Whitespace does not
// count against the limit, as in a statement's VALUE; the body as sent is
// bounded by maxRequestBody, as on the fast path.
func readItemBody(body io.Reader) ([]byte, error) {
	var raw []byte
	if fb, ok := body.(*fastBody); ok {
		raw = fb.b
	} else {
		var err error
		if raw, err = io.ReadAll(io.LimitReader(body, maxRequestBody+1)); err != nil {
			return nil, badRequest("reading the item: %v", err)
		}
	}
	if len(raw) > maxRequestBody {
		return nil, &TooLargeError{Msg: fmt.Sprintf("request body is larger than %d bytes", maxRequestBody)}
	}
	// A byte order mark, as some editors save a file, is not part of the
	// JSON: RFC 8259 lets a reader skip it.
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, badRequest("the request body is empty: a PUT's body is the item, a JSON object such as {\"name\":\"Alice\"}")
	}
	item, err := query.ValidateItem(raw)
	if qe := (*query.Error)(nil); errors.As(err, &qe) && qe.TooLarge {
		return nil, &TooLargeError{Msg: qe.Msg}
	}
	if err != nil {
		return nil, &BadRequestError{Msg: err.Error()}
	}
	return item, nil
}
