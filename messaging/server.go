package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerConfig configures an embedded NATS server.
type ServerConfig struct {
	// Name identifies the server in its cluster; defaults to a random ID.
	Name string
	// Listen is the client address, host:port. Port 0 picks a free port;
	// the default "127.0.0.1:4222" keeps a dev cluster off the network.
	Listen string
	// ClusterName, ClusterListen and Routes make the server one of a NATS
	// cluster, so the bus has no single point of failure: every storage
	// node can embed a server that routes to its peers'. ClusterListen
	// empty: standalone.
	ClusterName   string
	ClusterListen string
	Routes        []string
	// MaxPayload bounds one message. It is raised well above NATS's 1 MiB
	// default so a key at its sibling limit stays readable in one reply.
	MaxPayload int32
	// Logger receives the server's own log lines at debug level; nil
	// silences them.
	Logger *slog.Logger
	// JetStream enables the server's JetStream (change feeds are kept
	// there), storing under StoreDir; in a NATS cluster it is clustered
	// too (Name must then be set, and unique).
	JetStream bool
	// StoreDir holds JetStream's files and the account resolver's.
	StoreDir string
	// Auth, when set, runs the server in operator mode with accounts
	// (see auth.go); its JWTs live under StoreDir.
	Auth *Auth
}

// DefaultServerConfig returns the configuration of a standalone dev server.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		Listen:     "127.0.0.1:4222",
		MaxPayload: 64 << 20, // fits wire.MaxMessage
	}
}

// Validate checks the configuration.
func (c ServerConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("messaging: listen address %q: %w", c.Listen, err)
	}
	if c.ClusterListen != "" {
		if _, _, err := net.SplitHostPort(c.ClusterListen); err != nil {
			return fmt.Errorf("messaging: cluster listen address %q: %w", c.ClusterListen, err)
		}
	}
	for _, r := range c.Routes {
		if _, err := url.Parse(r); err != nil || !strings.HasPrefix(r, "nats://") {
			return fmt.Errorf("messaging: route %q: want nats://host:port", r)
		}
	}
	if c.MaxPayload < 1<<20 || c.MaxPayload > 64<<20 {
		return fmt.Errorf("messaging: max payload %d outside [1 MiB, 64 MiB]", c.MaxPayload)
	}
	if (c.JetStream || c.Auth != nil) && c.StoreDir == "" {
		return errors.New("messaging: JetStream and accounts need a store directory")
	}
	if c.JetStream && c.ClusterListen != "" && !ValidToken(c.Name) {
		return errors.New("messaging: a clustered JetStream server needs a name")
	}
	return nil
}

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// StartServer starts an embedded NATS server and waits until it accepts
// connections.
func StartServer(c ServerConfig) (*Server, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	host, portStr, _ := net.SplitHostPort(c.Listen)
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("messaging: listen port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:            c.Name,
		Host:                  host,
		Port:                  port,
		MaxPayload:            c.MaxPayload,
		MaxPending:            int64(c.MaxPayload) * 4,
		NoSigs:                true,
		NoLog:                 c.Logger == nil,
		DisableShortFirstPing: true,
	}
	if c.ClusterListen != "" {
		chost, cport, _ := net.SplitHostPort(c.ClusterListen)
		opts.Cluster.Name = c.ClusterName
		if opts.Cluster.Name == "" {
			opts.Cluster.Name = "ringtable"
		}
		opts.Cluster.Host = chost
		if opts.Cluster.Port, err = strconv.Atoi(cport); err != nil {
			return nil, fmt.Errorf("messaging: cluster port %q: %w", cport, err)
		}
		if opts.Cluster.Port == 0 {
			opts.Cluster.Port = server.RANDOM_PORT
		}
		// With no routes given this is one empty route, which the server
		// dials in vain: clustered JetStream refuses to start without a
		// configured route, and the first server of a cluster has no peer
		// to name yet. Its error line is logged at debug (natsLogger).
		opts.Routes = server.RoutesFromStr(strings.Join(c.Routes, ","))
	}
	if err := c.configureStore(opts); err != nil {
		return nil, err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("messaging: embedded NATS server: %w", err)
	}
	logger := &natsLogger{l: c.Logger}
	ns.SetLoggerV2(logger, false, false, false)
	// Start returns once its listeners are open, or as soon as one fails
	// (it reports that through Fatalf and returns): a taken port fails at
	// once with its cause, and a busy machine only makes it slow.
	started := make(chan struct{})
	go func() {
		ns.Start()
		close(started)
	}()
	select {
	case <-started:
	case <-time.After(readyTimeout):
		ns.Shutdown()
		return nil, fmt.Errorf("messaging: embedded NATS server did not start in %v", readyTimeout)
	}
	if err := logger.fatal(); err != nil {
		ns.Shutdown()
		return nil, fmt.Errorf("messaging: embedded NATS server: %w", err)
	}
	// The route listener opens in its own goroutine.
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		if err := logger.fatal(); err != nil {
			return nil, fmt.Errorf("messaging: embedded NATS server: %w", err)
		}
		return nil, fmt.Errorf("messaging: embedded NATS server not ready in %v", readyTimeout)
	}
	return &Server{ns: ns}, nil
}

