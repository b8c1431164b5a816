package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/messaging/wire"
)

// Errors the handlers return; httpError maps them to statuses.
var (
	// ErrNotFound is returned when a table or item does not exist.
	ErrNotFound = errors.New("not found")
	// ErrTableExists is returned when creating a table that exists.
	ErrTableExists = errors.New("table exists")
	// ErrTenantExists is returned when creating a tenant of a name that
	// another tenant has.
	ErrTenantExists = errors.New("tenant exists")
	// ErrTooFewNodes is returned when a node's leave would leave fewer
	// nodes than the replicas a key should have.
	ErrTooFewNodes = errors.New("too few nodes")
	// ErrUnauthorized is returned when a request has no valid credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden is returned when valid credentials lack the right.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable is returned when what a request needs exists but does
	// not answer (a storage node that is down).
	ErrUnavailable = errors.New("unavailable")
	// ErrMethodNotAllowed is returned for a method that a path does not
	// take.
	ErrMethodNotAllowed = errors.New("method not allowed")
	// ErrUnsupportedEncoding is returned for a request body sent with a
	// Content-Encoding (the gateway takes bodies uncompressed).
	ErrUnsupportedEncoding = errors.New("unsupported content encoding")
	// ErrContextOfAnotherItem is returned for a write whose context was
	// read from another item (or from the same key of a dropped table).
	ErrContextOfAnotherItem = errors.New("context of another item")
)

// BadRequestError is a client mistake; its message says what and where.
// Err, when set, is the underlying error (a positioned query error).
type BadRequestError struct {
	Msg string
	Err error
}

func (e *BadRequestError) Error() string { return e.Msg }

func (e *BadRequestError) Unwrap() error { return e.Err }

func badRequest(format string, args ...any) error {
	return &BadRequestError{Msg: fmt.Sprintf(format, args...)}
}

// TooLargeError is an input over a size limit.
type TooLargeError struct{ Msg string }

func (e *TooLargeError) Error() string { return e.Msg }

// errorBody is the JSON error shape of every non-2xx answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		// RetryAfterMillis is a 429's wait to the millisecond, where its
		// Retry-After header has whole seconds.
		RetryAfterMillis int64 `json:"retry_after_ms,omitempty"`
	} `json:"error"`
}

// classify is the one place errors become HTTP statuses and codes.
func classify(err error) (status int, code string) {
	var bad *BadRequestError
	var big *TooLargeError
	var we *wire.Error
	var rl *RateLimitedError
	var qe *QuotaError
	switch {
	case errors.As(err, &rl):
		return http.StatusTooManyRequests, "rate_limited"
	case errors.As(err, new(*TooManyFeedsError)):
		return http.StatusTooManyRequests, "too_many_feeds"
	case errors.As(err, &qe):
		return http.StatusForbidden, "quota_exceeded"
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, ErrUnsupportedEncoding):
		return http.StatusUnsupportedMediaType, "unsupported_encoding"
	case errors.Is(err, ErrContextOfAnotherItem):
		return http.StatusBadRequest, "context_of_another_item"
	case errors.As(err, &bad):
		return http.StatusBadRequest, "bad_request"
	case errors.As(err, &big):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed, "method_not_allowed"
	case errors.Is(err, ErrTableExists):
		return http.StatusConflict, "table_exists"
	case errors.Is(err, ErrTenantExists):
		return http.StatusConflict, "tenant_exists"
	case errors.Is(err, ErrTooFewNodes):
		return http.StatusConflict, "too_few_nodes"
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, coord.ErrQuorum):
		return http.StatusServiceUnavailable, "quorum_not_met"
	case errors.As(err, &we):
		return we.Code.HTTPStatus(), we.Code.String()
	case errors.Is(err, messaging.ErrFeedUnavailable):
		return http.StatusServiceUnavailable, "feed_unavailable"
	case errors.Is(err, messaging.ErrNoAccounts):
		return http.StatusNotImplemented, "not_configured"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "timeout"
	}
	return http.StatusInternalServerError, "internal"
}

func writeError(w http.ResponseWriter, err error) int {
	status, code := classify(err)
	var body errorBody
	body.Error.Code = code
	body.Error.Message = err.Error()
	if status == http.StatusInternalServerError {
		body.Error.Message = "internal error: " + err.Error()
	}
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", rl.retryAfterSeconds())
		body.Error.RetryAfterMillis = rl.retryAfterMillis()
	}
	writeJSON(w, status, body)
	return status
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
