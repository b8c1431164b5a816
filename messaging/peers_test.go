package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jetStreamCluster starts clustered JetStream servers named n1, n2, … with
// the cluster's accounts, each routed to the first.
func jetStreamCluster(t *testing.T, a *Auth, n int) []*Server {
	t.Helper()
	dir := t.TempDir()
	var servers []*Server
	for i := range n {
		cfg := DefaultServerConfig()
		cfg.Name = "n" + string(rune('1'+i))
		cfg.Listen, cfg.ClusterListen = "127.0.0.1:0", "127.0.0.1:0"
		if i > 0 {
			cfg.Routes = []string{servers[0].ClusterURL()}
		}
		cfg.JetStream, cfg.StoreDir, cfg.Auth = true, filepath.Join(dir, cfg.Name), a
		s, err := StartServer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Shutdown)
		servers = append(servers, s)
	}
	return servers
}

// jetStreamAnswers waits until JetStream creates a stream through s (its
// metadata leader does that), reporting whether it did within d.
func jetStreamAnswers(t *testing.T, a *Auth, s *Server, d time.Duration) bool {
	t.Helper()
	user, err := a.internalUser("test")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), user)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		name := fmt.Sprintf("PROBE%d", i)
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Storage: jetstream.MemoryStorage})
		cancel()
		if err == nil {
			return true
		}
		if time.Since(start) > d {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestJetStreamPeerIDIsTheServers(t *testing.T) {
	a, err := NewAuth(NewClusterSecret(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range jetStreamCluster(t, a, 2) {
		name := s.ns.Name()
		if got, want := jetStreamPeerID(name), s.ns.Node(); got != want {
			t.Errorf("peer ID of %q: got %q, the server has %q", name, got, want)
		}
	}
}

// A server removed from JetStream's cluster no longer counts in its
// quorum: of four servers, two gone for good (one removed) leave the two
// others able to elect a metadata leader. Without the removal they are
// two of four, no quorum, and JetStream stays unavailable.
func TestRemovedJetStreamPeerLeavesTheQuorum(t *testing.T) {
	a, err := NewAuth(NewClusterSecret(), "")
	if err != nil {
		t.Fatal(err)
	}
	servers := jetStreamCluster(t, a, 4)
	if !jetStreamAnswers(t, a, servers[0], 60*time.Second) {
		t.Fatal("JetStream of four servers never answered")
	}
	urls := []string{servers[0].ClientURL(), servers[1].ClientURL()}
	remove := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return a.RemoveJetStreamPeer(ctx, urls, "n4")
	}
	// n4 leaves for good; while the others elect a leader in its place
	// (it may have led), its removal goes unanswered.
	servers[3].Shutdown()
	for deadline := time.Now().Add(60 * time.Second); ; {
		err := remove()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("removing n4: %v", err)
		}
	}
	// Removing it again is no error: it is done.
	if err := remove(); err != nil {
		t.Fatalf("removing n4 again: %v", err)
	}
	// Let the removal reach every remaining server before n3 fails.
	time.Sleep(2 * time.Second)
	servers[2].Shutdown()
	if !jetStreamAnswers(t, a, servers[0], 30*time.Second) {
		t.Fatal("with n4 removed and n3 down, n1 and n2 (two of three) found no metadata leader")
	}
}

// The first server of a cluster has no peer to route to yet, and
// clustered JetStream needs a configured route: it starts with a
// placeholder, whose failed dial is no error for the operator to see.
func TestFirstClusterServerStartsQuietly(t *testing.T) {
	var logs lockedLog
	a, err := NewAuth(NewClusterSecret(), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultServerConfig()
	cfg.Name, cfg.Listen, cfg.ClusterListen = "first", "127.0.0.1:0", "127.0.0.1:0"
	cfg.JetStream, cfg.StoreDir, cfg.Auth = true, t.TempDir(), a
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	time.Sleep(1500 * time.Millisecond) // a failed route is dialled again after a second
	if out := logs.String(); strings.Contains(out, "route") && strings.Contains(out, "level=ERROR") {
		t.Fatalf("the first server logged a route error:\n%s", out)
	}
}

type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
