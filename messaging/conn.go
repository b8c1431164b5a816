package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// ClientConfig configures a connection to the bus.
type ClientConfig struct {
	// URLs of NATS servers; the client fails over between them.
	URLs []string
	// Name identifies the connection in the server's monitoring.
	Name string
	// Prefix starts every subject (default "rt").
	Prefix string
	// Logger receives connection state changes.
	Logger *slog.Logger
	// Auth, when the bus runs with accounts, makes the connection a user
	// of the internal account.
	Auth *Auth
}

// Validate checks the configuration.
func (c ClientConfig) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("messaging: no NATS URL given")
	}
	_, err := NewSubjects(c.Prefix)
	return err
}

// ErrClosed is returned for operations on a closed connection.
var ErrClosed = errors.New("messaging: connection closed")

// Conn is a connection to the bus.
type Conn struct {
	nc   *nats.Conn
	subj Subjects
	log  *slog.Logger
	urls []string
	auth *Auth
}

// Connect dials the bus, retrying until ctx ends: processes may start before
// the server they connect to.
func Connect(ctx context.Context, c ClientConfig) (*Conn, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	subj, _ := NewSubjects(c.Prefix)
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []nats.Option{
		nats.Name(c.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, 100*time.Millisecond),
		nats.PingInterval(2 * time.Second),
		nats.MaxPingsOutstanding(2),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				// Our own Close at shutdown, not a lost server.
				log.Debug("NATS connection closed")
				return
			}
			log.Warn("NATS disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subject := ""
			if s != nil {
				subject = s.Subject
			}
			log.Warn("NATS async error", "subject", subject, "err", err)
		}),
	}
	if c.Auth != nil {
		user, err := c.Auth.internalUser(c.Name)
		if err != nil {
			return nil, err
		}
		opts = append(opts, user)
	}
	nc, err := nats.Connect(strings.Join(c.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("messaging: connect %v: %w", c.URLs, err)
	}
	for !nc.IsConnected() {
		select {
		case <-ctx.Done():
			nc.Close()
			return nil, fmt.Errorf("messaging: connect %v: %w", c.URLs, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return &Conn{nc: nc, subj: subj, log: log, urls: c.URLs, auth: c.Auth}, nil
}

// Subjects returns the subject builder of this connection's prefix.
func (c *Conn) Subjects() Subjects { return c.subj }

// Msg is a received message. Data is owned by the receiver.
type Msg = nats.Msg

// Subscription is an active subscription.
type Subscription struct{ sub *nats.Subscription }

// Unsubscribe stops delivery.
func (s *Subscription) Unsubscribe() error { return s.sub.Unsubscribe() }

// Subscribe calls h for each message on subject. Messages of one
// subscription are delivered one at a time, in order; h must not block for
// long (hand work to a goroutine the caller owns).
func (c *Conn) Subscribe(subject string, h func(*Msg)) (*Subscription, error) {
	sub, err := c.nc.Subscribe(subject, h)
	if err != nil {
		return nil, fmt.Errorf("messaging: subscribe %s: %w", subject, err)
	}
	// A storage node may have many large requests in flight; the defaults
	// (64 MiB) would drop a burst of big replicate messages.
	if err := sub.SetPendingLimits(-1, 1<<30); err != nil {
		return nil, fmt.Errorf("messaging: subscribe %s: %w", subject, err)
	}
	return &Subscription{sub: sub}, nil
}

// QueueSubscribe is Subscribe with load balancing over a queue group.
func (c *Conn) QueueSubscribe(subject, queue string, h func(*Msg)) (*Subscription, error) {
	sub, err := c.nc.QueueSubscribe(subject, queue, h)
	if err != nil {
		return nil, fmt.Errorf("messaging: subscribe %s: %w", subject, err)
	}
	return &Subscription{sub: sub}, nil
}

// Publish sends data on subject with an optional reply subject.
func (c *Conn) Publish(subject, reply string, data []byte) error {
	var err error
	if reply == "" {
		err = c.nc.Publish(subject, data)
	} else {
		err = c.nc.PublishRequest(subject, reply, data)
	}
	if err != nil {
		return fmt.Errorf("messaging: publish %s: %w", subject, err)
	}
	return nil
}

// Respond answers a request message. A message without a reply subject is
// silently not answered.
func (c *Conn) Respond(m *Msg, data []byte) error {
	if m.Reply == "" {
		return nil
	}
	return c.Publish(m.Reply, "", data)
}

// Request sends one request and waits for its first reply.
func (c *Conn) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	m, err := c.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, fmt.Errorf("messaging: request %s: %w", subject, ErrNoResponders)
		}
		return nil, fmt.Errorf("messaging: request %s: %w", subject, err)
	}
	return m.Data, nil
}

