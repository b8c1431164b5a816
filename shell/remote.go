package shell

import (
	"context"
	"encoding/json"

	"github.com/ringtable/ringtable/gateway/client"
)

// Remote is the Evaluator of a real gateway: statements go through
// gateway/client, WATCH reads GET /v1/tables/{table}/feed (Server-Sent
// Events) with the same API key.
type Remote struct {
	c *client.Client
}

// NewRemote returns an Evaluator for the gateway at baseURL.
func NewRemote(baseURL, apiKey string) *Remote {
	return &Remote{c: client.New(baseURL, nil).WithAPIKey(apiKey)}
}

// Query runs statements on the gateway.
func (r *Remote) Query(ctx context.Context, req client.QueryRequest) (*client.QueryResponse, error) {
	return r.c.Query(ctx, req)
}

// Watch follows table's change feed; see Watcher.
func (r *Remote) Watch(ctx context.Context, w WatchRequest) error {
	body, err := r.c.OpenFeed(ctx, w.Table, client.FeedOptions{LastEventID: w.LastID})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer body.Close()
	if w.Opened != nil {
		w.Opened()
	}
	err = client.ReadSSE(body, func(e client.SSEEvent) error {
		if e.Event == "error" {
			// How the stream ends: the table dropped, or a break to resume.
			fe := &client.FeedError{Code: "feed_unavailable", Message: string(e.Data)}
			_ = json.Unmarshal(e.Data, fe)
			return fe
		}
		return w.Event(FeedEvent{ID: e.ID, Event: e.Event, Data: json.RawMessage(e.Data)})
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}
