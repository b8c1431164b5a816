package gateway

// Serving HTTP. Reads and writes of items are most of a gateway's
// requests, and for them net/http's per-request machinery (a request
// with its parsed URL and header map, a response writer, a background
// read to notice a closed connection, a goroutine's wake-ups) cost about
// as much CPU as the quorum round itself. So connections are served by
// fasthttp, which answers an item's GET, PUT or DELETE at a plain path
// itself, through the same handlers, and hands the connection to a
// net/http server for anything else: the request is replayed to it, and
// it keeps the connection from then on. Everything but those item
// requests (change feed streams, admin and table requests, unusual
// paths, methods and bodies) is thus served exactly as net/http serves
// it, and a client that only reads and writes items never leaves the
// fast path.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringtable/ringtable/query"
	"github.com/ringtable/ringtable/vclock"
)

// maxRequestBody bounds what the fast path reads before a handler sees
// the request: an item at its limit with room to spare, so the handlers'
// own limits, and their errors, stay the ones a client meets.
const maxRequestBody = 4 * query.MaxItemSize

// maxHeaderBytes bounds a request's line and headers, which must fit
// fasthttp's read buffer: a context token at its limit with room for the
// rest.
const maxHeaderBytes = vclock.MaxTokenLen + 16<<10

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	mux, items := g.routes()
	conns := &trackedListener{Listener: ln, open: map[*trackedConn]struct{}{}}
	handoff := newConnQueue(ln.Addr())
	slow := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	slow.RegisterOnShutdown(g.endStreams)
	// Item requests on the fast path run under base: a shutdown lets them
	// finish within its grace and cancels what is left after it.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	bare := (&http.Request{}).WithContext(base)
	fast := &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) {
			if !serveItem(bare, c, items) {
				g.m.handoffs.Inc()
				handOff(c, handoff)
			}
		},
		ErrorHandler:       g.fastError,
		ReadTimeout:        time.Minute,
		IdleTimeout:        2 * time.Minute,
		MaxRequestBodySize: maxRequestBody,
		ReadBufferSize:     maxHeaderBytes,
		// Buffers that large go back to a pool between requests, not
		// kept by each idle connection.
		ReduceMemoryUsage:            true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		KeepHijackedConns:            true,
		Logger:                       fastLogger{g},
	}
	errc := make(chan error, 2)
	go func() { errc <- slow.Serve(handoff) }()
	go func() { errc <- fast.Serve(conns) }()
	select {
	case err := <-errc:
		_ = fast.Shutdown()
		_ = slow.Close()
		return fmt.Errorf("gateway: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	var fastErr, slowErr error
	wg.Add(2)
	go func() { defer wg.Done(); fastErr = fast.ShutdownWithContext(sctx) }()
	go func() { defer wg.Done(); slowErr = slow.Shutdown(sctx) }()
	wg.Wait()
	if fastErr != nil || slowErr != nil {
		// What is left after the grace is closed: a request that ran too
		// long, or a connection a client opened and never used.
		g.log.Warn("shutdown grace over: closing the connections left", "grace", g.cfg.ShutdownGrace)
		cancelBase()
		conns.closeAll()
		if err := slow.Close(); err != nil {
			return fmt.Errorf("gateway: shutdown: %w", err)
		}
		cctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownGrace)
		defer cancel()
		if err := fast.ShutdownWithContext(cctx); err != nil {
			return fmt.Errorf("gateway: shutdown: %w", err)
		}
	}
	return nil
}

