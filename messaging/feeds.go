package messaging

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FeedConfig describes the JetStream stream that keeps change events.
type FeedConfig struct {
	// Retention is how long events are kept (default 24h).
	Retention time.Duration
	// Replicas is how many copies the stream keeps (default 3), lowered
	// to what the NATS cluster can hold when the stream is created.
	Replicas int
	// Duplicates is the window within which the stream drops an event
	// published again with the same ID (a coordinator's retried stamp, a
	// publish retried after a lost PubAck; default 10s). The server keeps
	// every ID of the window in memory; a node checks older events itself
	// before publishing them again (storagenode.FeedConfig.RecheckWithin).
	Duplicates time.Duration
	// MaxBytes bounds the stream's size, oldest events dropped first
	// (default -1: only Retention).
	MaxBytes int64
}

// DefaultFeedConfig returns the defaults.
func DefaultFeedConfig() FeedConfig {
	return FeedConfig{Retention: 24 * time.Hour, Replicas: 3, Duplicates: 10 * time.Second, MaxBytes: -1}
}

// Validate checks the configuration.
func (c FeedConfig) Validate() error {
	if c.Retention <= 0 || c.Replicas < 1 || c.Replicas > 5 || c.Duplicates <= 0 || c.Duplicates > c.Retention || c.MaxBytes == 0 {
		return errors.New("messaging: feed retention and duplicate window must be positive (window ≤ retention), replicas 1-5, max bytes -1 or positive")
	}
	return nil
}

// Feeds is the change-feed stream as one connection sees it: nodes
// publish into it, gateways read from it. Safe for concurrent use.
type Feeds struct {
	conn *Conn
	js   jetstream.JetStream
	cfg  FeedConfig
	name string
	// expect is the expected-stream header's value, shared by every
	// event's header (nothing writes to a header once it is published).
	expect []string
}

// Feeds returns the feed stream of this connection's prefix.
func (c *Conn) Feeds(cfg FeedConfig) (*Feeds, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(c.nc,
		jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("messaging: JetStream: %w", err)
	}
	name := FeedStreamName(c.subj.prefix)
	return &Feeds{conn: c, js: js, cfg: cfg, name: name, expect: []string{name}}, nil
}

// FeedStreamName is the name of the feed stream of a subject prefix.
func FeedStreamName(prefix string) string {
	return strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(prefix)) + "_FEED"
}

// Ensure creates the stream, or updates it to the configuration, and
// returns its replica count. Replicas are lowered one by one until the
// cluster accepts them.
func (f *Feeds) Ensure(ctx context.Context) (int, error) {
	s := f.conn.subj
	sc := jetstream.StreamConfig{
		Name:        f.name,
		Description: "ringtable change events, one per committed version",
		Subjects:    []string{s.feedLogAll()},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      f.cfg.Retention,
		MaxBytes:    f.cfg.MaxBytes,
		MaxMsgSize:  2 << 20,
		Storage:     jetstream.FileStorage,
		Duplicates:  f.cfg.Duplicates,
		// Each stored event goes out once on rt.feed.<tenant>.<table>,
		// with its sequence in the Nats-Sequence header; an event
		// dropped as a duplicate is not republished.
		RePublish: &jetstream.RePublish{
			Source:      s.FeedLog("*", "*"),
			Destination: fmt.Sprintf(subjFeedT, s.prefix, "{{wildcard(1)}}", "{{wildcard(2)}}"),
		},
	}
	var err error
	for r := f.cfg.Replicas; r >= 1; r-- {
		sc.Replicas = r
		if _, err = f.js.CreateOrUpdateStream(ctx, sc); err == nil {
			return r, nil
		}
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) {
			break
		}
	}
	return 0, fmt.Errorf("messaging: feed stream %s: %w", f.name, err)
}

// FeedInfo describes the stream.
type FeedInfo struct {
	Replicas int
	Events   uint64
	FirstSeq uint64
	LastSeq  uint64
	// Copies names the servers of the stream's group, its leader first,
	// and Current those whose copy is up to date (on a NATS cluster; nil
	// on a lone server). While a copy moves, the group holds both.
	Copies, Current []string
}

// Info returns the stream's state.
func (f *Feeds) Info(ctx context.Context) (*FeedInfo, error) {
	s, err := f.js.Stream(ctx, f.name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFeedUnavailable, err)
	}
	i, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFeedUnavailable, err)
	}
	fi := &FeedInfo{Replicas: i.Config.Replicas, Events: i.State.Msgs, FirstSeq: i.State.FirstSeq, LastSeq: i.State.LastSeq}
	if cl := i.Cluster; cl != nil && cl.Leader != "" {
		fi.Copies = append(fi.Copies, cl.Leader)
		fi.Current = append(fi.Current, cl.Leader)
		for _, r := range cl.Replicas {
			fi.Copies = append(fi.Copies, r.Name)
			if r.Current && !r.Offline {
				fi.Current = append(fi.Current, r.Name)
			}
		}
	}
	return fi, nil
}

