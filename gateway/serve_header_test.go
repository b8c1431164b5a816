package gateway

import (
	"bufio"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// addEach is how an item request's header was copied before: one Add per
// header. itemHeader must give the same header.
func addEach(fh *fasthttp.RequestHeader) http.Header {
	h := http.Header{}
	for k, v := range fh.All() {
		h.Add(string(k), string(v))
	}
	return h
}

func parseHeader(t *testing.T, raw string) *fasthttp.RequestHeader {
	t.Helper()
	var req fasthttp.Request
	if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return &req.Header
}

func TestItemHeader(t *testing.T) {
	cases := map[string]string{
		"typical GET": "GET /v1/tables/t/items/k HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ringtable-bench\r\nAuthorization: Bearer rt_x\r\n\r\n",
		"PUT with a context": "PUT /v1/tables/t/items/k HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer rt_x\r\nContent-Type: application/json\r\n" +
			"X-Ringtable-Context: AQEL\r\nContent-Length: 2\r\n\r\n{}",
		"lower-case and odd names":  "GET /x HTTP/1.1\r\nhost: h\r\nauthorization: Bearer a\r\nx-ringtable-context: c\r\nx-custom_name: 1\r\naccept-encoding: gzip\r\n\r\n",
		"repeated headers in order": "GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nAccept: a\r\nX-A: 2\r\nx-a: 3\r\nAccept: b\r\n\r\n",
		"empty values":              "GET /x HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nConnection: keep-alive\r\nAccept:\r\n\r\n",
		"no headers but the host":   "GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			fh := parseHeader(t, raw)
			if got, want := itemHeader(fh), addEach(fh); !reflect.DeepEqual(got, want) {
				t.Fatalf("itemHeader = %v, want %v", got, want)
			}
		})
	}
	fh := parseHeader(t, cases["typical GET"])
	n := testing.AllocsPerRun(100, func() { _ = itemHeader(fh) })
	each := testing.AllocsPerRun(100, func() { _ = addEach(fh) })
	t.Logf("copying a GET's header: %v allocations, %v with one Add each", n, each)
	if n > 4 {
		t.Errorf("copying a GET's header allocates %v times, want at most 4", n)
	}
}

func TestMethodName(t *testing.T) {
	for _, m := range []string{"GET", "PUT", "DELETE", "POST", "get", ""} {
		if got := methodName([]byte(m)); got != m {
			t.Errorf("methodName(%q) = %q", m, got)
		}
	}
}