// trackedListener keeps the connections it accepted that are still open,
// so that a shutdown can close those left after its grace (fasthttp
// closes only idle ones, not one a client opened and never used).
type trackedListener struct {
	net.Listener
	mu   sync.Mutex
	open map[*trackedConn]struct{}
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.open[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (l *trackedListener) closeAll() {
	l.mu.Lock()
	open := make([]*trackedConn, 0, len(l.open))
	for c := range l.open {
		open = append(open, c)
	}
	l.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l *trackedListener
	// linger says the connection is closed after an answer to a request
	// it did not read whole (Close says why).
	linger atomic.Bool
	// rbuf[r:w] arrived with a small read and was not yet read.
	rbuf []byte
	r, w int
}

// smallRead is the size below which a read takes what has arrived into
// the connection's own buffer. fasthttp waits for each request's first
// byte with a one-byte read (so that an idle connection holds no read
// buffer) and then reads the rest: reading what has arrived in that first
// call spares a system call per request. The buffer holds a request of a
// small item whole; a larger one is read on by the next call.
const smallRead = 4 << 10

func (c *trackedConn) Read(p []byte) (int, error) {
	if c.r < c.w {
		n := copy(p, c.rbuf[c.r:c.w])
		c.r += n
		return n, nil
	}
	if len(p) >= smallRead {
		return c.Conn.Read(p)
	}
	if c.rbuf == nil {
		c.rbuf = make([]byte, smallRead)
	}
	n, err := c.Conn.Read(c.rbuf)
	if n == 0 {
		return 0, err
	}
	// An error with bytes comes back on the next read of the socket.
	c.r, c.w = copy(p, c.rbuf[:n]), n
	return c.r, nil
}

// lingerFor and lingerBytes bound what a connection closed after an
// answer to a request it did not read whole takes of the rest.
const (
	lingerFor   = 500 * time.Millisecond
	lingerBytes = 4 << 20
)

// Close closes the connection. After an answer to a request too large to
// read, the client may still be sending that request: a socket closed with
// bytes unread is reset by the kernel, and the client would meet the reset
// while it writes instead of reading the answer. So such a connection
// first sends its end of the stream and reads what is left, within
// bounds, as net/http does.
func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.open, c)
	c.l.mu.Unlock()
	if tc, ok := c.Conn.(*net.TCPConn); ok && c.linger.Swap(false) {
		if tc.CloseWrite() == nil && tc.SetReadDeadline(time.Now().Add(lingerFor)) == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(tc, lingerBytes))
		}
	}
	return c.Conn.Close()
}

// serveItem answers c if it is an item's GET, PUT or DELETE at a plain
// path (/v1/tables/{table}/items/{pk}[/{sk}], every segment non-empty and
// neither "." nor ".."); false leaves c to net/http.
// Its request is a copy of bare, which holds the context the request runs
// under.
func serveItem(bare *http.Request, c *fasthttp.RequestCtx, items itemHandlers) bool {
	hs, ok := items[string(c.Method())]
	if !ok {
		return false
	}
	raw := c.URI().PathOriginal()
	if i := bytes.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	rest, ok := bytes.CutPrefix(raw, []byte("/v1/tables/"))
	if !ok {
		return false
	}
	table, rest, ok := bytes.Cut(rest, []byte("/items/"))
	if !ok {
		return false
	}
	pk, sk, withSK := bytes.Cut(rest, []byte("/"))
	if bytes.IndexByte(table, '%') >= 0 || bytes.IndexByte(table, '.') >= 0 {
		return false // net/http's mux decides what such a table segment matches
	}
	segs := [3]string{string(table)}
	for i, s := range [][]byte{pk, sk} {
		if i == 1 && !withSK {
			break
		}
		if len(s) == 0 || bytes.IndexByte(s, '/') >= 0 {
			return false
		}
		u, err := url.PathUnescape(string(s))
		if err != nil || u == "." || u == ".." {
			return false
		}
		segs[i+1] = u
	}
	h := hs[0]
	if withSK {
		h = hs[1]
	}
	r := newItemRequest(bare, c, segs, withSK)
	w := &fastWriter{c: c, h: make(http.Header, 4)}
	h(w, r)
	w.finish()
	return true
}

// newItemRequest builds the net/http request an item handler reads: only
// what those handlers use (method, path and query, headers, body, the
// path's values and a context; no address, host or protocol). Only
// WithContext sets a request's context, and it copies the request: a copy
// of bare, which has the context already, takes no allocation of its own,
// as the request, its URL and its body share one.
func newItemRequest(bare *http.Request, c *fasthttp.RequestCtx, segs [3]string, withSK bool) *http.Request {
	h := itemHeader(&c.Request.Header)
	// The path as net/http decodes it: the segments joined.
	path := "/v1/tables/" + segs[0] + "/items/" + segs[1]
	if withSK {
		path += "/" + segs[2]
	}
	ir := new(itemRequest)
	r := &ir.r
	*r = *bare
	r.Method = methodName(c.Method())
	ir.url = url.URL{Path: path, RawQuery: string(c.URI().QueryString())}
	r.URL = &ir.url
	r.Header, r.Body = h, http.NoBody
	if body := c.PostBody(); len(body) > 0 {
		ir.body.Reset(body)
		ir.body.b = body
		r.Body = &ir.body
		r.ContentLength = int64(len(body))
	}
	r.SetPathValue("table", segs[0])
	r.SetPathValue("pk", segs[1])
	if withSK {
		r.SetPathValue("sk", segs[2])
	}
	return r
}

// itemRequest is what newItemRequest allocates at once.
type itemRequest struct {
	r    http.Request
	url  url.URL
	body fastBody
}

// fastBody is a fast-path request's body: fasthttp's buffer, valid until
// the handler returns, which readItemBody checks in place instead of
// copying it first (the check makes the item a buffer of its own).
type fastBody struct {
	bytes.Reader
	b []byte
}