// ErrNoResponders is returned by Request when nobody listens on a subject.
var ErrNoResponders = errors.New("no responders")

// Flush waits until the server has processed everything sent so far.
func (c *Conn) Flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	return c.nc.FlushWithContext(ctx)
}

// Connected reports whether the connection is currently up.
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// ConnectedURL is the server the connection currently uses.
func (c *Conn) ConnectedURL() string { return c.nc.ConnectedUrlRedacted() }

// Close drains subscriptions and closes the connection.
func (c *Conn) Close() {
	if c.nc.IsClosed() {
		return
	}
	_ = c.nc.Drain()
	for i := 0; i < 200 && !c.nc.IsClosed(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	c.nc.Close()
}

// Caller routes replies of fanned-out requests back to the round that sent
// them. Each round (a Call) gets its own reply subject under one wildcard
// subscription, so a round can send to many nodes, receive any number of
// replies (from forwards too), and never starts a goroutine.
type Caller struct {
	conn   *Conn
	prefix string
	sub    *nats.Subscription
	next   atomic.Uint64

	mu    sync.RWMutex
	calls map[uint64]*Call
}

// NewCaller subscribes a fresh inbox for this caller.
func (c *Conn) NewCaller() (*Caller, error) {
	cl := &Caller{conn: c, prefix: c.nc.NewInbox(), calls: map[uint64]*Call{}}
	sub, err := c.nc.Subscribe(cl.prefix+".*", cl.route)
	if err != nil {
		return nil, fmt.Errorf("messaging: caller inbox: %w", err)
	}
	if err := sub.SetPendingLimits(-1, 1<<30); err != nil {
		return nil, fmt.Errorf("messaging: caller inbox: %w", err)
	}
	cl.sub = sub
	return cl, nil
}

func (cl *Caller) route(m *nats.Msg) {
	i := strings.LastIndexByte(m.Subject, '.')
	id, err := strconv.ParseUint(m.Subject[i+1:], 36, 64)
	if err != nil {
		return
	}
	cl.mu.RLock()
	call := cl.calls[id]
	cl.mu.RUnlock()
	if call == nil {
		return // the round is over; late replies are dropped
	}
	select {
	case call.c <- m:
	default:
		// A round sized its buffer for every reply it can expect; more means
		// duplicates, which are safe to drop.
	}
}

// Close stops routing.
func (cl *Caller) Close() { _ = cl.sub.Unsubscribe() }

// Call is one round's reply channel.
type Call struct {
	cl    *Caller
	id    uint64
	reply string
	c     chan *nats.Msg
}

// Open starts a round that expects up to buf replies.
func (cl *Caller) Open(buf int) *Call {
	id := cl.next.Add(1)
	call := &Call{cl: cl, id: id, reply: cl.prefix + "." + strconv.FormatUint(id, 36), c: make(chan *nats.Msg, buf)}
	cl.mu.Lock()
	cl.calls[id] = call
	cl.mu.Unlock()
	return call
}

// Send publishes a request whose replies come to this round.
func (call *Call) Send(subject string, data []byte) error {
	return call.cl.conn.Publish(subject, call.reply, data)
}

// Replies delivers the round's replies.
func (call *Call) Replies() <-chan *nats.Msg { return call.c }

// Close ends the round; later replies are dropped.
func (call *Call) Close() {
	call.cl.mu.Lock()
	delete(call.cl.calls, call.id)
	call.cl.mu.Unlock()
}

// NoResponders reports whether m is the server's notice that nobody
// listened on the subject a request was sent to, and if so which subject.
func NoResponders(m *Msg) (subject string, ok bool) {
	if len(m.Data) != 0 || m.Header == nil || m.Header.Get("Status") != "503" {
		return "", false
	}
	return m.Header.Get("Nats-Subject"), true
}
