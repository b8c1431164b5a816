package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/storagenode"
	"github.com/ringtable/ringtable/tenants"
)

type devCmd struct {
	debugFlags
	DataDir       string        `help:"Directory holding each storage node's data." default:"./ringtable-data"`
	HTTP          string        `help:"Gateway listen address." default:"127.0.0.1:8080"`
	NATSListen    string        `name:"nats-listen" help:"Embedded NATS server client address (port 0 picks one)." default:"127.0.0.1:4222"`
	Nodes         int           `help:"Number of storage nodes." default:"3"`
	FeedRetention time.Duration `name:"feed-retention" help:"How long change events are kept." default:"24h"`
	Feeds         bool          `name:"feeds" help:"Publish a change event for every committed version (JetStream)." default:"true" negatable:""`
	storeFlags
	procsFlags
}

func (d *devCmd) Run(env *runEnv) error {
	if err := d.setProcs(env.log); err != nil {
		return err
	}
	if err := d.startDebug(env); err != nil {
		return err
	}
	if d.Nodes < 1 || d.Nodes > 16 {
		return fmt.Errorf("--nodes %d: must be 1-16", d.Nodes)
	}
	if err := os.MkdirAll(d.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// The bus runs with accounts derived from a secret kept in the data
	// directory, and JetStream for change feeds.
	secret, err := messaging.LoadOrCreateClusterSecret(filepath.Join(d.DataDir, "cluster.secret"))
	if err != nil {
		return err
	}
	auth, err := messaging.NewAuth(secret, "")
	if err != nil {
		return err
	}
	sc := messaging.DefaultServerConfig()
	sc.Listen = d.NATSListen
	sc.JetStream, sc.StoreDir, sc.Auth = true, natsStore(d.DataDir), auth
	ns, err := messaging.StartServer(sc)
	if err != nil {
		return fmt.Errorf("%w (another ringtable dev or NATS server running? choose another --nats-listen)", err)
	}
	defer ns.Shutdown()
	ln, err := net.Listen("tcp", d.HTTP)
	if err != nil {
		return fmt.Errorf("gateway listen: %w (choose another --http)", err)
	}
	var ids []string
	for i := 1; i <= d.Nodes; i++ {
		ids = append(ids, fmt.Sprintf("n%d", i))
	}
	// The nodes and the gateway share one connection to the bus. They run
	// in one process, and each connection of its own cost the server a
	// read and a write per batch of messages, and the process a flusher
	// and a reader: with one, a gateway's requests to three replicas and
	// the replicas' forwards go out in one write. Write-only runs took
	// about a tenth less CPU a write (docs/performance.md, "One connection in dev").
	// A cluster's processes each have their own, as they must.
	conn, err := func() (*messaging.Conn, error) {
		ctx, cancel := context.WithTimeout(env.ctx, 10*time.Second)
		defer cancel()
		return messaging.Connect(ctx, messaging.ClientConfig{URLs: []string{ns.ClientURL()}, Name: "dev", Logger: env.log, Auth: auth})
	}()
	if err != nil {
		return err
	}
	defer conn.Close()
	var nodes []*storagenode.Node
	defer func() {
		if err := storagenode.CloseAll(nodes...); err != nil {
			env.log.Error("closing storage nodes", "err", err)
		}
	}()
	for _, id := range ids {
		cfg := storagenode.DefaultConfig(id, filepath.Join(d.DataDir))
		cfg.Logger = env.log
		cfg.Registerer = prometheus.DefaultRegisterer
		cfg.Bootstrap = ids
		cfg.Feed.Disabled = !d.Feeds
		d.storeFlags.apply(&cfg)
		cfg.Feed.Stream.Retention = d.FeedRetention
		cfg.Feed.Stream.Replicas = 1 // one NATS server
		cfg.Feed.Stream.Duplicates = min(cfg.Feed.Stream.Duplicates, d.FeedRetention)
		n, err := storagenode.Start(cfg, conn)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	adminKey, err := loadOrCreateKey(filepath.Join(d.DataDir, "admin.key"))
	if err != nil {
		return fmt.Errorf("admin key: %w", err)
	}
	gcfg := gateway.DefaultConfig()
	gcfg.AdminKey = adminKey
	gcfg.Logger = env.log
	gcfg.Registerer = prometheus.DefaultRegisterer
	gw, err := gateway.New(gcfg, conn)
	if err != nil {
		return err
	}
	defer gw.Close()
	devKeyFile := filepath.Join(d.DataDir, "dev.key")
	devKey, err := readKeyFile(devKeyFile)
	if err != nil {
		return err
	}
	if devKey == "" {
		ctx, cancel := context.WithTimeout(env.ctx, 30*time.Second)
		// The dev tenant is the only one of a dev cluster: its request
		// rate is not what should limit a benchmark of it.
		t, key, created, err := gw.CreateTenant(ctx, "dev", tenants.Quotas{RequestsPerSecond: 1e6, Burst: 1e6})
		cancel()
		if err != nil {
			return fmt.Errorf("creating the dev tenant: %w", err)
		}
		if err := writeKeyFile(devKeyFile, key); err != nil {
			return err
		}
		did := "created tenant"
		if !created { // its key file was lost: the data is still the tenant's
			did = "gave a new API key to the existing tenant"
		}
		fmt.Printf("%s %q (%s); its API key, shown once, is also in %s:\n  %s\n", did, t.Name, t.ID, devKeyFile, key)
	}
	fmt.Printf("ringtable dev: gateway http://%s  NATS %s  data %s  (%d storage nodes; Ctrl-C stops)\n", ln.Addr(), ns.ClientURL(), d.DataDir, len(ids))
	fmt.Printf("API key of the dev tenant in %s, admin key in %s\n", devKeyFile, filepath.Join(d.DataDir, "admin.key"))
	if err := gw.Serve(env.ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	env.log.Info("shutting down")
	return nil
}
