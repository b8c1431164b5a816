package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// debugFlags is embedded by the commands that run servers.
type debugFlags struct {
	DebugAddr string `name:"debug-addr" help:"Serve pprof profiles and metrics on this address (opt-in; keep it private)." env:"RINGTABLE_DEBUG_ADDR"`
}

// startDebug serves /debug/pprof and /metrics until ctx ends.
func (d debugFlags) startDebug(env *runEnv) error {
	if d.DebugAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/metrics", promhttp.Handler())
	ln, err := net.Listen("tcp", d.DebugAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			env.log.Warn("debug server", "err", err)
		}
	}()
	go func() {
		<-env.ctx.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	env.log.Info("debug endpoints", "addr", ln.Addr().String())
	return nil
}
