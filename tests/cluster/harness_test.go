package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/storagenode"
	"github.com/ringtable/ringtable/tenants"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ringtable-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ringtable")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/ringtable/ringtable/cmd/ringtable").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ringtable: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Ports handed to processes come from below the kernel's ephemeral range
// (32768 and up by default). A port from there, closed and handed on,
// can be taken by any outgoing connection before the process binds it,
// and the processes here open many (routes, clients) while others start.
const (
	portLow  = 20000
	portHigh = 32000
)

var nextPort atomic.Int64

func init() { nextPort.Store(int64(os.Getpid() % (portHigh - portLow))) }

// freePort returns a loopback port nobody listens on now, none returned
// before by this process.
func freePort(t *testing.T) int {
	t.Helper()
	for range portHigh - portLow {
		port := portLow + int(nextPort.Add(1))%(portHigh-portLow)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatalf("no free loopback port in [%d, %d)", portLow, portHigh)
	return 0
}

// proc is one ringtable process.
type proc struct {
	name string
	args []string
	cmd  *exec.Cmd
	log  *lockedBuf
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(binary, p.args...)
	p.log = &lockedBuf{}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
}

// kill stops the process with SIGKILL, as a crash would.
func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
	p.cmd = nil
}

// stop stops the process with SIGTERM and waits.
func (p *proc) stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			p.kill()
		}
	}
	p.cmd = nil
}

// cluster is a set of node and gateway processes.
type cluster struct {
	t        *testing.T
	dir      string
	adminKey string
	secret   string // the cluster secret every process gets
	nodes    map[string]*node
	order    []string
	gws      []*gw
}

type node struct {
	*proc
	id                      string
	client, route, statusAt int
}

type gw struct {
	*proc
	port int
	urls []string
}

func newCluster(t *testing.T) *cluster {
	c := &cluster{t: t, dir: t.TempDir(), adminKey: tenants.NewSecret(), secret: messaging.NewClusterSecret(), nodes: map[string]*node{}}
	t.Cleanup(func() {
		for _, g := range c.gws {
			g.stop()
		}
		for _, n := range c.nodes {
			n.kill()
		}
		if t.Failed() {
			for _, id := range c.order {
				t.Logf("--- log of %s:\n%s", id, tail(c.nodes[id].log.String(), 40))
			}
			for i, g := range c.gws {
				if g.log != nil {
					t.Logf("--- log of gateway %d:\n%s", i, tail(g.log.String(), 40))
				}
			}
		}
	})
	return c
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// addNode defines a node with its embedded NATS server routed to every
// node defined before it; extra arguments are passed to `ringtable node`.
func (c *cluster) addNode(id string, extra ...string) *node {
	n := &node{id: id, client: freePort(c.t), route: freePort(c.t), statusAt: freePort(c.t)}
	var routes []string
	for _, other := range c.order {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", c.nodes[other].route))
	}
	args := []string{"node", "--id", id, "--data-dir", filepath.Join(c.dir, id),
		"--nats-listen", fmt.Sprintf("127.0.0.1:%d", n.client), "--nats-cluster-listen", fmt.Sprintf("127.0.0.1:%d", n.route),
		"--status-http", fmt.Sprintf("127.0.0.1:%d", n.statusAt), "--gossip", "250ms", "--log-level", "info",
		"--cluster-secret", c.secret}
	if len(routes) > 0 {
		args = append(args, "--nats-routes", strings.Join(routes, ","))
	}
	n.proc = &proc{name: id, args: append(args, extra...)}
	c.nodes[id] = n
	c.order = append(c.order, id)
	return n
}

func (n *node) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.client) }

// status reads a node's status endpoint.
func (n *node) status() (*storagenode.Status, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/status", n.statusAt))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st storagenode.Status
	b, _ := io.ReadAll(resp.Body)
	return &st, json.Unmarshal(b, &st)
}

// addGateway starts a gateway connected to the NATS servers of the given
// nodes, in order (it fails over to the next).
func (c *cluster) addGateway(nodes ...string) *gw {
	g := &gw{port: freePort(c.t)}
	for _, id := range nodes {
		g.urls = append(g.urls, c.nodes[id].url())
	}
	g.proc = &proc{name: "gateway", args: []string{"gateway", "--http", fmt.Sprintf("127.0.0.1:%d", g.port),
		"--nats-url", strings.Join(g.urls, ","), "--admin-key", c.adminKey, "--round-timeout", "500ms",
		"--cluster-secret", c.secret}}
	g.start(c.t)
	c.gws = append(c.gws, g)
	waitFor(c.t, 30*time.Second, "the gateway to serve", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", g.port))
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return g
}

// threeWithTable bootstraps three nodes, a gateway on all their NATS
// servers and a tenant with a table "t" keyed by "id".
func threeWithTable(t *testing.T) (*cluster, *gw, *client.Client) {
	c := newCluster(t)
	bootstrap(t, c, 3)
	g := c.addGateway("n1", "n2", "n3")
	cl := c.tenant(g)
	if _, err := cl.CreateTable(context.Background(), client.Table{Name: "t", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	return c, g, cl
}

func (g *gw) base() string { return fmt.Sprintf("http://127.0.0.1:%d", g.port) }

// tenant creates a tenant through gateway g and returns a client for it.
func (c *cluster) tenant(g *gw) *client.Client {
	c.t.Helper()
	// Right after start the NATS routes between the nodes' servers may
	// still be forming: retry for a while.
	var nk *client.NewKey
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for attempt := 1; ; attempt++ {
		// A name per attempt: one that timed out may have created its
		// tenant, and names are unique.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		nk, err = client.New(g.base(), nil).WithAPIKey(c.adminKey).CreateTenant(ctx, fmt.Sprintf("t%d", attempt), client.Quotas{})
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("create tenant: %v", err)
	}
	return client.New(g.base(), nil).WithAPIKey(nk.APIKey)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// converged reports whether every given node reports the same member list
// with the wanted number of active members and no change pending.
func (c *cluster) converged(active int, ids ...string) bool {
	var first string
	for _, id := range ids {
		st, err := c.nodes[id].status()
		if err != nil || st.Transitioning {
			return false
		}
		n := 0
		var view []string
		for _, m := range st.Members {
			if m.Status == "active" {
				n++
			}
			view = append(view, fmt.Sprintf("%s/%s", m.ID, m.Status))
		}
		if n != active {
			return false
		}
		v := st.Epoch + strings.Join(view, ",")
		if first == "" {
			first = v
		} else if v != first {
			return false
		}
	}
	return true
}

// feedStream is the cluster's own view of the change feed stream, through
// the NATS servers of the nodes named.
func (c *cluster) feedStream(t *testing.T, ids ...string) *messaging.Feeds {
	t.Helper()
	auth, err := messaging.NewAuth(c.secret, "")
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, id := range ids {
		urls = append(urls, c.nodes[id].url())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	conn, err := messaging.Connect(ctx, messaging.ClientConfig{URLs: urls, Name: "test", Auth: auth})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	feeds, err := conn.Feeds(messaging.DefaultFeedConfig())
	if err != nil {
		t.Fatal(err)
	}
	return feeds
}
