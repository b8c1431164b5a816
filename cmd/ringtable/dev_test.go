package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/ringtable/ringtable/gateway/client"
)

// `ringtable dev` as the README's first command runs it (its flags
// parsed as the binary parses them, on free ports and a fresh data
// directory): a table, a write, a read, a sibling conflict resolved with
// a context, the change feed, and a clean stop on cancel. Its nodes and
// gateway share one bus connection; this is what shows they can.
func TestDevServesItemsAndFeedsThenStops(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three storage nodes")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, key, done := startDev(ctx, t, dir)
	cl := client.New(base, nil).WithAPIKey(key)
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	if _, err := cl.CreateTable(rctx, client.Table{Name: "users", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	k := client.Key{PK: "alice"}
	base0, err := cl.Put(rctx, "users", k, []byte(`{"city":"Paris"}`), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Two writes from the same read: siblings, then resolved.
	for _, v := range []string{`{"city":"Nice"}`, `{"city":"Lyon"}`} {
		if _, err := cl.Put(rctx, "users", k, []byte(v), client.Options{Context: base0}); err != nil {
			t.Fatal(err)
		}
	}
	it, err := cl.Get(rctx, "users", k, client.Options{R: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(it.Items) != 2 {
		t.Fatalf("after two concurrent writes: %d versions, want 2", len(it.Items))
	}
	if _, err := cl.Put(rctx, "users", k, []byte(`{"city":"Lyon"}`), client.Options{Context: it.Context, W: 3}); err != nil {
		t.Fatal(err)
	}
	if it, err = cl.Get(rctx, "users", k, client.Options{R: 3}); err != nil || len(it.Items) != 1 || !strings.Contains(string(it.Items[0].Value), "Lyon") {
		t.Fatalf("after resolving: %+v, %v", it, err)
	}
	// Every version's change event, in order, from the start of the feed.
	body, err := cl.OpenFeed(rctx, "users", client.FeedOptions{FromSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	stop := errors.New("enough")
	err = client.ReadSSE(body, func(e client.SSEEvent) error {
		if e.ID != "" {
			ids = append(ids, e.ID)
		}
		if len(ids) == 4 {
			return stop
		}
		return nil
	})
	body.Close()
	if !errors.Is(err, stop) || strings.Join(ids, ",") != "1,2,3,4" {
		t.Fatalf("feed ids %v (%v), want 1,2,3,4", ids, err)
	}

	// A repair given a tenant without a table is refused, not widened to
	// every table.
	adminKey, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	akctx, ac, err := parseCLI(t, "admin", "--gateway", base, "--admin-key", strings.TrimSpace(string(adminKey)),
		"repair", "--tenant", "x", "--no-wait", "--log-level", "warn")
	if err == nil {
		err = akctx.Run(&runEnv{ctx: rctx, log: slog.New(slog.DiscardHandler)}, &ac.Admin)
	}
	if err == nil || !strings.Contains(err.Error(), "needs both tenant (an ID) and table (a name)") {
		t.Errorf("admin repair --tenant x: err = %v, want it refused", err)
	}
	// Operators name tenants; the CLI finds the ID. A rate given alone
	// takes a burst of twice it.
	akctx, ac, err = parseCLI(t, "admin", "--gateway", base, "--admin-key", strings.TrimSpace(string(adminKey)), "--json",
		"tenant", "quotas", "dev", "--rps", "40000", "--log-level", "warn")
	if err == nil {
		err = akctx.Run(&runEnv{ctx: rctx, log: slog.New(slog.DiscardHandler)}, &ac.Admin)
	}
	if err != nil {
		t.Fatalf("admin tenant quotas dev: %v", err)
	}
	ts, err := client.New(base, nil).WithAPIKey(strings.TrimSpace(string(adminKey))).ListTenants(rctx)
	if err != nil || len(ts) != 1 || ts[0].Name != "dev" || ts[0].Quotas.RequestsPerSecond != 40000 || ts[0].Quotas.Burst != 80000 {
		t.Errorf("tenants after quotas dev --rps 40000: %+v, %v", ts, err)
	}

	cancel()
	waitStopped(t, done)

	// Started again without its key file, dev gives the dev tenant, whose
	// tables and items are still there, a new key.
	if err := os.Remove(filepath.Join(dir, "dev.key")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	base, key2, done := startDev(ctx, t, dir)
	if key2 == key {
		t.Fatal("the key file holds the old key")
	}
	it, err = client.New(base, nil).WithAPIKey(key2).Get(ctx, "users", k, client.Options{})
	if err != nil || len(it.Items) != 1 || !strings.Contains(string(it.Items[0].Value), "Lyon") {
		t.Fatalf("the dev tenant's item through its new key: %+v, %v", it, err)
	}
	cancel()
	waitStopped(t, done)
}

// startDev runs `ringtable dev` on dir, as the README's first command
// does, on free ports, until ctx ends; it returns once dev serves, with
// the gateway's URL, the dev tenant's key and where dev's end is sent.
func startDev(ctx context.Context, t *testing.T, dir string) (base, key string, done chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// --procs as the test binary runs: the flag's default would change
	// the processors of every test in it.
	kctx, c, err := parseCLI(t, "dev", "--data-dir", dir, "--http", addr, "--nats-listen", "127.0.0.1:0", "--log-level", "warn",
		"--procs", strconv.Itoa(runtime.GOMAXPROCS(0)))
	if err != nil {
		t.Fatal(err)
	}
	done = make(chan error, 1)
	go func() {
		done <- kctx.Run(&runEnv{ctx: ctx, log: slog.New(slog.DiscardHandler)}, &c.Admin)
	}()
	base = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dir, "dev.key"))
		if err == nil {
			if st, _, herr := client.New(base, nil).Raw(ctx, "GET", "/healthz", nil, nil); herr == nil && st == 200 {
				return base, strings.TrimSpace(string(b)), done
			}
		}
		select {
		case err := <-done:
			t.Fatalf("dev stopped before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("dev did not serve within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStopped waits for a dev whose context ended to stop cleanly.
func waitStopped(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not stop within 30s of its context")
	}
}

// parseCLI parses args as the binary does; kong exiting fails the test.
func parseCLI(t *testing.T, args ...string) (*kong.Context, *cli, error) {
	t.Helper()
	c := new(cli)
	parser, err := kong.New(c, kong.Name("ringtable"), kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse(args)
	return kctx, c, err
}
