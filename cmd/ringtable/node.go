package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/storagenode"
)

type nodeCmd struct {
	debugFlags
	ID      string `help:"Node ID: 1-64 of [A-Za-z0-9_-]." required:""`
	DataDir string `help:"Directory for this node's data." required:""`

	NATSListen        string   `name:"nats-listen" help:"Embed a NATS server listening for clients here (host:port)."`
	NATSClusterListen string   `name:"nats-cluster-listen" help:"Route listen address of the embedded NATS server (host:port)."`
	NATSRoutes        []string `name:"nats-routes" help:"Routes to the peers' embedded NATS servers (nats://host:port,...)."`
	NATSURL           []string `name:"nats-url" help:"Connect to an existing NATS cluster instead (URLs, comma-separated; fails over)." env:"RINGTABLE_NATS_URL"`
	Prefix            string   `help:"Subject prefix." default:"rt"`

	Seeds     []string      `help:"Nodes to contact to join the cluster (IDs, comma-separated)."`
	Bootstrap []string      `help:"Initial members of a new cluster (the same list on each of them)."`
	AutoJoin  bool          `name:"auto-join" help:"Join the ring once the seeds answer (else wait for 'ringtable admin join')." default:"true" negatable:""`
	Weight    int           `help:"Relative share of partitions." default:"1"`
	Q         int           `help:"Ring partitions: a power of two, the same on every node, fixed when the cluster is created." default:"256"`
	Gossip    time.Duration `help:"Gossip period." default:"1s"`

	StatusHTTP string `name:"status-http" help:"Serve the node's status (JSON at /status) and metrics (/metrics) here."`

	secretFlags
	feedFlags
	storeFlags
	procsFlags
}

func (c *nodeCmd) Run(env *runEnv) error {
	if err := c.setProcs(env.log); err != nil {
		return err
	}
	if err := c.startDebug(env); err != nil {
		return err
	}
	// A bad flag is refused before a NATS server starts or a connection
	// is waited for.
	cfg := storagenode.DefaultConfig(c.ID, "")
	cfg.Engine.Dir = c.DataDir
	cfg.Q = c.Q
	cfg.Seeds, cfg.Bootstrap, cfg.AutoJoin, cfg.Weight = c.Seeds, c.Bootstrap, c.AutoJoin, c.Weight
	cfg.GossipInterval = c.Gossip
	c.feedFlags.apply(&cfg)
	c.storeFlags.apply(&cfg)
	cfg.Logger = env.log
	cfg.Registerer = prometheus.DefaultRegisterer
	if err := cfg.Validate(); err != nil {
		return err
	}
	auth, err := c.auth(c.Prefix)
	if err != nil {
		return err
	}
	urls := c.NATSURL
	if c.NATSListen != "" {
		sc := messaging.DefaultServerConfig()
		sc.Name = c.ID
		sc.Listen = c.NATSListen
		sc.ClusterListen = c.NATSClusterListen
		sc.Routes = c.NATSRoutes
		// JetStream keeps change feeds; clustered with the routes.
		sc.JetStream, sc.StoreDir, sc.Auth = true, natsStore(c.DataDir), auth
		// The server's warnings and errors (routes lost, JetStream without
		// a quorum) are the operator's to see; its notices log at debug.
		sc.Logger = env.log.With("component", "nats")
		ns, err := messaging.StartServer(sc)
		if err != nil {
			return err
		}
		defer ns.Shutdown()
		urls = append([]string{ns.ClientURL()}, urls...)
		env.log.Info("embedded NATS server", "client", ns.ClientURL(), "cluster", ns.ClusterURL())
		if sc.ClusterListen != "" {
			// Each node's embedded server is named for the node: one that
			// leaves the ring leaves JetStream's quorum with it.
			if auth != nil {
				busURLs := slices.Clone(urls)
				cfg.RemoveFromBus = func(ctx context.Context, member string) error {
					return auth.RemoveJetStreamPeer(ctx, busURLs, member)
				}
			} else {
				env.log.Warn("without a cluster secret a node that leaves the ring still counts in JetStream's quorum, so each departure leaves change feeds less tolerant of NATS server failures")
			}
		}
	}
	if len(urls) == 0 {
		return errors.New("give --nats-listen to embed a NATS server, or --nats-url to use an existing one")
	}
	ctx, cancel := context.WithTimeout(env.ctx, 30*time.Second)
	conn, err := messaging.Connect(ctx, messaging.ClientConfig{URLs: urls, Name: "node-" + c.ID, Prefix: c.Prefix, Logger: env.log, Auth: auth})
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	n, err := storagenode.Start(cfg, conn)
	if err != nil {
		return err
	}
	if c.StatusHTTP != "" {
		if err := serveStatus(env, c.StatusHTTP, n); err != nil {
			n.Close()
			return err
		}
	}
	fmt.Printf("ringtable node %s: serving from %s over %s\n", c.ID, c.DataDir, conn.ConnectedURL())
	<-env.ctx.Done()
	return n.Close()
}

// serveStatus serves a node's status and metrics over HTTP.
func serveStatus(env *runEnv, addr string, n *storagenode.Node) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = jsonEncode(w, n.Status())
	})
	mux.Handle("GET /metrics", promhttp.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-env.ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return nil
}
