// Package testcluster boots a whole ringtable cluster inside a test: a real
// embedded NATS server on a loopback port, storage nodes with real Badger
// directories under t.TempDir(), and gateways served over real HTTP. Nodes
// can be stopped and restarted to test failures, or reach the bus through
// a Proxy that cuts their way back; every piece is shut down by
// t.Cleanup.
package testcluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/storagenode"
	"github.com/ringtable/ringtable/tenants"
)

// Options shape a cluster.
type Options struct {
	Nodes    int // storage nodes (default 3)
	Gateways int // gateways (default 1)
	// RoundTimeout of the gateways (default 1s, as in production; stopped
	// nodes are noticed at once through "no responders" anyway).
	RoundTimeout time.Duration
	// Gateway, if set, adjusts each gateway's configuration.
	Gateway func(*gateway.Config)
	// Node, if set, adjusts each node's configuration.
	Node func(*storagenode.Config)
	// NodeBus, if set, gives the bus URL node id connects to, from the
	// server's own: a test puts a Proxy in between.
	NodeBus func(id, url string) string
	// Verbose sends component logs to t.Log.
	Verbose bool
}

// Cluster is a running test cluster.
type Cluster struct {
	t    testing.TB
	opts Options
	dir  string
	NATS *messaging.Server
	// Auth holds the bus identities of the cluster (its secret is
	// random).
	Auth     *messaging.Auth
	mu       sync.Mutex
	nodes    map[string]*Node
	NodeIDs  []string
	initial  []string // the bootstrap members
	seeds    map[string][]string
	Gateways []*Gateway
	// AdminKey authorises the admin API on every gateway.
	AdminKey string
	// TenantID and TenantKey are those of a tenant created at start, which
	// Client uses.
	TenantID, TenantKey string
	keys                map[string]string // tenant ID → an API key
}

// Node is one storage node and its own bus connection, as if it were a
// separate process.
type Node struct {
	ID   string
	Node *storagenode.Node // nil while stopped
	conn *messaging.Conn
}

// Gateway is one gateway and its HTTP server.
type Gateway struct {
	GW     *gateway.Gateway
	URL    string
	conn   *messaging.Conn
	cancel context.CancelFunc
	done   chan struct{}
	stop   sync.Once
}

// New starts a cluster and registers its shutdown with t.Cleanup.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Gateways == 0 {
		o.Gateways = 1
	}
	if o.RoundTimeout == 0 {
		o.RoundTimeout = time.Second
	}
	// The bus runs as in production: accounts from a cluster secret, and
	// JetStream for change feeds.
	auth, err := messaging.NewAuth(messaging.NewClusterSecret(), "")
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	dir := t.TempDir()
	sc := messaging.DefaultServerConfig()
	sc.Listen = "127.0.0.1:0"
	sc.JetStream, sc.StoreDir, sc.Auth = true, filepath.Join(dir, "nats"), auth
	ns, err := messaging.StartServer(sc)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	c := &Cluster{t: t, opts: o, dir: dir, NATS: ns, Auth: auth, nodes: map[string]*Node{}, AdminKey: tenants.NewSecret()}
	t.Cleanup(c.shutdown)
	for i := 1; i <= o.Nodes; i++ {
		id := fmt.Sprintf("n%d", i)
		c.NodeIDs = append(c.NodeIDs, id)
		c.nodes[id] = &Node{ID: id, conn: c.nodeConn(id)}
	}
	c.initial = slices.Clone(c.NodeIDs)
	for _, id := range c.initial {
		c.Start(id)
	}
	for i := 0; i < o.Gateways; i++ {
		c.Gateways = append(c.Gateways, c.startGateway(i))
	}
	c.TenantID, c.TenantKey = c.NewTenant("test")
	return c
}

// NewTenant creates a tenant through the admin API and returns its ID and
// first API key.
func (c *Cluster) NewTenant(name string) (id, key string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nk, err := c.Admin(0).CreateTenant(ctx, name, client.Quotas{})
	if err != nil {
		c.t.Fatalf("testcluster: create tenant %s: %v", name, err)
	}
	c.mu.Lock()
	if c.keys == nil {
		c.keys = map[string]string{}
	}
	c.keys[nk.Tenant.ID] = nk.APIKey
	c.mu.Unlock()
	return nk.Tenant.ID, nk.APIKey
}

