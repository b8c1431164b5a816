package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FeedEvent is one change event of a table (see GET
// /v1/tables/{table}/feed).
type FeedEvent struct {
	Seq         uint64          `json:"seq"`
	ID          string          `json:"id"`
	Tenant      string          `json:"tenant"`
	Table       string          `json:"table"`
	TableID     string          `json:"table_id"`
	PK          string          `json:"pk"`
	SK          string          `json:"sk,omitempty"`
	Op          string          `json:"op"` // "put" or "delete"
	Value       json.RawMessage `json:"value,omitempty"`
	Deleted     bool            `json:"deleted,omitempty"`
	Context     string          `json:"context"`
	Siblings    int             `json:"siblings"`
	HasSiblings bool            `json:"has_siblings"`
	Time        time.Time       `json:"time"`
	Expires     *time.Time      `json:"expires,omitempty"`
}

// FeedOptions say where a feed starts: after the event LastEventID (an
// SSE id, i.e. a sequence), else at sequence FromSeq, else at FromTime,
// else with the next event.
type FeedOptions struct {
	LastEventID string
	FromSeq     uint64
	FromTime    time.Time
}

// maxFeedLine bounds one line of the event stream: an event carries at
// most one item (400 KiB of JSON), escaped.
const maxFeedLine = 4 << 20

// FeedError is how a stream that had begun ended: "table_dropped" (the
// table is gone, or another took its name: the stream is over), or
// "feed_unavailable" (the stream broke; resuming may work).
type FeedError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *FeedError) Error() string { return "change feed: " + e.Message }

// ErrFeedsUnavailable is returned when the gateway has no feed endpoint
// at all (its router, not the API, answered 404 or 405).
var ErrFeedsUnavailable = errors.New("change feeds are not available on this gateway")

// Feed follows a table's change events, calling fn for each in order,
// until ctx ends (nil is then returned), fn returns an error (returned),
// or the stream breaks. A caller that wants to go on after a break calls
// Feed again with the last event's sequence as LastEventID.
func (c *Client) Feed(ctx context.Context, table string, o FeedOptions, fn func(*FeedEvent) error) error {
	body, err := c.OpenFeed(ctx, table, o)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer body.Close()
	err = ReadSSE(body, func(e SSEEvent) error {
		if e.Event == "error" {
			fe := &FeedError{}
			if json.Unmarshal(e.Data, fe) != nil || fe.Code == "" {
				return fmt.Errorf("change feed: %s", e.Data)
			}
			return fe
		}
		var ev FeedEvent
		if err := json.Unmarshal(e.Data, &ev); err != nil {
			return fmt.Errorf("change feed: bad event: %w", err)
		}
		return fn(&ev)
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// OpenFeed starts a table's change feed and returns its text/event-stream
// body, to be read with ReadSSE and closed by the caller. A refusal is an
// *Error, or ErrFeedsUnavailable. If ctx ends first, the error is ctx's.
func (c *Client) OpenFeed(ctx context.Context, table string, o FeedOptions) (io.ReadCloser, error) {
	q := url.Values{}
	if o.FromSeq > 0 {
		q.Set("from_seq", strconv.FormatUint(o.FromSeq, 10))
	}
	if !o.FromTime.IsZero() {
		q.Set("from_time", o.FromTime.UTC().Format(time.RFC3339Nano))
	}
	u := c.base + "/v1/tables/" + url.PathEscape(table) + "/feed"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if o.LastEventID != "" {
		req.Header.Set("Last-Event-ID", o.LastEventID)
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	// A feed is read for as long as the caller wants: no overall timeout.
	hc := &http.Client{Transport: c.hc.Transport}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		e, api := apiError(resp.StatusCode, data)
		if !api && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed) {
			return nil, ErrFeedsUnavailable
		}
		return nil, e
	}
	return resp.Body, nil
}

// SSEEvent is one event of a text/event-stream.
type SSEEvent struct {
	ID    string // the "id" field: a change event's sequence
	Event string // the "event" field; "" for plain messages
	Data  []byte // the "data" lines, joined by newlines
}

// ReadSSE parses a text/event-stream and calls fn for each event with
// data, until fn fails (its error is returned) or the stream ends (an
// error wrapping io.ErrUnexpectedEOF: a feed never ends by itself).
// Comment lines (":" keep-alives) and "retry" fields are ignored.
func ReadSSE(r io.Reader, fn func(SSEEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxFeedLine)
	var (
		ev      SSEEvent
		data    []string
		hasData bool
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if hasData {
				ev.Data = []byte(strings.Join(data, "\n"))
				if err := fn(ev); err != nil {
					return err
				}
			}
			// The last event ID persists across events, as in browsers.
			ev, data, hasData = SSEEvent{ID: ev.ID}, nil, false
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
	return fmt.Errorf("change feed: the stream ended: %w", io.ErrUnexpectedEOF)
}

// FeedCredentials are NATS credentials for a tenant's change feed.
type FeedCredentials struct {
	Tenant  string   `json:"tenant"`
	Account string   `json:"account"`
	Creds   string   `json:"creds"`   // a NATS .creds file
	Subject string   `json:"subject"` // the tenant's feed subjects
	Stream  string   `json:"stream"`  // its stream, in its own account
	Servers []string `json:"servers"`
}

// FeedCredentials issues NATS credentials that read the tenant's change
// feed and nothing else (admin key).
func (c *Client) FeedCredentials(ctx context.Context, tenant string) (*FeedCredentials, error) {
	var out FeedCredentials
	err := c.jsonCall(ctx, http.MethodPost, "/v1/admin/tenants/"+url.PathEscape(tenant)+"/feed-credentials", nil, &out)
	return &out, err
}
