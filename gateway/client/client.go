// Package client is a typed Go client for the gateway's HTTP API. It is
// what the shell, the bench tool and the end-to-end tests use, and it
// depends on nothing of ringtable but the API's JSON.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ContextHeader carries an item's causal context.
const ContextHeader = "X-Ringtable-Context"

// SiblingsHeader carries, on a write's answer, how many versions the item
// has after the write.
const SiblingsHeader = "X-Ringtable-Siblings"

// Client talks to one gateway.
type Client struct {
	base   string
	hc     *http.Client
	apiKey string
}

// New returns a client for the gateway at base (e.g. http://127.0.0.1:8080).
// hc may be nil for a default client tuned for many concurrent requests.
func New(base string, hc *http.Client) *Client {
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 1024
		tr.MaxIdleConnsPerHost = 1024
		// Bounds a feed's wait for its headers too (feeds have no Timeout).
		tr.ResponseHeaderTimeout = 30 * time.Second
		hc = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	if base != "" && !strings.Contains(base, "://") {
		base = "http://" + base // "127.0.0.1:8080", as --http takes it
	}
	return &Client{base: strings.TrimRight(base, "/"), hc: hc}
}

// WithAPIKey returns a copy of c that authenticates with key.
func (c *Client) WithAPIKey(key string) *Client {
	cc := *c
	cc.apiKey = key
	return &cc
}

// Base returns the gateway URL.
func (c *Client) Base() string { return c.base }

// APIKey returns the key c authenticates with.
func (c *Client) APIKey() string { return c.apiKey }

// Error is an error answer of the API.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter is how long a rate-limited request (429) should wait
	// before it is sent again, from its Retry-After header.
	RetryAfter time.Duration
	// foreign marks an answer that is not the API's JSON error (a proxy's
	// page, another service at the URL): its Code is the status's text.
	foreign bool
}

// Error renders "401 unauthorized: malformed API key": a message that
// begins with its code (as the gateway's 401s and 403s do) says it once.
func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, strings.TrimPrefix(e.Message, e.Code+": "))
}

// IsStatus reports whether err is an API error with the given status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Table is a table definition.
type Table struct {
	ID           string    `json:"id,omitempty"`
	Name         string    `json:"name"`
	PartitionKey string    `json:"partition_key"`
	SortKey      string    `json:"sort_key,omitempty"`
	N            int       `json:"n,omitempty"`
	R            int       `json:"r,omitempty"`
	W            int       `json:"w,omitempty"`
	Conflict     string    `json:"conflict,omitempty"`
	TTL          int64     `json:"ttl,omitempty"`
	MaxSiblings  int       `json:"max_siblings,omitempty"`
	SiblingWarn  int       `json:"sibling_warn,omitempty"`
	Strict       bool      `json:"strict,omitempty"`
	Created      time.Time `json:"created,omitzero"`
}

// Version is one version of an item.
type Version struct {
	Value    json.RawMessage `json:"value,omitempty"`
	Deleted  bool            `json:"deleted,omitempty"`
	Modified time.Time       `json:"modified"`
	Expires  *time.Time      `json:"expires,omitempty"`
}

// Item is a read's answer: one entry per sibling, and the context that
// covers them all.
type Item struct {
	Items   []Version `json:"items"`
	Context string    `json:"context"`
}

// Key addresses an item; SK is empty for tables without a sort key.
type Key struct{ PK, SK string }

// Options tune one request; zero values mean the table's defaults. R is
// for reads; W and Context for writes and deletes; TTL for writes. A
// request given an option it does not take fails, as the gateway refuses
// a query parameter it does not take.
type Options struct {
	R, W    int
	Context string // for writes: the context of the read being resolved
	TTL     int64  // seconds
	Strict  *bool  // override the table's sloppy/strict quorum mode
}

// check refuses the options op does not take.
func (o Options) check(op string) error {
	var bad string
	switch {
	case op != "Get" && o.R != 0:
		bad = "R"
	case op == "Get" && o.W != 0:
		bad = "W"
	case op == "Get" && o.Context != "":
		bad = "Context"
	case op != "Put" && o.TTL != 0:
		bad = "TTL"
	}
	if bad != "" {
		return fmt.Errorf("client: %s does not take Options.%s", op, bad)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, hdr http.Header, body []byte) (*http.Response, []byte, error) {
	u := c.base + path
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rb)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode >= 300 {
		e, _ := apiError(resp.StatusCode, data)
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 && e.RetryAfter == 0 {
			e.RetryAfter = time.Duration(secs) * time.Second // a proxy's, or a server's without the body's
		}
		return resp, data, e
	}
	return resp, data, nil
}

// ParseError makes the Error of a refused request from its status and
// body, for callers that send requests of their own.
func ParseError(status int, body []byte) *Error {
	e, _ := apiError(status, body)
	return e
}

