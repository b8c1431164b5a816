package messaging

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startAuthServer starts an embedded server in operator mode with
// JetStream, and an internal connection to it.
func startAuthServer(t *testing.T) (*Server, *Conn, *Auth) {
	t.Helper()
	auth, err := NewAuth(NewClusterSecret(), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultServerConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.JetStream, cfg.StoreDir, cfg.Auth = true, t.TempDir(), auth
	s, err := StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Connect(ctx, ClientConfig{URLs: []string{s.ClientURL()}, Name: "test", Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return s, c, auth
}

// A stored event is republished once on its feed subject, with its
// sequence; publishing it again with the same ID stores and republishes
// nothing.
func TestFeedStreamStoresAndRepublishesOnce(t *testing.T) {
	_, c, _ := startAuthServer(t)
	ctx := context.Background()
	f, err := c.Feeds(DefaultFeedConfig())
	if err != nil {
		t.Fatal(err)
	}
	if r, err := f.Ensure(ctx); err != nil || r != 1 {
		t.Fatalf("Ensure = %d, %v; want 1 replica on a single server", r, err)
	}
	got := make(chan *Msg, 10)
	sub, err := c.Subscribe(c.Subjects().FeedTenant("ten1"), func(m *Msg) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	_ = c.Flush(ctx)
	evs := []FeedPub{{Tenant: "ten1", Table: "t", ID: "a:1", Data: []byte(`{"n":1}`)}, {Tenant: "ten1", Table: "t", ID: "a:2", Data: []byte(`{"n":2}`)}}
	for round := range 2 {
		for i, err := range publish(ctx, f, evs) {
			if err != nil {
				t.Fatalf("round %d: publish %d: %v", round, i, err)
			}
		}
	}
	for i := range 2 {
		select {
		case m := <-got:
			if m.Subject != "rt.feed.ten1.t" || m.Header.Get("Nats-Sequence") != fmt.Sprint(i+1) || m.Header.Get("Nats-Msg-Id") != evs[i].ID {
				t.Errorf("event %d: subject %s headers %v", i, m.Subject, m.Header)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d not republished", i)
		}
	}
	select {
	case m := <-got:
		t.Errorf("a duplicate was republished: %s %v", m.Data, m.Header)
	case <-time.After(200 * time.Millisecond):
	}
	// Events name the stream they expect: one that expects another is
	// refused, not stored.
	other := *f
	other.expect = []string{"OTHER_FEED"}
	if errs := publish(ctx, &other, []FeedPub{{Tenant: "ten1", Table: "t", ID: "a:3", Data: []byte(`{"n":3}`)}}); errs[0] == nil {
		t.Fatal("an event expecting another stream was stored")
	}
	r, err := f.Reader(ctx, "ten1", "t", FeedStart{Seq: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	m, err := r.Next(5 * time.Second)
	if err != nil || m == nil || m.Seq != 2 || string(m.Data) != `{"n":2}` {
		t.Fatalf("Next = %+v, %v", m, err)
	}
	if m, err := r.Next(100 * time.Millisecond); m != nil || err != nil {
		t.Fatalf("Next after the last = %+v, %v", m, err)
	}
}

// A tenant's credentials read its own feed, live and from its own stream,
// and are refused everything else by the server.
func TestTenantCredentialsIsolation(t *testing.T) {
	s, c, _ := startAuthServer(t)
	ctx := context.Background()
	f, _ := c.Feeds(DefaultFeedConfig())
	if _, err := f.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	fc, err := c.IssueFeedCredentials(ctx, "ten1", DefaultTenantLimits())
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/ten1.creds"
	if err := os.WriteFile(path, []byte(fc.Creds), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asyncErrs []error
	nc, err := nats.Connect(s.ClientURL(), nats.UserCredentials(path), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		mu.Lock()
		asyncErrs = append(asyncErrs, err)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	own, err := nc.SubscribeSync(fc.Subject)
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{"rt.feed.ten2.>", "rt.node.>", "rt.gossip.all", ">"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Publish("rt.node.n1.replicate", []byte("forged")); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	for _, err := range publish(ctx, f, []FeedPub{{Tenant: "ten1", Table: "t", ID: "a:1", Data: []byte(`{}`)}, {Tenant: "ten2", Table: "t", ID: "a:2", Data: []byte(`{}`)}}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := own.NextMsg(5 * time.Second)
	if err != nil || m.Subject != "rt.feed.ten1.t" {
		t.Fatalf("own feed: %v %v", m, err)
	}
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, fc.Stream)
	if err != nil {
		t.Fatalf("tenant stream: %v", err)
	}
	waitUntil(t, func() bool { i, _ := st.Info(ctx); return i != nil && i.State.Msgs == 1 })
	mu.Lock()
	defer mu.Unlock()
	var perms []string
	for _, err := range asyncErrs {
		if errors.Is(err, nats.ErrPermissionViolation) {
			perms = append(perms, err.Error())
		}
	}
	want := []string{`Subscription to "rt.feed.ten2.>"`, `Subscription to "rt.node.>"`, `Subscription to "rt.gossip.all"`, `Subscription to ">"`, `Publish to "rt.node.n1.replicate"`}
	all := strings.Join(perms, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("no permissions violation for %s; got:\n%s", w, all)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A revoked tenant's credentials no longer connect.
func TestRevokedFeedCredentials(t *testing.T) {
	s, c, _ := startAuthServer(t)
	ctx := context.Background()
	fc, err := c.IssueFeedCredentials(ctx, "ten1", DefaultTenantLimits())
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/ten1.creds"
	if err := os.WriteFile(path, []byte(fc.Creds), 0o600); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), nats.UserCredentials(path))
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := c.RevokeFeedCredentials(ctx, "ten1"); err != nil {
		t.Fatal(err)
	}
	if nc, err := nats.Connect(s.ClientURL(), nats.UserCredentials(path), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("revoked credentials still connect")
	}
}

// An external NATS server configured with ServerConfig serves the cluster
// as the embedded ones do: internal users, the feed stream, tenant
// credentials.
func TestExternalServerConfig(t *testing.T) {
	auth, err := NewAuth("an external cluster's long secret", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf, err := auth.ServerConfig(dir+"/jwt", dir+"/js")
	if err != nil {
		t.Fatal(err)
	}
	path := dir + "/nats.conf"
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:-1\n"+conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoLog, opts.NoSigs = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("not ready")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Connect(ctx, ClientConfig{URLs: []string{ns.ClientURL()}, Name: "node", Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, _ := c.Feeds(DefaultFeedConfig())
	if _, err := f.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if errs := publish(ctx, f, []FeedPub{{Tenant: "ten1", Table: "t", ID: "a:1", Data: []byte(`{}`)}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if _, err := c.IssueFeedCredentials(ctx, "ten1", DefaultTenantLimits()); err != nil {
		t.Fatal(err)
	}
}

// publish publishes evs in order and waits for each one's acknowledgement.
// Stored finds the IDs of the events stored since a time, across
// tables, and only those: not events stored before it, not IDs never
// published.
func TestFeedStoredFindsIDsSince(t *testing.T) {
	_, c, _ := startAuthServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, err := c.Feeds(DefaultFeedConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{"old": true, "a": true, "b": true, "never": true}
	if found, err := f.Stored(ctx, time.Now().Add(-time.Hour), ids); err != nil || len(found) != 0 {
		t.Fatalf("empty stream: Stored = %v, %v; want nothing", found, err)
	}
	pub := func(evs ...FeedPub) {
		for i, err := range publish(ctx, f, evs) {
			if err != nil {
				t.Fatalf("publish %s: %v", evs[i].ID, err)
			}
		}
	}
	pub(FeedPub{Tenant: "ten1", Table: "t", ID: "old", Data: []byte(`{}`)})
	time.Sleep(50 * time.Millisecond)
	since := time.Now()
	time.Sleep(50 * time.Millisecond)
	var later []FeedPub
	for i := range 300 {
		later = append(later, FeedPub{Tenant: "ten1", Table: fmt.Sprint("t", i%3), ID: fmt.Sprint("x", i), Data: []byte(`{}`)})
	}
	later[17].ID, later[211].ID = "a", "b"
	pub(later...)

	found, err := f.Stored(ctx, since, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || !found["a"] || !found["b"] {
		t.Errorf("Stored since the later events = %v, want a and b", found)
	}
	if found, err = f.Stored(ctx, since.Add(-time.Hour), ids); err != nil || len(found) != 3 || !found["old"] {
		t.Errorf("Stored since an hour ago = %v, %v; want old, a and b", found, err)
	}
	if found, err = f.Stored(ctx, time.Now().Add(time.Minute), ids); err != nil || len(found) != 0 {
		t.Errorf("Stored since a minute ahead = %v, %v; want nothing", found, err)
	}
}

func publish(ctx context.Context, f *Feeds, evs []FeedPub) []error {
	var errs []error
	for _, a := range f.PublishAsync(evs) {
		errs = append(errs, a.Wait(ctx))
	}
	return errs
}
