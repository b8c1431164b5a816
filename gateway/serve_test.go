package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// A served gateway answers item requests on its fast path and hands the
// rest to net/http. Every request below goes, over one kept-alive
// connection each, to a served gateway and to a second gateway's
// Handler (net/http alone) on the same cluster, and the answers must be
// the same: status, content type, the item headers, and the body
// wherever it does not carry a new version's stamp.
func TestServedGatewayAnswersAsNetHTTP(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	cfg := gateway.DefaultConfig()
	cfg.AdminKey = c.AdminKey
	gw, err := gateway.New(cfg, c.Connect("gateway-nethttp"))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	plain := httptest.NewServer(gw.Handler())
	defer plain.Close()
	served := c.Gateways[0].URL

	type req struct {
		method, path, body string
		noAuth             bool
		header             map[string]string
		stamped            bool // a write's answer: its context differs
		handsOff           bool
	}
	big := `{"v":"` + strings.Repeat("x", 500<<10) + `"}`
	huge := `{"v":"` + strings.Repeat("x", 2<<20) + `"}`
	script := []req{
		// The first two create the tables (through one gateway only).
		{method: "POST", path: "/v1/tables", body: `{"name":"t","partition_key":"id"}`},
		{method: "POST", path: "/v1/tables", body: `{"name":"s","partition_key":"id","sort_key":"at"}`},
		{method: "POST", path: "/v1/tables", body: `{"name":"t","partition_key":"id"}`},
		{method: "PUT", path: "/v1/tables/t/items/a", body: `{"v":1}`, stamped: true},
		{method: "GET", path: "/v1/tables/t/items/a"},
		{method: "PUT", path: "/v1/tables/t/items/a%2Fb", body: `{"v":"slash"}`, stamped: true},
		{method: "GET", path: "/v1/tables/t/items/a%2Fb"},
		{method: "PUT", path: "/v1/tables/t/items/sp%20ace%C3%A9", body: `{"v":"space"}`, stamped: true},
		{method: "GET", path: "/v1/tables/t/items/sp%20ace%C3%A9?r=1"},
		{method: "GET", path: "/v1/tables/t/items/sp%20ace%C3%A9?r=9"},
		{method: "GET", path: "/v1/tables/t/items/sp%20ace%C3%A9?strict=maybe"},
		{method: "PUT", path: "/v1/tables/s/items/p/1", body: `{"v":2}`, stamped: true},
		{method: "GET", path: "/v1/tables/s/items/p/1"},
		{method: "GET", path: "/v1/tables/s/items/p"},
		{method: "GET", path: "/v1/tables/t/items/a/extra"},
		{method: "GET", path: "/v1/tables/t/items/missing"},
		{method: "GET", path: "/v1/tables/nope/items/a"},
		{method: "GET", path: "/v1/tables/t/items/a", noAuth: true},
		{method: "GET", path: "/v1/tables/t/items/a", header: map[string]string{"Authorization": "Basic x"}},
		{method: "PUT", path: "/v1/tables/t/items/bad", body: `{"v":`},
		{method: "PUT", path: "/v1/tables/t/items/bad", body: `[1]`},
		{method: "PUT", path: "/v1/tables/t/items/big", body: big},
		{method: "PUT", path: "/v1/tables/t/items/a", body: `{"v":3}`, header: map[string]string{gateway.ContextHeader: "not-a-context"}},
		{method: "PUT", path: "/v1/tables/t/items/a?ttl=-1", body: `{"v":3}`},
		{method: "PUT", path: "/v1/tables/t/items/a?tll=10", body: `{"v":3}`},
		{method: "GET", path: "/v1/tables/t/items/a?w=2"},
		{method: "DELETE", path: "/v1/tables/t/items/a?ttl=5"},
		{method: "GET", path: "/v1/tables/t/items/a?r=%zz"},
		{method: "PUT", path: "/v1/tables/t/items/a", body: `{"v":3}`, header: map[string]string{gateway.ContextHeader: strings.Repeat("A", 60<<10)}},
		{method: "PUT", path: "/v1/tables/t/items/a", body: `{"v":3}`, header: map[string]string{gateway.ContextHeader: strings.Repeat("A", 65<<10)}},
		{method: "GET", path: "/v1/tables/t/items/.", handsOff: true}, // the first request net/http serves
		{method: "GET", path: "/v1/tables/t/items/.."},
		{method: "GET", path: "/v1/tables/t/items//x"},
		{method: "GET", path: "/v1/tables/t/items/%2E"},
		{method: "GET", path: "/v1/tables/t/items/%2E%2E"},
		{method: "GET", path: "/v1/tables/t/items/a/%2e"},
		{method: "PUT", path: "/v1/tables/t/items/a%2F%2Fb", body: `{"v":4}`, stamped: true},
		{method: "GET", path: "/v1/tables/t/items/a%2F%2Fb"},
		{method: "GET", path: "/v1/tables/t/items/x%2Fitem"},
		{method: "GET", path: "/v1/tables/t%2Fx/items/a"},
		{method: "GET", path: "/v1/tables/t/item?pk=a"},
		{method: "HEAD", path: "/v1/tables/t/items/a"},
		{method: "POST", path: "/v1/tables/t/items/a", body: `{}`},
		{method: "GET", path: "/v1/tables/t"},
		{method: "POST", path: "/v1/query", body: `{"statement":"GET FROM t WHERE id = 'a'"}`},
		{method: "GET", path: "/v1/tables/t/items/a"}, // after a hand-off, on the same connection
		{method: "DELETE", path: "/v1/tables/t/items/a%2Fb", stamped: true},
		{method: "GET", path: "/v1/tables/t/items/a%2Fb"},
		{method: "GET", path: "/healthz"},
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	fresh := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}} // a connection only items used
	do := func(hc *http.Client, base string, r req) (*http.Response, []byte) {
		t.Helper()
		hr, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if !r.noAuth {
			hr.Header.Set("Authorization", "Bearer "+c.TenantKey)
		}
		for k, v := range r.header {
			hr.Header.Set(k, v)
		}
		resp, err := hc.Do(hr)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	// Item requests stay on the fast path: only the scrapes of the
	// metrics (each on a connection of its own) are handed off.
	handoffs := func() float64 {
		t.Helper()
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(served + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "ringtable_gateway_http_handoffs_total "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		}
		t.Fatal("no ringtable_gateway_http_handoffs_total in /metrics")
		return 0
	}
	var before float64
	for i, r := range script {
		if i == 3 {
			before = handoffs()
		}
		// Each write goes to both gateways (without a context, so it adds
		// a sibling), and a read through either sees the same versions.
		if r.handsOff {
			if n := handoffs() - before; n != 1 {
				t.Fatalf("%v connections handed to net/http during item requests, want none", n-1)
			}
		}
		cl := fresh
		if i < 3 {
			cl = hc // hands its connection off
		}
		got, gotBody := do(cl, served, r)
		if i < 2 {
			if got.StatusCode != http.StatusCreated {
				t.Fatalf("create table: %d %s", got.StatusCode, gotBody)
			}
			continue
		}
		want, wantBody := do(hc, plain.URL, r)
		name := r.method + " " + r.path
		if got.StatusCode != want.StatusCode {
			t.Errorf("%s: served %d, net/http %d (%s / %s)", name, got.StatusCode, want.StatusCode, gotBody, wantBody)
			continue
		}
		for _, h := range []string{"Content-Type", "Allow", "Location", "Retry-After"} {
			if g, w := got.Header.Get(h), want.Header.Get(h); g != w {
				t.Errorf("%s: %s %q, net/http %q", name, h, g, w)
			}
		}
		if r.stamped {
			// Each gateway's write is stamped anew (and adds a sibling).
			for _, h := range []string{gateway.ContextHeader, gateway.SiblingsHeader} {
				if (got.Header.Get(h) == "") != (want.Header.Get(h) == "") {
					t.Errorf("%s: %s %q, net/http %q", name, h, got.Header.Get(h), want.Header.Get(h))
				}
			}
			continue
		}
		if g, w := got.Header.Get(gateway.ContextHeader), want.Header.Get(gateway.ContextHeader); g != w {
			t.Errorf("%s: context %q, net/http %q", name, g, w)
		}
		if !bytes.Equal(gotBody, wantBody) {
			t.Errorf("%s: body\n%s\nnet/http\n%s", name, gotBody, wantBody)
		}
	}
	// The context of a read is the same through either gateway.
	get := req{method: "GET", path: "/v1/tables/t/items/a"}
	a, ab := do(fresh, served, get)
	b, bb := do(hc, plain.URL, get)
	if a.StatusCode != http.StatusOK || !bytes.Equal(ab, bb) || a.Header.Get(gateway.ContextHeader) != b.Header.Get(gateway.ContextHeader) {
		t.Fatalf("reads of one item differ: %s %q / %s %q", ab, a.Header.Get(gateway.ContextHeader), bb, b.Header.Get(gateway.ContextHeader))
	}
	// A body over the fast path's bound is refused with the API's error.
	resp, body := do(fresh, served, req{method: "PUT", path: "/v1/tables/t/items/huge", body: huge})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"code":"too_large"`) {
		t.Fatalf("huge body: %d %s", resp.StatusCode, body)
	}
	// So are headers over its read buffer.
	resp, body = do(fresh, served, req{method: "GET", path: "/v1/tables/t/items/a", header: map[string]string{"X-Padding": strings.Repeat("p", 100<<10)}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "headers are larger than") {
		t.Fatalf("huge headers: %d %s", resp.StatusCode, body)
	}
}

// A change feed streamed by a served gateway (its connection handed to
// net/http) gets events, and its stream ends when the client goes away.
func TestServedGatewayStreamsFeeds(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	base := c.Gateways[0].URL
	send := func(method, path, body string) *http.Response {
		t.Helper()
		r, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+c.TenantKey)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := send("POST", "/v1/tables", `{"name":"f","partition_key":"id"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create table: %s", resp.Status)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, err := http.NewRequestWithContext(sctx, "GET", base+"/v1/tables/f/feed", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+c.TenantKey)
	stream, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if stream.StatusCode != http.StatusOK || stream.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("feed: %s %q", stream.Status, stream.Header.Get("Content-Type"))
	}
	resp = send("PUT", "/v1/tables/f/items/k1", `{"v":"event"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("put: %s", resp.Status)
	}
	lines := bufio.NewScanner(stream.Body)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if time.Now().After(deadline) || !lines.Scan() {
			t.Fatalf("no event for the write on the stream (%v)", lines.Err())
		}
		if strings.HasPrefix(lines.Text(), "data: ") && strings.Contains(lines.Text(), `"event"`) {
			break
		}
	}
	cancel()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		buf := make([]byte, 1<<22)
		if !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "gateway.(*Gateway).streamFeed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the feed's stream still runs 10s after its client went away")
		}
	}
}

// A client still sending a request the gateway refused as too large (its
// headers past the read buffer) gets the refusal, not a reset: the
// gateway reads on for a while after it answered. Without that, the bytes
// that come after the close make the kernel reset the connection, and
// the client's next write fails, as Go's own client then reports it.
func TestTooLargeRequestAnsweredNotReset(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.Gateways[0].URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "GET /v1/tables/t/items/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + c.TenantKey + "\r\nX-Padding: "
	if _, err := conn.Write([]byte(head + strings.Repeat("p", 100<<10))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the gateway answers and closes meanwhile
	for i := range 4 {
		if _, err := conn.Write([]byte(strings.Repeat("p", 16<<10))); err != nil {
			t.Fatalf("write %d after the answer: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := conn.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatalf("last write: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "headers are larger than") {
		t.Fatalf("answer %d %s, want 413 about the headers", resp.StatusCode, body)
	}
}
