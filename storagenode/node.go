package storagenode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/storagenode/engine"
	"github.com/ringtable/ringtable/vclock"
)

// Node is a running replica.
type Node struct {
	cfg  Config
	eng  *engine.Engine
	conn *messaging.Conn
	subj messaging.Subjects
	ops  *messaging.NodeOps // subj's node subjects, for forwards
	log  *slog.Logger
	m    *metrics

	cl      *cluster
	handoff *handoff
	aae     *aae
	xfers   transfers
	limits  *limits
	feed    *publisher // nil when change events are off
	disk    *diskGuard
	ctx     context.Context // ends at Close: background work stops
	cancel  context.CancelFunc

	sub         *messaging.Subscription
	gets        getPlacer // owned by the subscription's goroutine
	reads       chan readReq
	readsMu     sync.RWMutex // guards readsClosed against dispatch racing Close
	readsClosed bool
	wg          sync.WaitGroup
	once        sync.Once
}

// Start opens the node's store and starts serving its subject on conn.
// The caller keeps ownership of conn.
func Start(cfg Config, conn *messaging.Conn) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("node", cfg.ID)
	cfg.Engine.Logger = log
	eng, err := engine.Open(cfg.Engine)
	if err != nil {
		return nil, fmt.Errorf("storagenode %s: %w", cfg.ID, err)
	}
	n := &Node{
		cfg:   cfg,
		eng:   eng,
		conn:  conn,
		subj:  conn.Subjects(),
		ops:   messaging.NewNodeOps(conn.Subjects()),
		log:   log,
		m:     newMetrics(cfg.Registerer, cfg.ID, eng),
		reads: make(chan readReq, cfg.ReadWorkers*16),
		gets:  getPlacer{slow: cfg.SlowGet},
	}
	if n.disk, err = newDiskGuard(cfg.ID, cfg.Engine.Dir, cfg.MinFreeDisk, log); err != nil {
		n.m.unregister()
		eng.Close()
		return nil, err
	}
	n.m.add(n.disk.gauge())
	n.limits = newLimits(cfg.TransferRate, cfg.HintRate, cfg.AAERate)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.handoff = newHandoff(n)
	n.aae = newAAE(n)
	if n.cl, err = newCluster(n); err != nil {
		n.cancel()
		eng.Close()
		return nil, err
	}
	if !cfg.Feed.Disabled {
		if n.feed, err = newPublisher(n); err != nil {
			n.cancel()
			eng.Close()
			return nil, err
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.feed.run(n.ctx)
		}()
	}
	for range cfg.ReadWorkers {
		n.wg.Add(1)
		go n.readWorker()
	}
	n.sub, err = conn.Subscribe(n.subj.NodeAll(cfg.ID), n.dispatch)
	if err == nil {
		err = n.cl.start(n.ctx)
	}
	if err == nil {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.handoff.loop(n.ctx)
		}()
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.aae.loop(n.ctx)
		}()
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.disk.loop(n.ctx)
		}()
	}
	if err != nil {
		n.Close()
		return nil, err
	}
	log.Info("storage node serving", "actor", eng.Actor(), "dir", cfg.Engine.Dir)
	return n, nil
}

// ID returns the node's ID.
func (n *Node) ID() string { return n.cfg.ID }

// Actor returns the clock actor of this node's incarnation.
func (n *Node) Actor() vclock.Actor { return n.eng.Actor() }

// Engine exposes the store, for tests that inspect one replica directly.
func (n *Node) Engine() *engine.Engine { return n.eng }

// CloseAll closes nodes that share a process (ringtable dev). Each
// first stops what it does to its peers (gossip, hinted handoff,
// anti-entropy, the feed's publisher), and only then do they close one by
// one: closed in turn, the nodes still running gossiped with the one
// closing, found no responder, and logged it as unreachable while the
// whole process was only stopping.
func CloseAll(nodes ...*Node) error {
	for _, n := range nodes {
		n.cancel()
	}
	var errs []error
	for _, n := range nodes {
		if err := n.Close(); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", n.ID(), err))
		}
	}
	return errors.Join(errs...)
}

// Close stops serving, completes accepted writes and closes the store.
// Requests that arrive afterwards go unanswered, as with a crashed node.
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		if n.sub != nil {
			_ = n.sub.Unsubscribe()
		}
		n.cl.stop()
		n.cancel()
		// The subscription may still be delivering its last message; the
		// dispatcher checks closing under the same lock.
		n.closeReads()
		n.wg.Wait()
		err = n.eng.Close()
		n.m.unregister()
		n.log.Info("storage node stopped")
	})
	return err
}

func (n *Node) readWorker() {
	defer n.wg.Done()
	for r := range n.reads {
		n.serveRead(r.m, r.req)
	}
}