func (*fastBody) Close() error { return nil }

// itemHeader copies a request's header as net/http would hold it: the
// map, one slice for every value and one string holding them all, where
// adding each header took three allocations of its own (4 against 11 for
// a GET from ringtable bench).
func itemHeader(fh *fasthttp.RequestHeader) http.Header {
	n, size := 0, 0
	for _, v := range fh.All() {
		n, size = n+1, size+len(v)
	}
	h := make(http.Header, n)
	if n == 0 {
		return h
	}
	var sb strings.Builder
	sb.Grow(size)
	for _, v := range fh.All() {
		sb.Write(v)
	}
	all, vals, i := sb.String(), make([]string, n), 0
	for k, v := range fh.All() {
		key := headerName(k)
		vals[i], all = all[:len(v)], all[len(v):]
		if prev, ok := h[key]; ok {
			h[key] = append(prev, vals[i])
		} else {
			h[key] = vals[i : i+1 : i+1]
		}
		i++
	}
	return h
}

// headerName is a header's canonical name, without allocating for the
// names item requests carry.
func headerName(k []byte) string {
	switch string(k) {
	case "Host":
		return "Host"
	case "User-Agent":
		return "User-Agent"
	case "Authorization":
		return "Authorization"
	case "Content-Type":
		return "Content-Type"
	case "Content-Length":
		return "Content-Length"
	case "Accept":
		return "Accept"
	case "Accept-Encoding":
		return "Accept-Encoding"
	case "Connection":
		return "Connection"
	case ContextHeader:
		return ContextHeader
	}
	return http.CanonicalHeaderKey(string(k))
}

// methodName is an item request's method as a constant string.
func methodName(m []byte) string {
	switch string(m) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPut:
		return http.MethodPut
	case http.MethodDelete:
		return http.MethodDelete
	}
	return string(m)
}

// fastWriter is the http.ResponseWriter of an item request on the fast
// path: the handler's headers and body become fasthttp's response.
type fastWriter struct {
	c     *fasthttp.RequestCtx
	h     http.Header
	wrote bool
}

func (w *fastWriter) Header() http.Header { return w.h }

func (w *fastWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	for k, vs := range w.h {
		for _, v := range vs {
			w.c.Response.Header.Add(k, v)
		}
	}
	w.c.SetStatusCode(status)
}

func (w *fastWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.c.Write(b)
}

// finish answers 200 with no body for a handler that wrote nothing, as
// net/http does.
func (w *fastWriter) finish() { w.WriteHeader(http.StatusOK) }

// handOff gives c's connection to the net/http server, which answers the
// request c holds (replayed to it) and every later one on the connection.
func handOff(c *fasthttp.RequestCtx, q *connQueue) {
	var replay bytes.Buffer
	if _, err := c.Request.WriteTo(&replay); err != nil {
		c.Error("cannot forward the request", http.StatusInternalServerError)
		return
	}
	c.HijackSetNoResponse(true)
	// fasthttp flushes the answers before this one and clears the
	// connection's deadlines before it calls the hijack handler.
	c.Hijack(func(conn net.Conn) {
		q.put(&replayConn{Conn: conn, r: io.MultiReader(&replay, conn)})
	})
}

// replayConn is a handed-off connection: its reads give the replayed
// request, then what the client sends next.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// connQueue is the listener of the net/http server: it accepts the
// connections handed to it.
type connQueue struct {
	addr   net.Addr
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (q *connQueue) put(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.closed:
		c.Close() // shutting down: no one serves it any more
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.closed:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.closed) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// fastError answers a request fasthttp could not read (too large, or not
// HTTP) with the API's error form.
func (g *Gateway) fastError(c *fasthttp.RequestCtx, err error) {
	var e error
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = &TooLargeError{Msg: fmt.Sprintf("request body is larger than %d bytes", maxRequestBody)}
	case errors.As(err, &small):
		e = &TooLargeError{Msg: fmt.Sprintf("request line and headers are larger than %d bytes", maxHeaderBytes)}
	default:
		e = badRequest("malformed HTTP request: %v", err)
	}
	w := &fastWriter{c: c, h: make(http.Header, 1)}
	writeError(w, e)
	w.finish()
	if tc, ok := c.Conn().(*trackedConn); ok {
		tc.linger.Store(true)
	}
}

// fastLogger puts fasthttp's own messages (connection errors) in the
// gateway's log at debug level.
type fastLogger struct{ g *Gateway }

func (l fastLogger) Printf(format string, args ...any) {
	l.g.log.Debug("http: " + fmt.Sprintf(format, args...))
}
