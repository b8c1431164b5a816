package messaging

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func startServer(t *testing.T) *Server {
	t.Helper()
	cfg := DefaultServerConfig()
	cfg.Listen = "127.0.0.1:0"
	s, err := StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func connect(t *testing.T, s *Server, name string) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Connect(ctx, ClientConfig{URLs: []string{s.ClientURL()}, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestSubjects(t *testing.T) {
	s := MustSubjects("")
	if got := s.NodeOp("n1", "get"); got != "rt.node.n1.get" {
		t.Fatalf("NodeOp = %q", got)
	}
	// NodeOp concatenates rather than formats its template: they agree.
	if p := MustSubjects("acme"); p.NodeOp("n9", "replicate") != fmt.Sprintf(subjNodeOpT, "acme", "n9", "replicate") {
		t.Fatalf("NodeOp = %q, template gives %q", p.NodeOp("n9", "replicate"), fmt.Sprintf(subjNodeOpT, "acme", "n9", "replicate"))
	}
	if node, op, ok := s.ParseNodeOp("rt.node.n1.get"); !ok || node != "n1" || op != "get" {
		t.Fatalf("ParseNodeOp = %q %q %v", node, op, ok)
	}
	for _, bad := range []string{"other.node.n1.get", "rt.node.n1", "rt.node..get", "rt.gossip.n1"} {
		if _, _, ok := s.ParseNodeOp(bad); ok {
			t.Errorf("ParseNodeOp(%q) accepted", bad)
		}
	}
	if got := s.Feed("t1", "users"); got != "rt.feed.t1.users" {
		t.Fatalf("Feed = %q", got)
	}
	// FeedLog concatenates too and must agree with its template: the
	// stream takes only subjects of that shape (subjFeedLogAllT).
	if p := MustSubjects("prod.rt"); p.FeedLog("t7", "orders") != fmt.Sprintf(subjFeedLogT, "prod.rt", "t7", "orders") {
		t.Fatalf("FeedLog = %q, template gives %q", p.FeedLog("t7", "orders"), fmt.Sprintf(subjFeedLogT, "prod.rt", "t7", "orders"))
	}
	for _, bad := range []string{"a..b", "a b", "a.*", "x.>"} {
		if _, err := NewSubjects(bad); err == nil {
			t.Errorf("NewSubjects(%q) accepted", bad)
		}
	}
	if p, err := NewSubjects("prod.rt"); err != nil || p.NodeAll("n2") != "prod.rt.node.n2.*" {
		t.Fatalf("custom prefix: %v %v", p, err)
	}
}

// NodeOps gives NodeOp's subjects, from many goroutines, without building
// a subject it has built before, and stays bounded.
func TestNodeOps(t *testing.T) {
	s := MustSubjects("acme")
	c := NewNodeOps(s)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				node, op := fmt.Sprintf("n%d", i%7), []string{"get", "put", "replicate"}[i%3]
				if got, want := c.Get(node, op), s.NodeOp(node, op); got != want {
					t.Errorf("Get(%q, %q) = %q, want %q", node, op, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := testing.AllocsPerRun(100, func() { _ = c.Get("n3", "get") }); n != 0 {
		t.Errorf("a known subject costs %v allocations", n)
	}
	for i := 0; i < 2*maxNodeOps; i++ {
		c.Get(fmt.Sprint("node", i), "get")
	}
	if n := len(c.m); n > maxNodeOps {
		t.Errorf("%d subjects kept, at most %d allowed", n, maxNodeOps)
	}
}

// A round gets every reply sent to its subject, including replies that a
// node forwards on its behalf, and a "no responders" notice naming the
// subject nobody listens on.
func TestCallerRoutesRepliesAndNoResponders(t *testing.T) {
	s := startServer(t)
	node, gw := connect(t, s, "node"), connect(t, s, "gw")
	sub, err := node.Subscribe(node.Subjects().NodeOp("n1", "get"), func(m *Msg) {
		_ = node.Respond(m, []byte("direct"))
		// Forward: a third party answers the same round.
		_ = node.Publish(m.Reply, "", []byte("forwarded"))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := node.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl, err := gw.NewCaller()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	a, b := cl.Open(4), cl.Open(4)
	defer a.Close()
	defer b.Close()
	if err := a.Send(gw.Subjects().NodeOp("n1", "get"), []byte("q")); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(gw.Subjects().NodeOp("n9", "get"), []byte("q")); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for len(got) < 2 {
		select {
		case m := <-a.Replies():
			got[string(m.Data)] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("round a got %v", got)
		}
	}
	select {
	case m := <-b.Replies():
		subj, ok := NoResponders(m)
		if !ok || subj != "rt.node.n9.get" {
			t.Fatalf("round b got %q (no responders %v for %q)", m.Data, ok, subj)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no 'no responders' notice for a subject nobody listens on")
	}
	select {
	case m := <-a.Replies():
		t.Fatalf("round a got an extra reply %q", m.Data)
	default:
	}
}

// Rounds open at once have reply subjects of their own; a closed round's
// subject goes to the next round, under a new number, and a reply that
// comes late to it reaches that round, which the number tells apart.
func TestCallerReusesSubjects(t *testing.T) {
	s := startServer(t)
	gw := connect(t, s, "gw")
	cl, err := gw.NewCaller()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	a, b := cl.Open(4), cl.Open(4)
	if a.reply == b.reply || a.Round() == b.Round() {
		t.Fatalf("two open rounds share subject %q or number %d", a.reply, a.Round())
	}
	a.Close()
	a.Close() // a second close frees nothing more
	if n := cl.OpenRounds(); n != 1 {
		t.Fatalf("open rounds after one of two closed (twice): %d, want 1", n)
	}
	c, d := cl.Open(4), cl.Open(4)
	if n := cl.OpenRounds(); n != 3 {
		t.Fatalf("open rounds: %d, want 3", n)
	}
	defer b.Close()
	defer c.Close()
	defer d.Close()
	if c.reply != a.reply || c.Round() == a.Round() {
		t.Fatalf("the round after a closed one: subject %q number %d, want %q and a new number (a's %d)", c.reply, c.Round(), a.reply, a.Round())
	}
	if d.reply == a.reply || d.reply == b.reply {
		t.Fatalf("a fourth round took subject %q, in use", d.reply)
	}
	if err := gw.Publish(a.reply, "", []byte("late for a")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-c.Replies():
		if string(m.Data) != "late for a" {
			t.Fatalf("round c got %q", m.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a message to a reused subject did not reach the round holding it")
	}
}

func TestConnectGivesUpWithContext(t *testing.T) {
	defer func(d time.Duration) { connectNoteEvery = d }(connectNoteEvery)
	connectNoteEvery = 100 * time.Millisecond
	var logged bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := Connect(ctx, ClientConfig{URLs: []string{"nats://127.0.0.1:1"}, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err == nil {
		t.Fatal("connected to a port nobody listens on")
	}
	// Both the error and the log while waiting say why.
	if !strings.Contains(err.Error(), "last attempt: dial tcp 127.0.0.1:1") {
		t.Errorf("error %q does not say why the last attempt failed", err)
	}
	if !strings.Contains(logged.String(), `msg="waiting for a NATS server"`) || !strings.Contains(logged.String(), "last_attempt=\"dial tcp 127.0.0.1:1") {
		t.Errorf("log while waiting: %q", logged.String())
	}
	if _, err := Connect(context.Background(), ClientConfig{}); err == nil {
		t.Fatal("connected without URLs")
	}
}

// A port already taken must fail the start with the listener's error, not
// a bare "not ready" after the readiness wait runs out.
func TestStartServerReportsTakenPort(t *testing.T) {
	first := startServer(t)
	u, err := url.Parse(first.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultServerConfig()
	cfg.Listen = u.Host
	s, err := StartServer(cfg)
	if err == nil {
		s.Shutdown()
		t.Fatalf("a second server started on %s", u.Host)
	}
	if !strings.Contains(err.Error(), "listening on port") || !strings.Contains(err.Error(), u.Host) {
		t.Fatalf("error %q does not give the listener's failure and address", err)
	}
}
