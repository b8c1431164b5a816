package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestOptionsCheck(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		op  string
		o   Options
		bad string // the option refused, "" for none
	}{
		{"Get", Options{R: 3, Strict: &yes}, ""},
		{"Get", Options{W: 2}, "W"},
		{"Get", Options{Context: "AQ"}, "Context"},
		{"Get", Options{TTL: 5}, "TTL"},
		{"Put", Options{W: 3, Context: "AQ", TTL: 5, Strict: &yes}, ""},
		{"Put", Options{R: 2}, "R"},
		{"Delete", Options{W: 3, Context: "AQ"}, ""},
		{"Delete", Options{TTL: 5}, "TTL"},
		{"Delete", Options{R: 1}, "R"},
	} {
		_, _, err := writeQuery(tc.op, tc.o)
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%s %+v: %v", tc.op, tc.o, err)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), "Options."+tc.bad)):
			t.Errorf("%s %+v: error %v, want Options.%s refused", tc.op, tc.o, err, tc.bad)
		}
	}
}

// A server at the URL that is not a gateway answers in its own words,
// which the error keeps without markup and with a hint.
func TestForeignErrorBody(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"<!DOCTYPE HTML>\n<html><head><TITLE>Error\n response</TITLE></head><body><h1>501</h1></body></html>", "Error response (not a ringtable answer: is the URL a gateway's?)"},
		{"<html><body>nothing</body></html>", "(not a ringtable answer: is the URL a gateway's?)"},
		{"upstream timed out\n", "upstream timed out (not a ringtable answer: is the URL a gateway's?)"},
		{"", "(not a ringtable answer: is the URL a gateway's?)"},
		{strings.Repeat("é", 300), strings.Repeat("é", 200) + "… (not a ringtable answer: is the URL a gateway's?)"},
		{`{"error":{"code":"bad_request","message":"m"}}`, "m"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotImplemented)
			_, _ = w.Write([]byte(c.body))
		}))
		_, err := New(srv.URL, nil).WithAPIKey("k").ListTables(context.Background())
		srv.Close()
		var e *Error
		if !errors.As(err, &e) || e.Status != 501 || e.Message != c.want {
			t.Errorf("body %.40q: %v, want 501 with %q", c.body, err, c.want)
		}
	}
}

// A statement's error from such a server keeps the status, which says
// more than the page's words.
func TestForeignQueryError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><title>Bad Gateway</title></html>"))
	}))
	defer srv.Close()
	_, err := New(srv.URL, nil).Query(context.Background(), QueryRequest{Statement: "SHOW TABLES"})
	if want := "502 Bad Gateway: Bad Gateway (not a ringtable answer: is the URL a gateway's?)"; err == nil || err.Error() != want {
		t.Errorf("query: %v, want %q", err, want)
	}
}

func TestErrorText(t *testing.T) {
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{Status: 401, Code: "unauthorized", Message: "unauthorized: malformed API key"}, "401 unauthorized: malformed API key"},
		{Error{Status: 404, Code: "not_found", Message: `table "t": not found`}, `404 not_found: table "t": not found`},
		{Error{Status: 403, Code: "forbidden", Message: "forbidden"}, "403 forbidden: forbidden"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e, got, c.want)
		}
	}
}

// A gateway given as host:port, as --http takes it, is reached over HTTP.
func TestBaseWithoutScheme(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080":         "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/": "http://127.0.0.1:8080",
		"https://gw.example":     "https://gw.example",
		"gw.example:443/":        "http://gw.example:443",
	} {
		if got := New(in, nil).Base(); got != want {
			t.Errorf("New(%q).Base() = %q, want %q", in, got, want)
		}
	}
}
