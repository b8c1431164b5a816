package shell

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
)

// Remote is the Evaluator of a real gateway: statements go through
// gateway/client, WATCH reads GET /v1/tables/{table}/feed (Server-Sent
// Events) with the same API key.
type Remote struct {
	c      *client.Client
	base   string
	apiKey string
	// feed has no overall timeout: a feed is read for as long as the user
	// watches. Dialling and the response headers are still bounded.
	feed *http.Client
}

// NewRemote returns an Evaluator for the gateway at baseURL.
func NewRemote(baseURL, apiKey string) *Remote {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &Remote{
		c:      client.New(baseURL, nil).WithAPIKey(apiKey),
		base:   strings.TrimRight(baseURL, "/"),
		apiKey: apiKey,
		feed:   &http.Client{Transport: tr},
	}
}

// Query runs statements on the gateway.
func (r *Remote) Query(ctx context.Context, req client.QueryRequest) (*client.QueryResponse, error) {
	return r.c.Query(ctx, req)
}

// maxFeedLine bounds one SSE line: an event carries at most one item
// (400 KiB of JSON), escaped.
const maxFeedLine = 4 << 20

// Watch follows table's change feed; see Watcher.
func (r *Remote) Watch(ctx context.Context, w WatchRequest) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/v1/tables/"+url.PathEscape(w.Table)+"/feed", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+r.apiKey)
	if w.LastID != "" {
		req.Header.Set("Last-Event-ID", w.LastID)
	}
	resp, err := r.feed.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return feedError(resp)
	}
	if w.Opened != nil {
		w.Opened()
	}
	err = readSSE(resp.Body, w.Event)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// feedError turns a refused feed request into an error. A 404 with the
// API's JSON error is about the table; a 404 without one comes from the
// router: the gateway has no feed endpoint.
func feedError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
		return &client.Error{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		return ErrFeedsUnavailable
	}
	return &client.Error{Status: resp.StatusCode, Code: http.StatusText(resp.StatusCode), Message: strings.TrimSpace(string(data))}
}

// readSSE parses a text/event-stream and calls fn for each event with
// data. Comment lines (":" keep-alives) and "retry" fields are ignored.
func readSSE(r io.Reader, fn func(FeedEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxFeedLine)
	var (
		ev      FeedEvent
		data    []string
		hasData bool
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if hasData {
				ev.Data = json.RawMessage(strings.Join(data, "\n"))
				if err := fn(ev); err != nil {
					return err
				}
			}
			ev, data, hasData = FeedEvent{ID: ev.ID}, nil, false
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			data, hasData = append(data, value), true
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("change feed: an event is longer than %d bytes", maxFeedLine)
		}
		return err
	}
	return io.ErrUnexpectedEOF
}
