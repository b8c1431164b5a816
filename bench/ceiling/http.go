package main

// The ideal round behind HTTP: the same replicas and rounds, answering
// the requests `ringtable bench` sends a gateway, so that one load
// generator in its own process measures both. What ringtable adds to a
// write or a read beyond this (versioning, Merkle trees, the stamper's
// forwarding, change feeds, tenants) is then told apart from what HTTP
// and a load generator beside the server cost in any design.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringtable/ringtable/gateway/client"
)

var itemsPrefix = []byte("/v1/tables/")

// serveHTTP answers on addr until ctx ends: GET /healthz, POST /v1/tables
// (any table is accepted, and echoed back), and PUT and GET of
// /v1/tables/{table}/items/{key}, whatever the table, as one quorum round
// each. A PUT answers 204 with a context header, a GET 200 with the
// value, or 404 when no replica has it.
func (b *bench) serveHTTP(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := &fasthttp.Server{
		Handler:               b.handle,
		ReadTimeout:           time.Minute,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
	}
	go func() {
		<-ctx.Done()
		_ = s.Shutdown()
	}()
	fmt.Fprintf(os.Stderr, "ceiling: serving the ideal round on http://%s (Ctrl-C stops)\n", ln.Addr())
	err = s.Serve(ln)
	if n := b.late.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "ceiling: %d replies to earlier rounds reached later ones and were not counted\n", n)
	}
	return err
}

func (b *bench) handle(c *fasthttp.RequestCtx) {
	path := c.Path()
	if string(path) == "/healthz" {
		c.SetStatusCode(fasthttp.StatusOK)
		return
	}
	if c.IsGet() && string(path) == "/v1/tables" {
		// ringtable bench lists the tables first, to reach the gateway
		// with its key before it announces a load.
		c.SetStatusCode(fasthttp.StatusOK)
		c.SetContentType("application/json")
		c.SetBodyString(`{"tables":[]}`)
		return
	}
	if c.IsPost() && string(path) == "/v1/tables" {
		c.SetStatusCode(fasthttp.StatusCreated)
		c.SetContentType("application/json")
		c.SetBody(c.PostBody())
		return
	}
	rest, ok := bytes.CutPrefix(path, itemsPrefix)
	_, key, found := bytes.Cut(rest, []byte("/items/"))
	if !ok || !found || len(key) == 0 {
		c.Error("ceiling: only GET and POST /v1/tables and /v1/tables/{table}/items/{key}", fasthttp.StatusNotFound)
		return
	}
	switch {
	case c.IsPut():
		if _, err := b.round(b.puts, putPayload(key, c.PostBody()), b.c.quorum, ack); err != nil {
			c.Error(err.Error(), fasthttp.StatusServiceUnavailable)
			return
		}
		c.Response.Header.Set(client.ContextHeader, "c")
		c.SetStatusCode(fasthttp.StatusNoContent)
	case c.IsGet():
		// Replicas answer a key they lack with an empty value.
		v, err := b.round(b.gets, getPayload(key), b.c.quorum, func(p []byte) bool { return len(p) > 0 })
		if err != nil {
			c.Error(err.Error(), fasthttp.StatusNotFound)
			return
		}
		c.Response.Header.Set(client.ContextHeader, "c")
		c.SetContentType("application/json")
		c.SetBody(v)
	default:
		c.Error("ceiling: method not allowed", fasthttp.StatusMethodNotAllowed)
	}
}