// apiError makes the Error of a refused request from its body; api says
// whether the body was the API's JSON error (not, say, a router's 404).
func apiError(status int, body []byte) (e *Error, api bool) {
	var eb struct {
		Error struct {
			Code, Message    string
			RetryAfterMillis int64 `json:"retry_after_ms"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		return &Error{Status: status, Code: eb.Error.Code, Message: eb.Error.Message,
			RetryAfter: time.Duration(eb.Error.RetryAfterMillis) * time.Millisecond}, true
	}
	return &Error{Status: status, Code: http.StatusText(status), Message: foreignBody(body), foreign: true}, false
}

// foreignBody says what a server that is not a gateway (a proxy, or
// another service at the URL) answered: its words, without its markup.
func foreignBody(body []byte) string {
	const hint = "not a ringtable answer: is the URL a gateway's?"
	text := strings.TrimSpace(string(body))
	if strings.HasPrefix(text, "<") {
		text = ""
		if m := htmlTitle.FindStringSubmatch(string(body)); m != nil {
			text = m[1]
		}
	}
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > 200 {
		text = string(r[:200]) + "…"
	}
	if text == "" {
		return "(" + hint + ")"
	}
	return text + " (" + hint + ")"
}

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// ItemPath is the URL path (and query, for keys a path cannot carry) of
// an item.
func ItemPath(table string, k Key) string { return itemPath(table, k) }

func itemPath(table string, k Key) string {
	if dotSegment(k.PK) || dotSegment(k.SK) {
		// URL paths resolve "." and ".." away: use the query form.
		q := url.Values{"pk": {k.PK}}
		if k.SK != "" {
			q.Set("sk", k.SK)
		}
		return "/v1/tables/" + url.PathEscape(table) + "/item?" + q.Encode()
	}
	p := "/v1/tables/" + url.PathEscape(table) + "/items/" + url.PathEscape(k.PK)
	if k.SK != "" {
		p += "/" + url.PathEscape(k.SK)
	}
	return p
}

func dotSegment(s string) bool { return s == "." || s == ".." }

// CreateTable creates a table.
func (c *Client) CreateTable(ctx context.Context, t Table) (*Table, error) {
	b, _ := json.Marshal(t)
	_, data, err := c.do(ctx, http.MethodPost, "/v1/tables", nil, nil, b)
	if err != nil {
		return nil, err
	}
	var out Table
	return &out, json.Unmarshal(data, &out)
}

// ListTables lists the tenant's tables.
func (c *Client) ListTables(ctx context.Context) ([]Table, error) {
	_, data, err := c.do(ctx, http.MethodGet, "/v1/tables", nil, nil, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Tables []Table `json:"tables"`
	}
	return out.Tables, json.Unmarshal(data, &out)
}

// DescribeTable returns one table's definition.
func (c *Client) DescribeTable(ctx context.Context, name string) (*Table, error) {
	_, data, err := c.do(ctx, http.MethodGet, "/v1/tables/"+url.PathEscape(name), nil, nil, nil)
	if err != nil {
		return nil, err
	}
	var out Table
	return &out, json.Unmarshal(data, &out)
}

// DropTable drops a table.
func (c *Client) DropTable(ctx context.Context, name string) error {
	_, _, err := c.do(ctx, http.MethodDelete, "/v1/tables/"+url.PathEscape(name), nil, nil, nil)
	return err
}

func writeQuery(op string, o Options) (url.Values, http.Header, error) {
	if err := o.check(op); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if o.W > 0 {
		q.Set("w", strconv.Itoa(o.W))
	}
	if o.R > 0 {
		q.Set("r", strconv.Itoa(o.R))
	}
	if o.TTL > 0 {
		q.Set("ttl", strconv.FormatInt(o.TTL, 10))
	}
	if o.Strict != nil {
		q.Set("strict", strconv.FormatBool(*o.Strict))
	}
	h := http.Header{}
	if o.Context != "" {
		h.Set(ContextHeader, o.Context)
	}
	return q, h, nil
}

// Put writes an item (a JSON object) and returns the new version's
// context.
func (c *Client) Put(ctx context.Context, table string, k Key, value []byte, o Options) (string, error) {
	w, err := c.PutItem(ctx, table, k, value, o)
	if err != nil {
		return "", err
	}
	return w.Context, nil
}

// Written is a write's answer.
type Written struct {
	// Context is the new version's context.
	Context string
	// Siblings is how many versions the item has after the write (1: no
	// concurrent ones); 0 when the gateway did not say.
	Siblings int
}

// PutItem writes like Put and also says whether the item now has
// siblings, which the caller resolves by reading it and writing with
// the read's context.
func (c *Client) PutItem(ctx context.Context, table string, k Key, value []byte, o Options) (*Written, error) {
	q, h, err := writeQuery("Put", o)
	if err != nil {
		return nil, err
	}
	resp, _, err := c.do(ctx, http.MethodPut, itemPath(table, k), q, h, value)
	if err != nil {
		return nil, err
	}
	n, _ := strconv.Atoi(resp.Header.Get(SiblingsHeader))
	return &Written{Context: resp.Header.Get(ContextHeader), Siblings: n}, nil
}

// Get reads an item. A missing item is an *Error with status 404.
func (c *Client) Get(ctx context.Context, table string, k Key, o Options) (*Item, error) {
	q, _, err := writeQuery("Get", o)
	if err != nil {
		return nil, err
	}
	_, data, err := c.do(ctx, http.MethodGet, itemPath(table, k), q, nil, nil)
	if err != nil {
		return nil, err
	}
	var out Item
	return &out, json.Unmarshal(data, &out)
}

// Delete deletes an item with the context of a read (or none).
func (c *Client) Delete(ctx context.Context, table string, k Key, o Options) (string, error) {
	q, h, err := writeQuery("Delete", o)
	if err != nil {
		return "", err
	}
	resp, _, err := c.do(ctx, http.MethodDelete, itemPath(table, k), q, h, nil)
	if err != nil {
		return "", err
	}
	return resp.Header.Get(ContextHeader), nil
}

// Raw sends a request and returns the status and body, for callers that
// test the API itself.
func (c *Client) Raw(ctx context.Context, method, path string, hdr http.Header, body []byte) (int, []byte, error) {
	resp, data, err := c.do(ctx, method, path, nil, hdr, body)
	var e *Error
	if errors.As(err, &e) {
		return e.Status, data, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, data, nil
}

// Tenant is a tenant as the admin API shows it.
type Tenant struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Created     time.Time `json:"created"`
	Quotas      Quotas    `json:"quotas"`
	StoredBytes int64     `json:"stored_bytes"`
}

// Quotas bound a tenant; zero fields mean "unchanged" or "the default".
type Quotas struct {
	RequestsPerSecond float64 `json:"requests_per_second,omitempty"`
	Burst             int     `json:"burst,omitempty"`
	Tables            int     `json:"tables,omitempty"`
	StoredBytes       int64   `json:"stored_bytes,omitempty"`
}

// NewKey is a freshly created API key: the secret is shown only once.
type NewKey struct {
	Tenant *Tenant `json:"tenant,omitempty"`
	KeyID  string  `json:"key_id"`
	APIKey string  `json:"api_key"`
}

// KeyInfo describes an API key without its secret.
type KeyInfo struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Revoked bool      `json:"revoked,omitempty"`
}

func (c *Client) jsonCall(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	_, data, err := c.do(ctx, method, path, nil, nil, body)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// CreateTenant creates a tenant (admin key) and returns its first key.
func (c *Client) CreateTenant(ctx context.Context, name string, q Quotas) (*NewKey, error) {
	var out NewKey
	err := c.jsonCall(ctx, http.MethodPost, "/v1/admin/tenants", map[string]any{"name": name, "quotas": q}, &out)
	return &out, err
}

// ListTenants lists every tenant (admin key).
func (c *Client) ListTenants(ctx context.Context) ([]Tenant, error) {
	var out struct {
		Tenants []Tenant `json:"tenants"`
	}
	err := c.jsonCall(ctx, http.MethodGet, "/v1/admin/tenants", nil, &out)
	return out.Tenants, err
}

// DeleteTenant deletes a tenant and, in time, its data (admin key).
func (c *Client) DeleteTenant(ctx context.Context, id string) error {
	return c.jsonCall(ctx, http.MethodDelete, "/v1/admin/tenants/"+url.PathEscape(id), nil, nil)
}

// SetQuotas changes a tenant's quotas (admin key).
func (c *Client) SetQuotas(ctx context.Context, id string, q Quotas) (*Tenant, error) {
	var out Tenant
	err := c.jsonCall(ctx, http.MethodPut, "/v1/admin/tenants/"+url.PathEscape(id)+"/quotas", q, &out)
	return &out, err
}

// CreateKey adds an API key to a tenant (admin key).
func (c *Client) CreateKey(ctx context.Context, tenant string) (*NewKey, error) {
	var out NewKey
	err := c.jsonCall(ctx, http.MethodPost, "/v1/admin/tenants/"+url.PathEscape(tenant)+"/keys", nil, &out)
	return &out, err
}

// ListKeys lists a tenant's keys (admin key).
func (c *Client) ListKeys(ctx context.Context, tenant string) ([]KeyInfo, error) {
	var out struct {
		Keys []KeyInfo `json:"keys"`
	}
	err := c.jsonCall(ctx, http.MethodGet, "/v1/admin/tenants/"+url.PathEscape(tenant)+"/keys", nil, &out)
	return out.Keys, err
}

// RevokeKey revokes one of a tenant's keys (admin key).
func (c *Client) RevokeKey(ctx context.Context, tenant, keyID string) error {
	return c.jsonCall(ctx, http.MethodDelete, "/v1/admin/tenants/"+url.PathEscape(tenant)+"/keys/"+url.PathEscape(keyID), nil, nil)
}

// AdminCall sends a request to the admin API and decodes the JSON answer
// into out (which may be nil): for operator views whose shape belongs to
// the nodes.
func (c *Client) AdminCall(ctx context.Context, method, path string, in, out any) error {
	return c.jsonCall(ctx, method, path, in, out)
}
