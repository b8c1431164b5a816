package gateway_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

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
