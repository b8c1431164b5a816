package shell

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/ringtable/ringtable/gateway/client"
)

// Evaluator executes the statements the shell does not run itself.
//
// Query sends req to a gateway and returns its answer. As with
// client.Query, a failed statement returns the response (with the results
// of any statements before it) and a *client.QueryError; other errors mean
// no answer. It must honour ctx: Ctrl-C cancels it. The shell calls it from
// one goroutine at a time and does not keep the response.
type Evaluator interface {
	Query(ctx context.Context, req client.QueryRequest) (*client.QueryResponse, error)
}

// Watcher is an Evaluator that can also follow a table's change feed (the
// optional capability WATCH needs).
//
// Watch follows w.Table's feed from just after w.LastID ("" for new events
// only): it calls w.Opened (if set) once the gateway accepted the feed, then
// w.Event with each event in order, until ctx ends (it then returns nil),
// Event returns an error (returned), or the feed fails. It returns
// ErrFeedsUnavailable when the gateway has no feed endpoint. The callbacks
// run on the caller's goroutine.
type Watcher interface {
	Watch(ctx context.Context, w WatchRequest) error
}

// WatchRequest says which feed to follow and what to do with it.
type WatchRequest struct {
	Table  string
	LastID string
	Opened func()
	Event  func(FeedEvent) error
}

// FeedEvent is one change-feed event: the SSE "id" (the event's sequence)
// and "data" (one JSON event).
type FeedEvent struct {
	ID    string
	Event string // the SSE "event" field; "" for plain messages
	Data  json.RawMessage
}

// ErrFeedsUnavailable is returned by Watch when the gateway does not serve
// change feeds (it answers 404 for the route itself).
var ErrFeedsUnavailable = client.ErrFeedsUnavailable

// ErrFailed is returned by Run when a statement failed (after the first one
// in a script, or at the end with ContinueOnError). The failure itself has
// been printed.
var ErrFailed = errors.New("shell: a statement failed")

// ErrInterrupted is returned by Run when Ctrl-C stopped a script.
var ErrInterrupted = errors.New("shell: interrupted")
