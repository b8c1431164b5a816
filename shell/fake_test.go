package shell

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
)

// fakeEval is an Evaluator that answers from a function and records what
// it was sent.
type fakeEval struct {
	mu     sync.Mutex
	reqs   []client.QueryRequest
	answer func(ctx context.Context, req client.QueryRequest) (*client.QueryResponse, error)
}

func (f *fakeEval) Query(ctx context.Context, req client.QueryRequest) (*client.QueryResponse, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	answer := f.answer
	f.mu.Unlock()
	if answer == nil {
		return ok(""), nil
	}
	return answer(ctx, req)
}

// sent returns the statements sent, without the shell's own SHOW TABLES.
func (f *fakeEval) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.reqs {
		if r.Statement != "SHOW TABLES" {
			out = append(out, r.Statement)
		}
	}
	return out
}

func (f *fakeEval) last() client.QueryRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[len(f.reqs)-1]
}

// fakeWatcher adds a change feed to fakeEval.
type fakeWatcher struct {
	*fakeEval
	watch func(ctx context.Context, table, lastID string, fn func(FeedEvent) error) error
}

func (w *fakeWatcher) Watch(ctx context.Context, req WatchRequest) error {
	req.Opened()
	return w.watch(ctx, req.Table, req.LastID, req.Event)
}

func ok(msg string) *client.QueryResponse {
	return &client.QueryResponse{Results: []client.Result{{Kind: client.KindOK, Message: msg}}}
}

func rows(rs ...client.Row) *client.QueryResponse {
	return &client.QueryResponse{Results: []client.Result{{Kind: client.KindRows, Rows: rs}}}
}

var usersTable = client.Table{Name: "users", PartitionKey: "id", N: 3, R: 2, W: 2, Conflict: "siblings"}

// tablesAnswer answers SHOW TABLES with ts and defers the rest to next.
func tablesAnswer(ts []client.Table, next func(req client.QueryRequest) (*client.QueryResponse, error)) func(context.Context, client.QueryRequest) (*client.QueryResponse, error) {
	return func(_ context.Context, req client.QueryRequest) (*client.QueryResponse, error) {
		if req.Statement == "SHOW TABLES" {
			return &client.QueryResponse{Results: []client.Result{{Kind: client.KindTables, Tables: ts}}}, nil
		}
		if next == nil {
			return ok(""), nil
		}
		return next(req)
	}
}

// syncBuffer is a bytes.Buffer safe for the writers of a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// runScript runs script through a non-interactive shell and returns what
// it printed (Out and Err interleaved) and Run's error.
func runScript(t *testing.T, eval Evaluator, script string, tweak ...func(*Config)) (string, error) {
	t.Helper()
	var out syncBuffer
	cfg := DefaultConfig()
	cfg.In, cfg.Out, cfg.Err = strings.NewReader(script), &out, &out
	cfg.Now = fakeClock()
	for _, f := range tweak {
		f(&cfg)
	}
	sh, err := New(cfg, eval)
	if err != nil {
		t.Fatal(err)
	}
	err = sh.Run(context.Background())
	return out.String(), err
}

// fakeClock advances 1.5 ms per reading.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(1500 * time.Microsecond)
		return now
	}
}

func continueOnError(c *Config) { c.ContinueOnError = true }

func withInterrupts(ch chan os.Signal) func(*Config) {
	return func(c *Config) { c.Interrupts = ch }
}

func wantOutput(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