// readyTimeout bounds the server's start and then the wait for the route
// listener it opens in the background. It is generous because running
// out of it fails the process, and a loaded two-core machine can slow a
// start by seconds.
const readyTimeout = 60 * time.Second

// ClusterURL is the route URL peers use to reach this server, "" when
// standalone.
func (s *Server) ClusterURL() string {
	addr := s.ns.ClusterAddr()
	if addr == nil {
		return ""
	}
	return "nats://" + addr.String()
}

// NumRoutes is the number of peer servers this one is routed to.
func (s *Server) NumRoutes() int { return s.ns.NumRoutes() }

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it to finish.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// natsLogger adapts slog to the server's logger interface (l nil: the
// lines are dropped) and keeps the first fatal error, which the server
// reports only through its logger.
type natsLogger struct {
	l *slog.Logger

	mu       sync.Mutex
	firstErr error
}

func (n *natsLogger) fatal() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.firstErr
}

func (n *natsLogger) log(level slog.Level, f string, v []any) {
	if n.l != nil && n.l.Enabled(context.Background(), level) {
		n.l.Log(context.Background(), level, fmt.Sprintf(f, v...))
	}
}

func (n *natsLogger) Fatalf(f string, v ...any) {
	n.mu.Lock()
	if n.firstErr == nil {
		n.firstErr = fmt.Errorf(f, v...)
	}
	n.mu.Unlock()
	n.log(slog.LevelError, f, v)
}

func (n *natsLogger) Noticef(f string, v ...any) { n.log(slog.LevelDebug, f, v) }
func (n *natsLogger) Warnf(f string, v ...any) {
	level := slog.LevelWarn
	if strings.HasPrefix(f, "Maximum payloads over") {
		level = slog.LevelDebug // MaxPayload is raised on purpose
	}
	n.log(level, f, v)
}
func (n *natsLogger) Errorf(f string, v ...any) {
	level := slog.LevelError
	if strings.HasPrefix(f, "Error trying to connect to route") && len(v) > 0 && strings.Contains(fmt.Sprint(v[len(v)-1]), "missing port in address") {
		level = slog.LevelDebug // the placeholder route of a server given none
	}
	n.log(level, f, v)
}
func (n *natsLogger) Debugf(f string, v ...any) { n.log(slog.LevelDebug, f, v) }
func (n *natsLogger) Tracef(f string, v ...any) { n.log(slog.LevelDebug, f, v) }

// configureStore enables JetStream and accounts as configured.
func (c ServerConfig) configureStore(opts *server.Options) error {
	if c.JetStream {
		opts.JetStream = true
		opts.StoreDir = c.StoreDir
	}
	if c.Auth != nil {
		return c.Auth.configureServer(opts, filepath.Join(c.StoreDir, "accounts"))
	}
	return nil
}
