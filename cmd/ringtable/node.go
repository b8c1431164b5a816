package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/storagenode"
)

type nodeCmd struct {
	debugFlags
	ID      string   `help:"Node ID: 1-64 of [A-Za-z0-9_-]." required:""`
	DataDir string   `help:"Directory for this node's data." required:"" type:"path"`
	NATSURL []string `name:"nats-url" help:"NATS server URLs (comma-separated); the node fails over between them." default:"nats://127.0.0.1:4222" env:"RINGTABLE_NATS_URL"`
	Prefix  string   `help:"Subject prefix." default:"rt"`
}

func (c *nodeCmd) Run(env *runEnv) error {
	if err := c.startDebug(env); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(env.ctx, 30*time.Second)
	conn, err := messaging.Connect(ctx, messaging.ClientConfig{URLs: c.NATSURL, Name: "node-" + c.ID, Prefix: c.Prefix, Logger: env.log})
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	cfg := storagenode.DefaultConfig(c.ID, "")
	cfg.Engine.Dir = c.DataDir
	cfg.Logger = env.log
	cfg.Registerer = prometheus.DefaultRegisterer
	n, err := storagenode.Start(cfg, conn)
	if err != nil {
		return err
	}
	fmt.Printf("ringtable node %s: serving from %s over %s\n", c.ID, c.DataDir, conn.ConnectedURL())
	<-env.ctx.Done()
	return n.Close()
}
