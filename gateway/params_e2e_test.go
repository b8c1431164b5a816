package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// A query parameter the request does not take is refused before anything
// is written: a misspelt ?ttl= must not store an item that never expires.
func TestUnknownQueryParameterWritesNothing(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		says               string
	}{
		{"PUT", "/v1/tables/t/items/a?tll=10", `{"v":1}`, http.StatusBadRequest, `unknown query parameter \"tll\": this request takes w, ttl, strict`},
		{"GET", "/v1/tables/t/items/a", "", http.StatusNotFound, ""},
		{"PUT", "/v1/tables/t/item?pk=a&ttl=3600", `{"v":2}`, http.StatusNoContent, ""},
		{"DELETE", "/v1/tables/t/items/a?ttl=1", "", http.StatusBadRequest, `unknown query parameter \"ttl\": this request takes w, strict`},
		{"GET", "/v1/tables/t/item?pk=a&r=3", "", http.StatusOK, `"v":2`},
		{"GET", "/v1/tables/t/items/a?R=3", "", http.StatusBadRequest, `unknown query parameter \"R\"`},
		{"GET", "/v1/tables?limit=1", "", http.StatusBadRequest, "takes none"},
		{"GET", "/v1/tables", "", http.StatusOK, `"name":"t"`},
		// TTLs as statements bound them: a longer one would overflow the
		// expiry time and store an item that never expires.
		{"PUT", "/v1/tables/t/items/b?ttl=630720001", `{"v":3}`, http.StatusBadRequest, `ttl=\"630720001\": must be a number of seconds from 0 (none) to 630720000 (20 years)`},
		{"POST", "/v1/tables", `{"name":"huge","partition_key":"id","ttl":9000000000000000000}`, http.StatusBadRequest, `ttl=9000000000000000000: must be a number of seconds from 0 (none) to 630720000`},
		{"GET", "/v1/tables/huge", "", http.StatusNotFound, ""},
		{"PUT", "/v1/tables/t/items/b?ttl=630720000", `{"v":3}`, http.StatusNoContent, ""},
		{"GET", "/v1/tables/t/items/b", "", http.StatusOK, `"expires":"20`},
		// A body that begins with a byte order mark is the JSON after it.
		{"PUT", "/v1/tables/t/items/bom", "\ufeff{\"v\":4}", http.StatusNoContent, ""},
		{"GET", "/v1/tables/t/items/bom", "", http.StatusOK, `"value":{"v":4}`},
		{"PUT", "/v1/tables/t/items/empty", "", http.StatusBadRequest, "the request body is empty: a PUT's body is the item"},
		{"PUT", "/v1/tables/t/items/empty", " \n", http.StatusBadRequest, "the request body is empty"},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		status, got, err := cl.Raw(ctx, tc.method, tc.path, nil, body)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		if status != tc.status || !strings.Contains(string(got), tc.says) {
			t.Errorf("%s %s: %d %s, want %d saying %s", tc.method, tc.path, status, got, tc.status, tc.says)
		}
	}
}

// A body sent with a Content-Encoding is refused, compressed or not,
// before anything is written: read as it came, gzip would be taken for
// bad JSON, and an uncompressed body under the header for the item.
func TestCompressedBodiesAreRefused(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"PUT", "/v1/tables/t/items/a", `{"v":1}`},
		{"PUT", "/v1/tables/t/items/a/b", `{"v":1}`},
		{"POST", "/v1/query", `{"statement":"PUT INTO t KEY ('a') VALUE {}"}`},
	} {
		status, got, err := cl.Raw(ctx, tc.method, tc.path, http.Header{"Content-Encoding": {"gzip"}}, []byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnsupportedMediaType || !strings.Contains(string(got), `"unsupported_encoding"`) || !strings.Contains(string(got), "send the body uncompressed") {
			t.Errorf("%s %s with Content-Encoding gzip: %d %s", tc.method, tc.path, status, got)
		}
	}
	if _, err := cl.Get(ctx, "t", client.Key{PK: "a"}, client.Options{}); !client.IsStatus(err, http.StatusNotFound) {
		t.Errorf("a after the refused writes: %v, want not found", err)
	}
	if status, _, err := cl.Raw(ctx, "PUT", "/v1/tables/t/items/a", http.Header{"Content-Encoding": {"identity"}}, []byte(`{"v":1}`)); err != nil || status != http.StatusNoContent {
		t.Errorf("PUT with Content-Encoding identity: %d %v", status, err)
	}
}