// FeedPub is one event to publish.
type FeedPub struct {
	Tenant, Table string
	// ID is the event's message ID, unique per event: JetStream drops a
	// second publish of it within the duplicate window.
	ID   string
	Data []byte
}

// PublishAsync publishes events, in order, without waiting for the
// stream: each one's acknowledgement is awaited with its FeedAck, so a
// publisher can send more while earlier events are being stored.
func (f *Feeds) PublishAsync(evs []FeedPub) []FeedAck {
	acks := make([]FeedAck, len(evs))
	for i, e := range evs {
		// The headers jetstream.WithMsgID and WithExpectStream would set,
		// set here: the options allocate a closure each and a struct of their
		// own, on every event.
		m := &nats.Msg{Subject: f.conn.subj.FeedLog(e.Tenant, e.Table), Data: e.Data, Header: nats.Header{
			jetstream.MsgIDHeader:          {e.ID},
			jetstream.ExpectedStreamHeader: f.expect,
		}}
		acks[i].fut, acks[i].err = f.js.PublishMsgAsync(m)
	}
	return acks
}

// Stored reports which of ids are the message IDs of events the stream
// stored at or after since (by the stream's clock). A publisher asks it
// before publishing again events that may have been stored longer ago
// than the duplicate window, where the stream would no longer drop the
// second copy. It reads the headers of every event stored since then, so
// since should be recent.
func (f *Feeds) Stored(ctx context.Context, since time.Time, ids map[string]bool) (map[string]bool, error) {
	found := map[string]bool{}
	if len(ids) == 0 {
		return found, nil
	}
	s, err := f.js.Stream(ctx, f.name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFeedUnavailable, err)
	}
	st := s.CachedInfo().State
	if st.Msgs == 0 || st.LastTime.Before(since) {
		return found, nil
	}
	cons, err := f.js.OrderedConsumer(ctx, f.name, jetstream.OrderedConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartTimePolicy,
		OptStartTime:      &since,
		HeadersOnly:       true,
		InactiveThreshold: 10 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFeedUnavailable, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFeedUnavailable, err)
	}
	defer it.Stop()
	// Events stored after the stream's state was read are not looked
	// at: one still in flight then was stored within the duplicate
	// window, which drops a second copy.
	for len(found) < len(ids) {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("messaging: reading the feed's message IDs: %w", err)
		}
		if id := m.Headers().Get(jetstream.MsgIDHeader); ids[id] {
			found[id] = true
		}
		md, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("messaging: reading the feed's message IDs: %w", err)
		}
		if md.Sequence.Stream >= st.LastSeq || md.NumPending == 0 {
			break
		}
	}
	return found, nil
}

// FeedAck is the stream's answer to one published event.
type FeedAck struct {
	fut jetstream.PubAckFuture
	err error // the publish itself failed
}

// Wait returns nil once the event is stored (or had been already), the
// stream's error, or ctx's. It waits at most about 5 seconds.
func (a FeedAck) Wait(ctx context.Context) error {
	if a.fut == nil {
		return a.err
	}
	select {
	case <-a.fut.Ok():
		return nil
	case err := <-a.fut.Err():
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FeedStart says where a reader starts: at sequence Seq, else at time
// Time, else with the next event stored.
type FeedStart struct {
	Seq  uint64
	Time time.Time
}

// FeedMsg is one stored event.
type FeedMsg struct {
	Seq  uint64
	Time time.Time
	Data []byte
}

// FeedReader reads one table's events in stream order.
type FeedReader struct {
	it jetstream.MessagesContext
}

// ErrFeedUnavailable is returned when the feed stream cannot be read
// (JetStream down, or the stream not created yet).
var ErrFeedUnavailable = errors.New("messaging: change feed stream unavailable")

// Reader starts reading the events of one table of one tenant. An ordered
// consumer follows the stream: it never skips or repeats an event, and
// recreates itself if it falls behind or its server goes away.
func (f *Feeds) Reader(ctx context.Context, tenant, table string, from FeedStart) (*FeedReader, error) {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{f.conn.subj.FeedLog(tenant, table)},
		DeliverPolicy:     jetstream.DeliverNewPolicy,
		InactiveThreshold: time.Minute,
	}
	switch {
	case from.Seq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from.Seq
	case !from.Time.IsZero():
		t := from.Time
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	cons, err := f.js.OrderedConsumer(ctx, f.name, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFeedUnavailable, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFeedUnavailable, err)
	}
	return &FeedReader{it: it}, nil
}

// Next returns the next event, or nil if none came within wait.
func (r *FeedReader) Next(wait time.Duration) (*FeedMsg, error) {
	m, err := r.it.Next(jetstream.NextMaxWait(wait))
	if errors.Is(err, nats.ErrTimeout) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("messaging: reading the feed: %w", err)
	}
	md, err := m.Metadata()
	if err != nil {
		return nil, fmt.Errorf("messaging: reading the feed: %w", err)
	}
	return &FeedMsg{Seq: md.Sequence.Stream, Time: md.Timestamp, Data: m.Data()}, nil
}

// Stop ends the reader.
func (r *FeedReader) Stop() { r.it.Stop() }
