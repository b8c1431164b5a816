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
	// Why the last attempt to reach a server failed, for Connect's wait
	// (written by the client's callback goroutine).
	var lastFailure atomic.Value
	opts := []nats.Option{
		nats.Name(c.Name),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				lastFailure.Store(err.Error())
			}
		}),
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
	// Servers may start in any order, so a failed connect is retried; say
	// so now and then, with why the last attempt failed.
	nextNote := time.Now().Add(connectNoteEvery)
	for !nc.IsConnected() {
		select {
		case <-ctx.Done():
			err := fmt.Errorf("messaging: connect %v: %w", c.URLs, ctx.Err())
			if last, ok := lastFailure.Load().(string); ok {
				err = fmt.Errorf("%w (last attempt: %s)", err, last)
			}
			nc.Close()
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(nextNote) {
			last, _ := lastFailure.Load().(string)
			log.Warn("waiting for a NATS server", "urls", c.URLs, "last_attempt", last)
			nextNote = time.Now().Add(connectNoteEvery)
		}
	}
	return &Conn{nc: nc, subj: subj, log: log, urls: c.URLs, auth: c.Auth}, nil
}

// connectNoteEvery is how often Connect logs that it is still waiting.
var connectNoteEvery = 5 * time.Second

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
// them. Each open round (a Call) has a reply subject of its own under one
// wildcard subscription, so a round can send to many nodes, receive any
// number of replies (from forwards too), and never starts a goroutine.
//
// A round's subject is its slot's, and a slot is reused once its round is
// closed. The NATS server matches every published subject against its
// subscriptions and caches the result per subject and per connection: a
// fresh subject for every round missed both caches on every reply and
// churned them (pruning, sweeps, a new entry each). A reply that comes
// after its round closed can therefore reach a later round on the same
// slot: each round has a number (Round), which its requests carry and
// their replies echo, so that the receiver can tell its own replies from
// such late ones (numbers wrap after 2^32 rounds; 0 is never a round's).
// A "no responders" notice carries no number: a late one is taken for the
// round that holds the slot.
type Caller struct {
	conn   *Conn
	prefix string
	sub    *nats.Subscription

	mu       sync.RWMutex
	calls    []*Call  // by slot; nil: the slot is free
	subjects []string // by slot
	free     []uint32 // free slots, the most recently freed last
	round    uint32   // the last round's number
}

// OpenRounds reports how many rounds are open.
func (cl *Caller) OpenRounds() int {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	return len(cl.calls) - len(cl.free)
}

// NewCaller subscribes a fresh inbox for this caller.
func (c *Conn) NewCaller() (*Caller, error) {
	cl := &Caller{conn: c, prefix: c.nc.NewInbox()}
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
	slot, err := strconv.ParseUint(m.Subject[i+1:], 36, 32)
	if err != nil {
		return
	}
	cl.mu.RLock()
	var call *Call
	if slot < uint64(len(cl.calls)) {
		call = cl.calls[slot]
	}
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
	slot  uint32
	round uint32
	reply string
	c     chan *nats.Msg
}

// Open starts a round that expects up to buf replies.
func (cl *Caller) Open(buf int) *Call {
	call := &Call{cl: cl, c: make(chan *nats.Msg, buf)}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.round++
	if cl.round == 0 {
		cl.round++ // 0 is what a reply without a number carries
	}
	call.round = cl.round
	if n := len(cl.free); n > 0 {
		call.slot = cl.free[n-1]
		cl.free = cl.free[:n-1]
	} else {
		// As many slots as rounds were ever open at once.
		call.slot = uint32(len(cl.calls))
		cl.calls = append(cl.calls, nil)
		cl.subjects = append(cl.subjects, cl.prefix+"."+strconv.FormatUint(uint64(call.slot), 36))
	}
	cl.calls[call.slot] = call
	call.reply = cl.subjects[call.slot]
	return call
}

// Round is the round's number, which its requests carry so that their
// replies can be told from those of an earlier round on the same subject.
func (call *Call) Round() uint32 { return call.round }

// Send publishes a request whose replies come to this round.
func (call *Call) Send(subject string, data []byte) error {
	return call.cl.conn.Publish(subject, call.reply, data)
}

// Replies delivers the round's replies, and any late reply of an earlier
// round on the same subject (Round says how to tell them apart).
func (call *Call) Replies() <-chan *nats.Msg { return call.c }

// Close ends the round; later replies are dropped or reach a later round.
func (call *Call) Close() {
	cl := call.cl
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.calls[call.slot] == call { // not closed twice
		cl.calls[call.slot] = nil
		cl.free = append(cl.free, call.slot)
	}
}

// NoResponders reports whether m is the server's notice that nobody
// listened on the subject a request was sent to, and if so which subject.
func NoResponders(m *Msg) (subject string, ok bool) {
	if len(m.Data) != 0 || m.Header == nil || m.Header.Get("Status") != "503" {
		return "", false
	}
	return m.Header.Get("Nats-Subject"), true
}
