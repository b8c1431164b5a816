package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ringtable/ringtable/feed"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/tenants"
)

// Change feeds over HTTP, for consumers without NATS:
//
//	GET /v1/tables/{table}/feed
//
// streams the table's change events as Server-Sent Events, one per
// committed version, in the order of the cluster's feed stream:
//
//	id: <stream sequence>
//	data: <the event as JSON, with "seq" filled in>
//
// A reader resumes after the last event it saw by sending that id in
// Last-Event-ID (as EventSource does on reconnection): no event is missed
// or repeated while the stream retains it. Without it, ?from_seq=N starts
// at sequence N, ?from_time=<RFC 3339> at the first event stored since,
// and by default the stream starts with the next event. Comment lines
// (": keep-alive") are sent when nothing happened for a while. The request
// is authenticated and rate-limited like every tenant request.

func (g *Gateway) feedRoutes(mux *http.ServeMux) {
	g.route(mux, "GET /v1/tables/{table}/feed", "feed", g.streamFeed)
	g.adminRoute(mux, "POST /v1/admin/tenants/{tenant}/feed-credentials", "admin_feed_credentials", g.adminFeedCredentials)
}

// feedState is the gateway's view of the feed stream, made on first use,
// and the context that ends every open stream when the server shuts down.
type feedState struct {
	mu     sync.Mutex
	stream *messaging.Feeds
	ctx    context.Context
	cancel context.CancelFunc
}

func (g *Gateway) feeds() (*messaging.Feeds, context.Context, error) {
	g.feed.mu.Lock()
	defer g.feed.mu.Unlock()
	if g.feed.ctx == nil {
		g.feed.ctx, g.feed.cancel = context.WithCancel(g.ctx)
	}
	if g.feed.stream == nil {
		f, err := g.conn.Feeds(messaging.DefaultFeedConfig())
		if err != nil {
			return nil, nil, err
		}
		g.feed.stream = f
	}
	return g.feed.stream, g.feed.ctx, nil
}

// endStreams ends every open feed stream (an HTTP server's graceful
// shutdown waits for handlers, and these would never end by themselves).
func (g *Gateway) endStreams() {
	g.feed.mu.Lock()
	defer g.feed.mu.Unlock()
	if g.feed.cancel != nil {
		g.feed.cancel()
	}
}

// feedStart reads where a stream starts. Both starts are refused, as the
// route refuses a parameter it does not know (params.go): a misspelt
// from_seq would otherwise start the stream at the next event, and the
// reader would never learn that it missed the history it asked for.
func feedStart(r *http.Request) (messaging.FeedStart, error) {
	q := r.Form
	if q.Get("from_seq") != "" && q.Get("from_time") != "" {
		return messaging.FeedStart{}, badRequest("from_seq and from_time: give one start, not both")
	}
	// On reconnection EventSource sends the stream's URL again with
	// Last-Event-ID, which then says where to go on.
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		seq, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return messaging.FeedStart{}, badRequest("Last-Event-ID %q: must be the id of an event of this feed", id)
		}
		return messaging.FeedStart{Seq: seq + 1}, nil
	}
	if s := q.Get("from_seq"); s != "" {
		seq, err := strconv.ParseUint(s, 10, 64)
		if err != nil || seq == 0 {
			return messaging.FeedStart{}, badRequest("from_seq=%q: must be a sequence number (1 or more)", s)
		}
		return messaging.FeedStart{Seq: seq}, nil
	}
	if s := q.Get("from_time"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return messaging.FeedStart{}, badRequest("from_time=%q: must be an RFC 3339 time such as 2025-01-02T15:04:05Z", s)
		}
		return messaging.FeedStart{Time: t}, nil
	}
	return messaging.FeedStart{}, nil
}

// feedCounts counts the change feed streams each tenant has open.
type feedCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// open counts a new stream of tenant, unless it has max open already.
func (c *feedCounts) open(tenant string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[tenant] >= max {
		return false
	}
	c.n[tenant]++
	return true
}

// total is the number of streams open, of all tenants.
func (c *feedCounts) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.n {
		n += k
	}
	return n
}

func (c *feedCounts) close(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[tenant]--; c.n[tenant] <= 0 {
		delete(c.n, tenant)
	}
}

// TooManyFeedsError refuses a change feed stream past the tenant's
// bound at this gateway.
type TooManyFeedsError struct{ Max int }

func (e *TooManyFeedsError) Error() string {
	return fmt.Sprintf("the tenant has %d change feed streams open at this gateway, the most it may: close one, or read the feeds over NATS (ringtable admin tenant feed-credentials)", e.Max)
}

