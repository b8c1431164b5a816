package gateway

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckParams(t *testing.T) {
	for _, tc := range []struct {
		pattern, op, query string
		err                string // a part of the error, "" for none
	}{
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: ""},
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: "w=3&ttl=10&strict=true"},
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: "tll=10", err: `unknown query parameter "tll": this request takes w, ttl, strict`},
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: "W=3", err: `"W"`},
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: "r=1", err: `"r"`},
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: "ttl=%zz", err: "query string"},
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: "pk=a", err: `"pk"`},
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: "w=2&w=3", err: `query parameter "w" is given 2 times`},
		// Of several unknown parameters, the first in order is named.
		{pattern: "PUT /v1/tables/{table}/items/{pk}", op: "put", query: "zz=1&aa=2&mm=3", err: `unknown query parameter "aa"`},
		{pattern: "GET /v1/tables/{table}/items/{pk}", op: "get", query: "r=1&strict=false"},
		{pattern: "GET /v1/tables/{table}/items/{pk}", op: "get", query: "w=1", err: `"w"`},
		{pattern: "DELETE /v1/tables/{table}/items/{pk}", op: "delete", query: "ttl=5", err: `"ttl"`},
		// The /item form carries the keys in its query.
		{pattern: "GET /v1/tables/{table}/item", op: "get", query: "pk=..&sk=x&r=1"},
		{pattern: "PUT /v1/tables/{table}/item", op: "put", query: "pk=..&ttl=1"},
		{pattern: "GET /v1/tables/{table}/item", op: "get", query: "pk=a&key=b", err: "takes pk, sk, r, strict"},
		{pattern: "GET /v1/tables/{table}/feed", op: "feed", query: "from_seq=1"},
		{pattern: "GET /v1/tables/{table}/feed", op: "feed", query: "from=1", err: `unknown query parameter "from"`},
		{pattern: "GET /v1/tables/{table}/feed", op: "feed", query: "from_seq=1&limit=10", err: `"limit"`},
		{pattern: "GET /v1/tables", op: "list_tables", query: "limit=10", err: "this request takes none"},
		{pattern: "POST /v1/admin/repair", op: "admin_repair", query: "tenant=x&table=y"},
		{pattern: "GET /v1/admin/status", op: "admin_status", query: "node=n1"},
		{pattern: "GET /v1/admin/status", op: "admin_status", query: "nodes=n1", err: "takes node"},
	} {
		_, err := checkParams(tc.query, paramsOf(tc.pattern, tc.op))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s ?%s: %v", tc.pattern, tc.query, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s ?%s: error %v, want one saying %q", tc.pattern, tc.query, err, tc.err)
		}
		var bad *BadRequestError
		if err != nil && !errors.As(err, &bad) {
			t.Errorf("%s ?%s: %T is not a bad request", tc.pattern, tc.query, err)
		}
	}
}
