package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/ringtable/ringtable/gateway/speculate"
	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/tenants"
)

// Gateway serves the HTTP API over one bus connection.
type Gateway struct {
	cfg    Config
	conn   *messaging.Conn
	subj   messaging.Subjects
	ops    *messaging.NodeOps // subj's node subjects, for rounds
	caller *messaging.Caller
	ring   atomic.Pointer[ring.Ring]
	cat    *catalog
	reg    *registry
	limits *limiters
	// openFeeds counts each tenant's change feed streams open here.
	openFeeds *feedCounts
	usage     *usageView
	reach     *reachability
	spec      *speculate.Estimator // the speculation delay
	gets      atomic.Uint64        // gets so far: every ReadRepairEvery-th asks every replica
	mem       members
	m         *metrics
	log       *slog.Logger

	adminDigest tenants.Digest // of cfg.AdminKey, hashed once

	// ctx bounds the work a gateway does after answering (read repair);
	// Close cancels it and waits.
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup
	subs   []*messaging.Subscription
	feed   feedState
}

// New builds a gateway on conn. The caller keeps ownership of conn.
func New(cfg Config, conn *messaging.Conn) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	caller, err := conn.NewCaller()
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg:       cfg,
		conn:      conn,
		subj:      conn.Subjects(),
		ops:       messaging.NewNodeOps(conn.Subjects()),
		caller:    caller,
		reach:     newReachability(cfg.Clock),
		spec:      newSpeculation(cfg),
		openFeeds: &feedCounts{n: map[string]int{}},
		log:       log,
	}
	g.m = newMetrics(cfg.Registerer, caller.OpenRounds, g.openFeeds.total)
	g.adminDigest = tenants.DigestOf(cfg.AdminKey)
	g.mem.state = membership.NewState(cfg.Q)
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.cat = newCatalog(g)
	g.reg = newRegistry(g)
	g.limits = &limiters{m: map[string]*rate.Limiter{}}
	g.usage = newUsageView()
	for subject, h := range map[string]func(*messaging.Msg){g.subj.System("changes"): g.notice, g.subj.GossipAll(): g.onMembers} {
		sub, err := conn.Subscribe(subject, h)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.subs = append(g.subs, sub)
	}
	ctx, cancel := context.WithTimeout(g.ctx, cfg.StartTimeout)
	defer cancel()
	if err := g.learnMembers(ctx); err != nil {
		g.Close()
		return nil, err
	}
	g.goBackground(g.pollUsage)
	g.goBackground(g.purgeLoop)
	g.m.speculateDelay.Set(g.spec.Delay().Seconds())
	g.goBackground(g.rollSpeculation)
	return g, nil
}

// Handler returns the HTTP API.
func (g *Gateway) Handler() http.Handler {
	mux, _ := g.routes()
	return mux
}

// itemPaths are the path patterns of an item's address. Keys are path
// segments; "/v1/tables/{table}/item?pk=&sk=" addresses keys a path cannot
// carry ("." and "..", which URL paths resolve away).
var itemPaths = []string{"/v1/tables/{table}/items/{pk}", "/v1/tables/{table}/items/{pk}/{sk}", "/v1/tables/{table}/item"}

// itemHandlers are the handlers of an item's reads and writes by method,
// addressed by partition key alone ([0]) or with a sort key ([1]).
type itemHandlers map[string][2]http.HandlerFunc

