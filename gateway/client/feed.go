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

// maxFeedLine bounds one line of the event stream.
const maxFeedLine = 4 << 20

// Feed follows a table's change events, calling fn for each in order,
// until ctx ends (nil is then returned), fn returns an error (returned),
// or the stream breaks. A caller that wants to go on after a break calls
// Feed again with the last event's sequence as LastEventID.
func (c *Client) Feed(ctx context.Context, table string, o FeedOptions, fn func(*FeedEvent) error) error {
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
		return err
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
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		e := &Error{Status: resp.StatusCode, Code: http.StatusText(resp.StatusCode), Message: strings.TrimSpace(string(data))}
		var eb struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			e.Code, e.Message = eb.Error.Code, eb.Error.Message
		}
		return e
	}
	err = readEvents(resp.Body, fn)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// readEvents parses a text/event-stream of change events.
func readEvents(r io.Reader, fn func(*FeedEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxFeedLine)
	var kind string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(data) > 0 {
				payload := strings.Join(data, "\n")
				if kind == "error" {
					return fmt.Errorf("change feed: %s", payload)
				}
				var ev FeedEvent
				if err := json.Unmarshal([]byte(payload), &ev); err != nil {
					return fmt.Errorf("change feed: bad event: %w", err)
				}
				if err := fn(&ev); err != nil {
					return err
				}
			}
			kind, data = "", nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			kind = value
		case "data":
			data = append(data, value)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("change feed: the stream ended")
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
