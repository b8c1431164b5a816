package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// An answer the client cannot read (cut short by a proxy, or nested past
// what encoding/json reads) is an error, not a result without rows.
func TestQueryAnswerThatCannotBeRead(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		ok   bool
	}{
		"whole":     {`{"results":[{"statement":"GET FROM t KEY ('a')","kind":"rows","rows":[{"pk":"a","value":{"v":1}}]}]}`, true},
		"cut short": {`{"results":[{"statement":"GET FROM t KEY ('a')","kind":"rows","rows":[{"pk":"a","val`, false},
		"too deep":  {`{"results":[{"kind":"rows","rows":[{"pk":"a","value":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}]}]}`, false},
		"empty":     {``, false},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			res, err := New(srv.URL, srv.Client()).Query(context.Background(), QueryRequest{Statement: "GET FROM t KEY ('a')"})
			if tc.ok {
				if err != nil || len(res.Results) != 1 || len(res.Results[0].Rows) != 1 {
					t.Fatalf("Query = %+v, %v; want one row", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "reading the gateway's answer") {
				t.Fatalf("Query = %+v, %v; want an error reading the answer", res, err)
			}
		})
	}
}
