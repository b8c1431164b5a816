package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/query"
)

// errStopped ends a WATCH that Ctrl-C stopped: the normal way out, not a
// failure.
var errStopped = errors.New("watch stopped")

// watchRetries bounds reconnections after the feed broke without sending
// anything in between.
const watchRetries = 5

// watch prints a table's change events until Ctrl-C. A broken feed is
// resumed after the last event seen (SSE Last-Event-ID).
func (s *Shell) watch(ctx context.Context, q *query.Watch) error {
	w, ok := s.eval.(Watcher)
	if !ok {
		return ErrFeedsUnavailable
	}
	lastID, failures, opened := "", 0, false
	for {
		err := w.Watch(ctx, WatchRequest{Table: q.Table, LastID: lastID,
			Opened: func() {
				if !opened {
					opened = true
					s.notef("Watching %s for changes; Ctrl-C to stop.", q.Table)
				}
			},
			Event: func(ev FeedEvent) error {
				if ev.ID != "" {
					lastID = ev.ID
				}
				failures = 0
				s.showEvent(q.Table, ev)
				return nil
			}})
		if ctx.Err() != nil {
			s.notef("Stopped watching %s.", q.Table)
			return errStopped
		}
		var ce *client.Error
		if err == nil || errors.Is(err, ErrFeedsUnavailable) || errors.As(err, &ce) && ce.Status < 500 {
			return err
		}
		if fe := (*client.FeedError)(nil); errors.As(err, &fe) && fe.Code == "table_dropped" {
			s.notef("Table %s was dropped; stopped watching.", q.Table)
			return nil
		}
		if failures++; failures > watchRetries {
			return fmt.Errorf("change feed of %s: %w", q.Table, err)
		}
		s.errorf("change feed interrupted (%v); reconnecting…", err)
		select {
		case <-ctx.Done():
			s.notef("Stopped watching %s.", q.Table)
			return errStopped
		case <-time.After(time.Duration(failures) * 500 * time.Millisecond):
		}
	}
}

// feedEvent is what the shell understands of a change event; the rest is
// printed as it came.
type feedEvent struct {
	Op       string          `json:"op"`
	Type     string          `json:"type"`
	Table    string          `json:"table"`
	PK       *string         `json:"pk"`
	SK       string          `json:"sk"`
	Value    json.RawMessage `json:"value"`
	Deleted  bool            `json:"deleted"`
	Siblings int             `json:"siblings"`
	Time     time.Time       `json:"time"`
}

// showEvent prints one event: its raw JSON with \format json, otherwise
// "id  [time]  op  table/key  value".
func (s *Shell) showEvent(table string, ev FeedEvent) {
	if s.format == FormatJSON {
		s.printf("%s\n", cell(ev.Data))
		return
	}
	var e feedEvent
	if json.Unmarshal(ev.Data, &e) != nil || e.PK == nil {
		s.printf("%s  %s\n", ev.ID, cell(ev.Data))
		return
	}
	op := strings.ToLower(firstNonEmpty(e.Op, e.Type, ev.Event))
	if op == "" {
		op = "put"
		if e.Deleted {
			op = "delete"
		}
	}
	k := itemKey{firstNonEmpty(e.Table, table), *e.PK, e.SK}
	line := ev.ID
	if !e.Time.IsZero() {
		line += "  " + e.Time.UTC().Format("15:04:05.000")
	}
	line += fmt.Sprintf("  %-6s  %s", op, k)
	if !e.Deleted && len(e.Value) > 0 {
		line += "  " + cell(e.Value)
	}
	if e.Siblings > 1 {
		line += fmt.Sprintf("  (%d siblings)", e.Siblings)
	}
	s.printf("%s\n", strings.TrimLeft(line, " "))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