func (g *Gateway) routes() (*http.ServeMux, itemHandlers) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", g.healthz)
	gather := g.cfg.Gatherer
	if gather == nil {
		gather = prometheus.DefaultGatherer
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(gather, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", noRoute(mux))
	g.adminRoutes(mux)
	g.clusterRoutes(mux)
	g.feedRoutes(mux)
	g.route(mux, "POST /v1/query", "query", g.queryHandler)
	g.route(mux, "POST /v1/tables", "create_table", g.createTable)
	g.route(mux, "GET /v1/tables", "list_tables", g.listTables)
	g.route(mux, "GET /v1/tables/{table}", "describe_table", g.describeTable)
	g.route(mux, "DELETE /v1/tables/{table}", "drop_table", g.dropTable)
	items := itemHandlers{}
	for i, p := range itemPaths {
		for _, m := range []struct {
			method, op string
			h          handlerFunc
		}{{http.MethodGet, "get", g.getItem}, {http.MethodPut, "put", g.putItem}, {http.MethodDelete, "delete", g.deleteItem}} {
			h := g.route(mux, m.method+" "+p, m.op, m.h)
			if i < 2 {
				hs := items[m.method]
				hs[i] = h
				items[m.method] = hs
			}
		}
	}
	return mux, items
}

// handlerFunc is a tenant's API handler: it writes a success itself and
// returns an error for the one error path to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request, ten *tenants.Tenant) (status int, err error)

// route serves a tenant's request: authenticated by a tenant key, within
// the tenant's request rate.
func (g *Gateway) route(mux *http.ServeMux, pattern, op string, h handlerFunc) http.HandlerFunc {
	return g.handle(mux, pattern, op, func(w http.ResponseWriter, r *http.Request, p principal) (int, error) {
		if p.admin {
			return 0, fmt.Errorf("%w: the admin key manages tenants; use a tenant's API key for tables and items", ErrForbidden)
		}
		if ok, wait := g.limits.allow(p.tenant, g.cfg.Clock.Now()); !ok {
			return 0, &RateLimitedError{RetryAfter: wait}
		}
		return h(w, r, p.tenant)
	})
}

// adminRoute serves an operator's request, authenticated by the admin key.
func (g *Gateway) adminRoute(mux *http.ServeMux, pattern, op string, h func(http.ResponseWriter, *http.Request) (int, error)) {
	g.handle(mux, pattern, op, func(w http.ResponseWriter, r *http.Request, p principal) (int, error) {
		if !p.admin {
			return 0, fmt.Errorf("%w: this needs the admin key", ErrForbidden)
		}
		status, err := h(w, r)
		if errors.Is(err, ErrNotFound) && r.PathValue("tenant") != "" {
			err = g.reg.hintTenantName(r.Context(), r.PathValue("tenant"), err)
		}
		return status, err
	})
}

// StatusClientClosed is the status recorded (in metrics, never sent) for
// a request whose client went away first, as nginx records it.
const StatusClientClosed = 499

func (g *Gateway) handle(mux *http.ServeMux, pattern, op string, h func(http.ResponseWriter, *http.Request, principal) (int, error)) http.HandlerFunc {
	params := paramsOf(pattern, op)
	f := func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		p, err := g.authenticate(r)
		if err == nil {
			r.Form, err = checkParams(r.URL.RawQuery, params)
		}
		if ce := r.Header.Get("Content-Encoding"); err == nil && ce != "" && !strings.EqualFold(ce, "identity") {
			// Read as it came, a compressed body would be refused as bad
			// JSON, or a body sent uncompressed under the header taken.
			err = fmt.Errorf("%w: Content-Encoding %q: send the body uncompressed, without the header", ErrUnsupportedEncoding, ce)
		}
		status := 0
		if err == nil {
			status, err = h(w, r, p)
		}
		switch {
		case err != nil && r.Context().Err() != nil:
			// The client went away before the answer: nobody reads it, and
			// the service did not fail, so it is not counted as a 503.
			status = StatusClientClosed
			g.log.Debug("client closed the request", "op", op, "err", err)
		case err != nil:
			status = writeError(w, err)
			if status >= 500 {
				g.log.Warn("request failed", "op", op, "status", status, "err", err)
			}
		}
		g.m.observe(op, status, time.Since(start))
	}
	mux.HandleFunc(pattern, f)
	return f
}

// noRoute answers a request that no route takes in the API's error shape,
// as every other error is: 405 with Allow where the path takes other
// methods, 404 otherwise. The messages leave the path out: the fast path
// and net/http's mux clean a path of dot segments differently.
func noRoute(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			writeError(w, fmt.Errorf("%w: no endpoint at this path (the API's paths start with /v1/; see the README's HTTP API)", ErrNotFound))
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, fmt.Errorf("%w: %s; this path takes %s", ErrMethodNotAllowed, r.Method, strings.Join(allow, ", ")))
	}
}

func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request) {
	if !g.conn.Connected() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "disconnected from NATS"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Close stops background work (read repairs in flight are abandoned).
func (g *Gateway) Close() {
	g.cancel()
	g.bg.Wait()
	for _, s := range g.subs {
		_ = s.Unsubscribe()
	}
	g.caller.Close()
	g.m.unregister()
}

// goBackground runs a loop until Close.
func (g *Gateway) goBackground(loop func(ctx context.Context)) {
	g.bg.Add(1)
	go func() {
		defer g.bg.Done()
		loop(g.ctx)
	}()
}

// Ring returns the gateway's current ring.
func (g *Gateway) Ring() *ring.Ring { return g.ring.Load() }
