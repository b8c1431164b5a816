package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringtable/ringtable/gateway/client"
)

// Items sends the measured requests: a PUT or a GET of one item. It uses
// fasthttp rather than net/http because the generator shares the machine
// with what it loads, and every microsecond of CPU it spends on a request
// is taken from the system it measures; fasthttp's client costs a
// fraction of net/http's per request. It reads the context from the
// X-Ringtable-Context header and does not decode the items (the body is
// still read whole).
type Items struct {
	hc      *fasthttp.HostClient
	auth    string
	table   string
	timeout time.Duration
}

// NewItems sends to cl's gateway, with cl's API key, over at most conns
// connections.
func NewItems(cl *client.Client, table string, conns int) (*Items, error) {
	u, err := url.Parse(cl.Base())
	if err != nil {
		return nil, fmt.Errorf("loadgen: gateway URL %q: %w", cl.Base(), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("loadgen: gateway URL %q: want http://host:port or https://host:port", cl.Base())
	}
	addr := u.Host
	if u.Port() == "" {
		addr += map[string]string{"http": ":80", "https": ":443"}[u.Scheme]
	}
	return &Items{
		hc: &fasthttp.HostClient{
			Addr:                     addr,
			IsTLS:                    u.Scheme == "https",
			MaxConns:                 conns,
			MaxConnWaitTimeout:       30 * time.Second,
			NoDefaultUserAgentHeader: true,
			// A retried PUT without a context would be a second version:
			// failures are reported, never retried.
			MaxIdemponentCallAttempts: 1,
		},
		auth:    "Bearer " + cl.APIKey(),
		table:   table,
		timeout: 30 * time.Second,
	}, nil
}

// Put writes value under key with the given context and returns the new
// version's context and how many siblings the item has now.
func (c *Items) Put(ctx context.Context, key string, value []byte, w int, vctx string) (string, int, error) {
	return c.do(ctx, fasthttp.MethodPut, key, "w", w, vctx, value)
}

// Get reads key and returns its context.
func (c *Items) Get(ctx context.Context, key string, r int) (string, error) {
	tok, _, err := c.do(ctx, fasthttp.MethodGet, key, "r", r, "", nil)
	return tok, err
}

func (c *Items) do(ctx context.Context, method, key, qname string, q int, vctx string, body []byte) (string, int, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	uri := client.ItemPath(c.table, client.Key{PK: key})
	if q > 0 {
		uri += "?" + qname + "=" + strconv.Itoa(q)
	}
	req.SetRequestURI(uri)
	req.Header.SetHost(c.hc.Addr)
	req.Header.SetMethod(method)
	req.Header.Set("Authorization", c.auth)
	if vctx != "" {
		req.Header.Set(client.ContextHeader, vctx)
	}
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	timeout, bounded := c.timeout, false
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout, bounded = time.Until(d), true
	}
	if err := c.hc.DoTimeout(req, resp, timeout); err != nil {
		// fasthttp names a cut while it waits for an answer ErrTimeout,
		// and one in the middle of an answer's body by the socket's
		// own timeout.
		var ne net.Error
		if bounded && (errors.Is(err, fasthttp.ErrTimeout) || errors.As(err, &ne) && ne.Timeout()) {
			return "", 0, context.DeadlineExceeded // the run ended, not the gateway
		}
		return "", 0, err
	}
	if code := resp.StatusCode(); code >= 300 {
		return "", 0, client.ParseError(code, resp.Body())
	}
	siblings, _ := strconv.Atoi(string(resp.Header.Peek(client.SiblingsHeader)))
	return string(resp.Header.Peek(client.ContextHeader)), siblings, nil
}