func (g *Gateway) streamFeed(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (int, error) {
	t, err := g.table(r, ten)
	if err != nil {
		return 0, err
	}
	start, err := feedStart(r)
	if err != nil {
		return 0, err
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return 0, fmt.Errorf("gateway: the response writer cannot stream")
	}
	feeds, streams, err := g.feeds()
	if err != nil {
		return 0, err
	}
	if !g.openFeeds.open(ten.ID, g.cfg.MaxFeedsPerTenant) {
		return 0, &TooManyFeedsError{Max: g.cfg.MaxFeedsPerTenant}
	}
	defer g.openFeeds.close(ten.ID)
	// The stream ends with the request, or when the gateway shuts down.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(streams, cancel)()
	rd, err := feeds.Reader(ctx, ten.ID, t.Name, start)
	if err != nil {
		return 0, err
	}
	defer context.AfterFunc(ctx, rd.Stop)()
	defer rd.Stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": ringtable change feed of "+t.Name+"\n\n")
	fl.Flush()
	authorized := g.cfg.Clock.Now()
	for ctx.Err() == nil {
		m, err := rd.Next(g.cfg.FeedKeepAlive)
		if ctx.Err() != nil {
			break
		}
		// The key was checked when the stream opened; a stream can outlive
		// it. A key revoked or a tenant deleted since ends the stream,
		// checked as often as keep-alives go, busy or idle (a revocation
		// made at another gateway shows here up to KeyTTL later).
		if now := g.cfg.Clock.Now(); now.Sub(authorized) >= g.cfg.FeedKeepAlive {
			if _, aerr := g.authenticate(r); errors.Is(aerr, ErrUnauthorized) {
				endStream(w, "unauthorized", aerr.Error())
				break
			}
			authorized = now
		}
		if err != nil {
			// The status is sent; say why the stream ends, in a form an
			// EventSource reports as an "error" event.
			endStream(w, "feed_unavailable", err.Error())
			g.log.Warn("change feed stream ended", "tenant", ten.ID, "table", t.Name, "err", err)
			break
		}
		sent := false
		if m != nil {
			if sent, err = writeEvent(w, m, t.ID); err != nil {
				break
			}
		}
		// Idle, or an event of another table of the name (an older one's,
		// or a newer one's: then this one was dropped).
		if !sent && g.dropped(ctx, ten, t) {
			endStream(w, "table_dropped", fmt.Sprintf("table %q was dropped", t.Name))
			break
		}
		if m == nil {
			_, _ = fmt.Fprint(w, ": keep-alive\n\n")
		} else if !sent {
			continue
		}
		fl.Flush()
	}
	return http.StatusOK, nil
}

// dropped says whether t is no longer the table of its name: a stream of
// it would otherwise stay open, idle, for as long as its reader waits.
func (g *Gateway) dropped(ctx context.Context, ten *tenants.Tenant, t *Table) bool {
	cur, err := g.cat.lookup(ctx, ten.ID, t.Name)
	return errors.Is(err, ErrNotFound) || err == nil && cur.ID != t.ID
}

// endStream ends a stream, saying why, in a form an EventSource reports
// as an "error" event.
func endStream(w http.ResponseWriter, code, msg string) {
	b, _ := json.Marshal(map[string]string{"code": code, "message": msg})
	_, _ = fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
}

// writeEvent writes one event with its sequence, unless it is an event of
// an older table of the same name (tableID is the table's now): the
// stream's subject is the table's name, and a table dropped and created
// again must not show the old one's items to the new one's readers, as
// its reads do not. An event whose table cannot be read is sent as it is.
func writeEvent(w http.ResponseWriter, m *messaging.FeedMsg, tableID string) (bool, error) {
	ev, err := feed.Decode(m.Data)
	data := m.Data
	if err == nil {
		if ev.TableID != "" && ev.TableID != tableID {
			return false, nil
		}
		ev.Seq = m.Seq
		data = feed.Encode(ev)
	}
	// Encoded JSON holds no raw newline, so it is one data line.
	_, err = fmt.Fprintf(w, "id: %d\ndata: %s\n\n", m.Seq, data)
	return err == nil, err
}

// adminFeedCredentials gives a tenant NATS credentials for its own
// change feed (POST /v1/admin/tenants/{tenant}/feed-credentials).
func (g *Gateway) adminFeedCredentials(w http.ResponseWriter, r *http.Request) (int, error) {
	t, _, err := g.reg.readTenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	fc, err := g.conn.IssueFeedCredentials(ctx, t.ID, messaging.DefaultTenantLimits())
	if err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusCreated, fc)
	return http.StatusCreated, nil
}

// FeedCredentials issues NATS feed credentials for a tenant, for
// processes that embed a gateway.
func (g *Gateway) FeedCredentials(ctx context.Context, tenantID string) (*messaging.FeedCredentials, error) {
	t, _, err := g.reg.readTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return g.conn.IssueFeedCredentials(ctx, t.ID, messaging.DefaultTenantLimits())
}

// revokeFeed invalidates a deleted tenant's feed credentials (best
// effort: the tenant is deleted either way).
func (g *Gateway) revokeFeed(ctx context.Context, tenant string) {
	if !g.conn.HasAccounts() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := g.conn.RevokeFeedCredentials(ctx, tenant); err != nil {
		g.log.Warn("feed credentials of a deleted tenant not revoked", "tenant", tenant, "err", err)
	}
}
