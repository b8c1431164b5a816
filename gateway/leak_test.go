package gateway_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// ours lists the goroutines running ringtable code (or the NATS and
// Badger code it starts), leaving out the test framework's and the HTTP
// client's idle connections, which belong to the caller.
func ours() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		// What the goroutine runs, not who started it.
		own, _, _ := strings.Cut(g, "\ncreated by ")
		if strings.Contains(own, "net/http.(*persistConn)") || strings.Contains(own, "testing.") ||
			strings.Contains(own, "os/signal") {
			continue
		}
		if strings.Contains(g, "ringtable") || strings.Contains(g, "nats") || strings.Contains(g, "badger") {
			out = append(out, g)
		}
	}
	return out
}

// Shutting a cluster down (gateways, nodes, connections, the NATS server)
// leaves no goroutine of its own behind.
func TestNoGoroutineLeftBehind(t *testing.T) {
	before := len(ours())
	t.Run("cluster", func(t *testing.T) {
		c := testcluster.New(t, testcluster.Options{})
		cl := c.Client(0)
		ctx := context.Background()
		if _, err := cl.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "id"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Put(ctx, "t", client.Key{PK: "a"}, []byte(`{"v":1}`), client.Options{}); err != nil {
			t.Fatal(err)
		}
		c.Stop("n2")
		if _, err := cl.Get(ctx, "t", client.Key{PK: "a"}, client.Options{}); err != nil {
			t.Fatal(err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := ours()
		if len(left) <= before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left behind after shutdown, e.g.:\n%s", len(left)-before, left[len(left)-1])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A connection a client opened and never used (HTTP clients dial ahead)
// holds a shutdown no longer than its grace and does not make it fail,
// while the requests served before it were answered.
func TestShutdownClosesUnusedConnections(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	cfg := gateway.DefaultConfig()
	cfg.AdminKey = c.AdminKey
	cfg.ShutdownGrace = 200 * time.Millisecond
	gw, err := gateway.New(cfg, c.Connect("gateway-shutdown"))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %s", resp.Status)
	}
	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("shutdown still waiting for an unused connection after 4s (grace 200ms)")
	}
	// The server closed the unused connection.
	idle.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("unused connection still open after shutdown (read: %v)", err)
	}
}