func (c *Cluster) logger(name string) *slog.Logger {
	if !c.opts.Verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(tlogWriter{c.t, name}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct {
	t    testing.TB
	name string
}

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s: %s", w.name, p)
	return len(p), nil
}

func (c *Cluster) connect(name string) *messaging.Conn { return c.connectTo(name, c.NATS.ClientURL()) }

// nodeConn is node id's own connection, which outlives its restarts.
func (c *Cluster) nodeConn(id string) *messaging.Conn {
	url := c.NATS.ClientURL()
	if c.opts.NodeBus != nil {
		url = c.opts.NodeBus(id, url)
	}
	return c.connectTo("node-"+id, url)
}

func (c *Cluster) connectTo(name, url string) *messaging.Conn {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := messaging.Connect(ctx, messaging.ClientConfig{URLs: []string{url}, Name: name, Auth: c.Auth})
	if err != nil {
		c.t.Fatalf("testcluster: %v", err)
	}
	return conn
}

// NodeConfig returns the configuration node id runs with.
func (c *Cluster) NodeConfig(id string) storagenode.Config {
	cfg := storagenode.DefaultConfig(id, filepath.Join(c.dir, "data"))
	cfg.Engine.MemTableSize = 8 << 20
	cfg.Engine.BlockCacheSize = 8 << 20
	cfg.ReadWorkers = 4
	cfg.Logger = c.logger(id)
	cfg.Registerer = prometheus.NewRegistry()
	cfg.Bootstrap = c.initial
	if seeds, ok := c.seeds[id]; ok {
		cfg.Bootstrap, cfg.Seeds = nil, seeds
	}
	cfg.GossipInterval = 200 * time.Millisecond
	cfg.HintInterval = 100 * time.Millisecond
	cfg.AAEInterval = 0 // tests run anti-entropy on demand
	if c.opts.Node != nil {
		c.opts.Node(&cfg)
	}
	return cfg
}

// Start starts (or restarts) a stopped node with its data directory.
func (c *Cluster) Start(id string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[id]
	if n.Node != nil {
		c.t.Fatalf("testcluster: node %s already running", id)
	}
	sn, err := storagenode.Start(c.NodeConfig(id), n.conn)
	if err != nil {
		c.t.Fatalf("testcluster: start %s: %v", id, err)
	}
	n.Node = sn
	// The subscription must reach the server before requests are routed.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.conn.Flush(ctx); err != nil {
		c.t.Fatalf("testcluster: flush %s: %v", id, err)
	}
}

// Stop stops a node as a crash would look from outside: it stops
// answering. Its data directory is kept.
func (c *Cluster) Stop(id string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[id]
	if n.Node == nil {
		return
	}
	if err := n.Node.Close(); err != nil {
		c.t.Errorf("testcluster: stop %s: %v", id, err)
	}
	n.Node = nil
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.conn.Flush(ctx)
}

// AddNode starts a new node that joins the running cluster through seeds.
func (c *Cluster) AddNode(id string, seeds ...string) {
	c.t.Helper()
	c.mu.Lock()
	if c.seeds == nil {
		c.seeds = map[string][]string{}
	}
	c.seeds[id] = seeds
	c.NodeIDs = append(c.NodeIDs, id)
	c.nodes[id] = &Node{ID: id, conn: c.nodeConn(id)}
	c.mu.Unlock()
	c.Start(id)
}

// Wipe deletes a stopped node's data directory, as a lost disk would.
func (c *Cluster) Wipe(id string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[id].Node != nil {
		c.t.Fatalf("testcluster: wipe %s while it runs", id)
	}
	if err := os.RemoveAll(c.NodeConfig(id).Engine.Dir); err != nil {
		c.t.Fatalf("testcluster: wipe %s: %v", id, err)
	}
}

// Node returns a running node, or nil if it is stopped.
func (c *Cluster) Node(id string) *storagenode.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id].Node
}

func (c *Cluster) startGateway(i int) *Gateway {
	cfg := gateway.DefaultConfig()
	cfg.RoundTimeout = c.opts.RoundTimeout
	cfg.AdminKey = c.AdminKey
	cfg.Logger = c.logger(fmt.Sprintf("gw%d", i))
	reg := prometheus.NewRegistry()
	cfg.Registerer, cfg.Gatherer = reg, reg
	if c.opts.Gateway != nil {
		c.opts.Gateway(&cfg)
	}
	conn := c.connect(fmt.Sprintf("gateway-%d", i))
	gw, err := gateway.New(cfg, conn)
	if err != nil {
		c.t.Fatalf("testcluster: gateway: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatalf("testcluster: listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{GW: gw, URL: "http://" + ln.Addr().String(), conn: conn, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(g.done)
		if err := gw.Serve(ctx, ln); err != nil && err != http.ErrServerClosed {
			c.t.Errorf("testcluster: gateway %d: %v", i, err)
		}
	}()
	return g
}

// Client returns an API client for gateway i, acting as the cluster's
// test tenant.
func (c *Cluster) Client(i int) *client.Client { return c.ClientWithKey(i, c.TenantKey) }

// ClientWithKey returns an API client for gateway i using key.
func (c *Cluster) ClientWithKey(i int, key string) *client.Client {
	return client.New(c.Gateways[i].URL, nil).WithAPIKey(key)
}

// Admin returns an API client for gateway i holding the admin key.
func (c *Cluster) Admin(i int) *client.Client { return c.ClientWithKey(i, c.AdminKey) }

func (c *Cluster) shutdown() {
	for i := range c.Gateways {
		c.StopGateway(i)
	}
	for _, id := range c.NodeIDs {
		c.Stop(id)
		c.nodes[id].conn.Close()
	}
	c.NATS.Shutdown()
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
