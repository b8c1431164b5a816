// Command ringtable is the single binary of the ringtable table service.
// It parses flags and environment into configuration values, builds the
// requested role and runs it until a signal arrives; nothing else lives
// here.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"
)

type cli struct {
	LogLevel string `help:"Log level: debug, info, warn, error." default:"info" env:"RINGTABLE_LOG_LEVEL" enum:"debug,info,warn,error"`

	Dev     devCmd     `cmd:"" help:"Run everything in one process: embedded NATS, three storage nodes and a gateway."`
	Node    nodeCmd    `cmd:"" help:"Run one storage node."`
	Gateway gatewayCmd `cmd:"" help:"Run one stateless HTTP gateway."`
	Bench   benchCmd   `cmd:"" help:"Load a gateway and report throughput and latency."`
	Admin   adminCmd   `cmd:"" help:"Operate a cluster through a gateway's admin API."`
	// NATSConfig is in feeds.go.
	NATSConfig natsConfigCmd `cmd:"" name:"nats-config" help:"Print the nats-server configuration that serves this cluster's accounts from an external NATS cluster."`
	Shell      shellCmd      `cmd:"" help:"An interactive shell (or script runner) for statements, over a gateway."`
}

func main() {
	var c cli
	kctx := kong.Parse(&c,
		kong.Name("ringtable"),
		kong.Description("A Dynamo-style, always-writable, multi-tenant table service."),
		kong.UsageOnError(),
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := kctx.Run(&runEnv{ctx: ctx, log: newLogger(c.LogLevel)}, &c.Admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ringtable:", err)
		os.Exit(1)
	}
}

// runEnv is what every command's Run receives.
type runEnv struct {
	ctx context.Context
	log *slog.Logger
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(strings.ToUpper(level)))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
