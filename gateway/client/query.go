package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// QueryRequest is the body of POST /v1/query.
type QueryRequest struct {
	// Statement holds one or more ';'-separated statements.
	Statement string `json:"statement"`
	// R and W override the read and write quorums of every statement that
	// does not say otherwise (the shell's CONSISTENCY); 0: the table's.
	R int `json:"r,omitempty"`
	W int `json:"w,omitempty"`
	// Trace asks for each statement's coordinator trace.
	Trace bool `json:"trace,omitempty"`
	// Cursor continues a SELECT from the "next" of a previous page.
	Cursor string `json:"cursor,omitempty"`
}

// QueryResponse is the answer of POST /v1/query: one result per statement
// executed, in order. Statements stop at the first error, which is then
// also in Error (and the HTTP status is the error's).
type QueryResponse struct {
	Results []Result    `json:"results"`
	Error   *QueryError `json:"error,omitempty"`
}

// QueryError is a statement's error. Line and Column (1-based, in the
// whole request's text) are set for parse and validation errors.
type QueryError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Statement int    `json:"statement"` // index of the failing statement
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
	// RetryAfter is set when the request was rate limited (429): how long
	// to wait before sending statement Statement and those after it again
	// (the results of those before it are in the response).
	RetryAfter time.Duration `json:"-"`
}

func (e *QueryError) Error() string { return e.Message }

// Result kinds.
const (
	KindOK     = "ok"     // CREATE, DROP, PUT, DELETE: Message, Affected, Context
	KindRows   = "rows"   // GET, SELECT: Columns, Rows, Next
	KindTables = "tables" // SHOW TABLES: Tables
	KindTable  = "table"  // DESCRIBE: Table
)

// Result is one statement's outcome.
type Result struct {
	Statement string `json:"statement"` // canonical text of the statement
	Kind      string `json:"kind"`
	Message   string `json:"message,omitempty"`
	Affected  int    `json:"affected,omitempty"`
	Context   string `json:"context,omitempty"` // PUT/DELETE: the new version's context
	// Siblings is, for a PUT or DELETE, how many versions the item has
	// after it: more than 1 when the write did not supersede them all.
	Siblings int      `json:"siblings,omitempty"`
	Columns  []string `json:"columns,omitempty"` // projected columns; empty for *
	Rows     []Row    `json:"rows,omitempty"`
	// Next, when set, continues a SELECT: send it as QueryRequest.Cursor
	// with the same statement.
	Next   string       `json:"next,omitempty"`
	Tables []Table      `json:"tables,omitempty"`
	Table  *Table       `json:"table,omitempty"`
	Trace  []TraceEvent `json:"trace,omitempty"`
	Millis float64      `json:"ms"`
}

// Row is one version of one item. An item with siblings gives one row per
// sibling, numbered Sibling 1..Siblings, all with the same Context (the
// one that resolves them all).
type Row struct {
	PK       string          `json:"pk"`
	SK       string          `json:"sk,omitempty"`
	Value    json.RawMessage `json:"value,omitempty"` // the item, or its projection
	Deleted  bool            `json:"deleted,omitempty"`
	Modified time.Time       `json:"modified"`
	Sibling  int             `json:"sibling"`
	Siblings int             `json:"siblings"`
	Context  string          `json:"context"`
}

// TraceEvent is one step of a coordinator's round: a message sent to a
// replica, its answer and how long it took, a fallback used, a repair
// sent.
type TraceEvent struct {
	AtMillis float64 `json:"at_ms"`
	Node     string  `json:"node,omitempty"`
	Event    string  `json:"event"` // "send put", "reply ok", "no responders", "timeout", "read repair", ...
	Detail   string  `json:"detail,omitempty"`
}

// Query runs statements. A statement error comes back as *QueryError
// (with the results of the statements before it in the response).
func (c *Client) Query(ctx context.Context, req QueryRequest) (*QueryResponse, error) {
	body, _ := json.Marshal(req)
	_, data, err := c.do(ctx, http.MethodPost, "/v1/query", nil, nil, body)
	var out QueryResponse
	var derr error
	if data != nil {
		if derr = json.Unmarshal(data, &out); derr == nil && out.Error != nil {
			if e := (*Error)(nil); errors.As(err, &e) {
				out.Error.RetryAfter = e.RetryAfter
			}
			return &out, out.Error
		}
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			msg := e.Message
			if e.foreign {
				msg = e.Error() // its status says more than its words
			}
			return &out, &QueryError{Code: e.Code, Message: msg, RetryAfter: e.RetryAfter}
		}
		return nil, err
	}
	if derr != nil {
		// An answer that cannot be read must not pass for one without rows.
		return nil, fmt.Errorf("reading the gateway's answer: %w", derr)
	}
	return &out, nil
}
