package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/gateway"
	"github.com/ringtable/ringtable/messaging"
)

type gatewayCmd struct {
	debugFlags
	HTTP              string        `help:"Listen address." default:"127.0.0.1:8080"`
	NATSURL           []string      `name:"nats-url" help:"NATS server URLs (comma-separated); the gateway fails over between them." default:"nats://127.0.0.1:4222" env:"RINGTABLE_NATS_URL"`
	Q                 int           `help:"Ring partitions (as the storage nodes)." default:"256"`
	Prefix            string        `help:"Subject prefix." default:"rt"`
	RoundTimeout      time.Duration `help:"Timeout of one replica round." default:"1s"`
	ReadRepairEvery   int           `help:"One get in this many asks every replica, so that read repair reaches them all (1: every get); the others ask R replicas." default:"10"`
	SpeculateAfter    time.Duration `help:"The longest a get that asked R replicas waits for them before it asks the others too." default:"25ms"`
	SpeculateQuantile float64       `help:"A get waits less when recent answers were faster: this quantile of the times the replicas it asks first took to answer (0: always --speculate-after)." default:"0.99"`
	AdminKey          string        `name:"admin-key" help:"Key that authorises the admin API (none: admin API disabled)." env:"RINGTABLE_ADMIN_KEY"`
	MaxFeeds          int           `name:"max-feeds" help:"Change feed streams one tenant may keep open at this gateway." default:"64"`
	secretFlags
}

func (c *gatewayCmd) Run(env *runEnv) error {
	if err := c.startDebug(env); err != nil {
		return err
	}
	auth, err := c.auth(c.Prefix)
	if err != nil {
		return err
	}
	cfg := gateway.DefaultConfig()
	cfg.Q = c.Q
	cfg.RoundTimeout = c.RoundTimeout
	cfg.ReadRepairEvery, cfg.SpeculateAfter, cfg.SpeculateQuantile = c.ReadRepairEvery, c.SpeculateAfter, c.SpeculateQuantile
	cfg.MaxFeedsPerTenant = c.MaxFeeds
	cfg.AdminKey = c.AdminKey
	cfg.Logger = env.log
	cfg.Registerer = prometheus.DefaultRegisterer
	// A bad setting or a taken port is refused before waiting for NATS.
	if err := cfg.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.HTTP)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(env.ctx, 30*time.Second)
	conn, err := messaging.Connect(ctx, messaging.ClientConfig{URLs: c.NATSURL, Name: "gateway", Prefix: c.Prefix, Logger: env.log, Auth: auth})
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	gw, err := gateway.New(cfg, conn)
	if err != nil {
		return err
	}
	defer gw.Close()
	fmt.Printf("ringtable gateway: http://%s over %s\n", ln.Addr(), conn.ConnectedURL())
	if err := gw.Serve(env.ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
