package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
)

func TestWatchPrintsEventsUntilCtrlC(t *testing.T) {
	intr := make(chan os.Signal, 1)
	w := &fakeWatcher{fakeEval: &fakeEval{}}
	w.watch = func(ctx context.Context, table, lastID string, fn func(FeedEvent) error) error {
		for _, ev := range []FeedEvent{
			{ID: "7", Data: []byte(`{"table":"users","pk":"alice","op":"put","value":{"name":"Alice"},"time":"2024-05-01T12:00:01.5Z"}`)},
			{ID: "8", Data: []byte(`{"op":"delete","pk":"bob","sk":"x","deleted":true}`)},
			{ID: "9", Data: []byte(`{"pk":"carol","value":{"a":1},"siblings":2}`)},
			{ID: "10", Data: []byte(`{"something":"else"}`)},
		} {
			if err := fn(ev); err != nil {
				return err
			}
		}
		intr <- os.Interrupt // the user has seen enough
		<-ctx.Done()
		return nil
	}
	out, err := runScript(t, w, "WATCH users;\nGET FROM users KEY ('after');\n", withInterrupts(intr))
	if err != nil {
		t.Fatal(err)
	}
	// Ctrl-C ends a WATCH normally: the script goes on.
	wantOutput(t, out, `Watching users for changes; Ctrl-C to stop.
7  12:00:01.500  put     users/alice  {"name":"Alice"}
8  delete  users/bob/x
9  put     users/carol  {"a":1}  (2 siblings)
10  {"something":"else"}
Stopped watching users.
OK
`)
}

func TestWatchResumesAfterLastEvent(t *testing.T) {
	var calls []string
	w := &fakeWatcher{fakeEval: &fakeEval{}}
	w.watch = func(ctx context.Context, table, lastID string, fn func(FeedEvent) error) error {
		calls = append(calls, lastID)
		if len(calls) == 1 {
			_ = fn(FeedEvent{ID: "41", Data: []byte(`{"pk":"a"}`)})
			return io.ErrUnexpectedEOF // the connection broke
		}
		return &client.Error{Status: 404, Code: "not_found", Message: "table users does not exist"}
	}
	out, err := runScript(t, w, "WATCH users;")
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run = %v", err)
	}
	if len(calls) != 2 || calls[1] != "41" {
		t.Errorf("Watch calls with lastID %q, want resume after 41", calls)
	}
	if !strings.Contains(out, "reconnecting") || !strings.HasSuffix(out, "error: line 1: 404 not_found: table users does not exist\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestWatchWithoutFeeds(t *testing.T) {
	out, err := runScript(t, &fakeEval{}, "WATCH users;")
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run = %v", err)
	}
	wantOutput(t, out, "error: line 1: change feeds are not available on this gateway\n")
}

func TestRemoteWatchReadsServerSentEvents(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" last="+r.Header.Get("Last-Event-ID"))
		mu.Unlock()
		switch r.URL.Path {
		case "/v1/tables/users/feed":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, ": keep-alive\n\nid: 1\ndata: {\"pk\":\"a\"}\n\nretry: 100\nid: 2\nevent: change\ndata: {\"pk\":\ndata: \"b\"}\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case "/v1/tables/gone/feed":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"not_found","message":"table gone does not exist"}}`)
		default:
			http.NotFound(w, r) // a gateway without feeds: the router's plain 404
		}
	}))
	defer srv.Close()
	r := NewRemote(srv.URL+"/", "sekret")

	ctx, cancel := context.WithCancel(context.Background())
	var got []FeedEvent
	opened := 0
	err := r.Watch(ctx, WatchRequest{Table: "users", LastID: "0", Opened: func() { opened++ }, Event: func(ev FeedEvent) error {
		got = append(got, ev)
		if len(got) == 2 {
			cancel()
		}
		return nil
	}})
	if opened != 1 {
		t.Errorf("Opened called %d times", opened)
	}
	if err != nil {
		t.Fatalf("Watch = %v", err)
	}
	if len(got) != 2 || got[0].ID != "1" || string(got[0].Data) != `{"pk":"a"}` ||
		got[1].ID != "2" || got[1].Event != "change" || string(got[1].Data) != "{\"pk\":\n\"b\"}" {
		t.Errorf("events %+v", got)
	}
	mu.Lock()
	if seen[0] != "GET /v1/tables/users/feed auth=Bearer sekret last=0" {
		t.Errorf("request %q", seen[0])
	}
	mu.Unlock()

	err = r.Watch(context.Background(), WatchRequest{Table: "other", Event: func(FeedEvent) error { return nil }})
	if !errors.Is(err, ErrFeedsUnavailable) {
		t.Errorf("plain 404: %v, want ErrFeedsUnavailable", err)
	}
	err = r.Watch(context.Background(), WatchRequest{Table: "gone", Event: func(FeedEvent) error { return nil }})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Message != "table gone does not exist" {
		t.Errorf("JSON 404: %v", err)
	}
}
