package storagenode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/tenants"
)

// cluster is the node's membership driver: it owns the node's view of the
// member list (one goroutine, the loop), gossips it, persists it, detects
// unreachable peers, and starts transfers when the ring changes.
type cluster struct {
	n     *Node
	local membership.Local
	det   *membership.Detector

	// Owned by the loop.
	state    membership.State
	pulling  string // epoch of the transfer in progress, "" if none
	pulled   string // epoch whose transfer completed
	joinWant bool   // auto-join once the seeds answered
	departed departures
	// handing is what a leave last found to hand over: change events in
	// the outbox, hints held for others.
	handing [2]int

	// Published for other goroutines (handlers, status).
	snap atomic.Pointer[snapshot]
	// leaveWait is what the leave in progress waits for (nil: none).
	leaveWait atomic.Pointer[LeaveWait]

	in   chan func() // work for the loop
	subs []*messaging.Subscription
}

// snapshot is an immutable copy of what the loop knows.
type snapshot struct {
	state       membership.State
	serving     *ring.Ring
	target      *ring.Ring
	unreachable []string
}

var ringStateKey = []byte{byte(tenants.KindRing), 's'}

func newCluster(n *Node) (*cluster, error) {
	c := &cluster{n: n, local: membership.Local{ID: n.cfg.ID, Weight: n.cfg.Weight}, det: membership.NewDetector(), in: make(chan func(), 64)}
	st, err := c.load()
	if err != nil {
		return nil, err
	}
	if _, ok := st.Members[n.cfg.ID]; !ok {
		switch {
		case slices.Contains(n.cfg.Bootstrap, n.cfg.ID):
			st = c.local.Bootstrap(st, n.cfg.Bootstrap)
		case len(n.cfg.Seeds) == 0 || (len(n.cfg.Seeds) == 1 && n.cfg.Seeds[0] == n.cfg.ID):
			// Nobody to join: this node starts a cluster of its own.
			st = c.local.Bootstrap(st, []string{n.cfg.ID})
		default:
			st = c.local.Announce(st)
			c.joinWant = n.cfg.AutoJoin
		}
	}
	if err := c.adopt(st); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *cluster) load() (membership.State, error) {
	st := membership.NewState(c.n.cfg.Q)
	err := c.n.eng.DB().View(func(txn *badger.Txn) error {
		item, err := txn.Get(ringStateKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &st) })
	})
	if err != nil {
		return st, fmt.Errorf("storagenode: ring state: %w", err)
	}
	if st.Q != c.n.cfg.Q {
		return st, fmt.Errorf("storagenode: the data directory's ring has Q=%d, the node is configured with Q=%d", st.Q, c.n.cfg.Q)
	}
	return st, nil
}

// adopt makes st the node's state: persisted before anyone can see it, so
// a restart never forgets a join or a leave.
func (c *cluster) adopt(st membership.State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	err = c.n.eng.DB().Update(func(txn *badger.Txn) error { return txn.Set(ringStateKey, b) })
	if err == nil {
		err = c.n.eng.Checkpoint() // written past the engine's redo log
	}
	if err != nil {
		return fmt.Errorf("storagenode: persist ring state: %w", err)
	}
	c.state = st
	snap := &snapshot{state: st, unreachable: c.det.Unreachable()}
	if snap.serving, err = st.Serving(); err != nil {
		snap.serving = nil // no active member yet (a node waiting to join)
	}
	if snap.target, err = st.Target(); err != nil {
		snap.target = nil
	}
	c.snap.Store(snap)
	return nil
}

// start subscribes to gossip and starts the loop.
func (c *cluster) start(ctx context.Context) error {
	subj := c.n.subj
	for _, s := range []string{subj.Gossip(c.n.cfg.ID), subj.GossipAll()} {
		sub, err := c.n.conn.Subscribe(s, c.onGossip)
		if err != nil {
			return err
		}
		c.subs = append(c.subs, sub)
	}
	c.n.wg.Add(1)
	go func() {
		defer c.n.wg.Done()
		c.loop(ctx)
	}()
	return nil
}

func (c *cluster) stop() {
	for _, s := range c.subs {
		_ = s.Unsubscribe()
	}
}

// do runs fn on the loop and waits for it.
func (c *cluster) do(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	select {
	case c.in <- func() { fn(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// onGossip merges a peer's view (a request on this node's gossip subject,
// or a broadcast) and answers requests with the merged view.
func (c *cluster) onGossip(m *messaging.Msg) {
	var in membership.State
	if len(m.Data) > 0 && json.Unmarshal(m.Data, &in) != nil {
		return
	}
	select {
	case c.in <- func() {
		if len(in.Members) > 0 {
			c.merge(in)
		}
		if m.Reply != "" {
			b, _ := json.Marshal(c.state)
			_ = c.n.conn.Respond(m, b)
		}
	}:
	default: // the loop is busy; gossip is periodic, drop it
	}
}

func (c *cluster) loop(ctx context.Context) {
	t := time.NewTicker(c.n.cfg.GossipInterval)
	defer t.Stop()
	c.broadcast()
	c.step(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case fn := <-c.in:
			fn()
		case <-t.C:
			c.gossipRound(ctx)
			c.step(ctx)
			c.removeDeparted(ctx)
			if rand.IntN(5) == 0 {
				c.broadcast() // gateways converge even without changes
			}
		}
	}
}

// merge folds a peer's view into ours.
func (c *cluster) merge(in membership.State) {
	if in.Q != 0 && in.Q != c.state.Q {
		c.n.log.Warn("gossip from a ring with another Q ignored", "q", in.Q)
		return
	}
	st, changed := c.state.Merge(in)
	if changed {
		c.change(st)
	}
}

// change adopts a new state, tells everyone, and acts on it.
func (c *cluster) change(st membership.State) {
	if err := c.adopt(st); err != nil {
		c.n.log.Error("ring state not saved", "err", err)
		return
	}
	c.broadcast()
}

func (c *cluster) broadcast() {
	b, _ := json.Marshal(c.state)
	if err := c.n.conn.Publish(c.n.subj.GossipAll(), "", b); err != nil {
		c.n.log.Debug("gossip broadcast failed", "err", err)
	}
}

// gossipRound exchanges views with one random peer, with a seed, and with
// the unreachable peers due for a probe. Exchanges run off the loop; their
// results come back through it.
func (c *cluster) gossipRound(ctx context.Context) {
	peers := c.peersToContact()
	b, _ := json.Marshal(c.state)
	for _, p := range peers {
		c.n.wg.Add(1)
		go func(peer string) {
			defer c.n.wg.Done()
			rctx, cancel := context.WithTimeout(ctx, c.n.cfg.GossipInterval)
			defer cancel()
			data, err := c.n.conn.Request(rctx, c.n.subj.Gossip(peer), b)
			var in membership.State
			if err == nil && json.Unmarshal(data, &in) != nil {
				err = errors.New("bad gossip reply")
			}
			select {
			case c.in <- func() { c.gossipDone(peer, in, err) }:
			case <-ctx.Done():
			}
		}(p)
	}
}

func (c *cluster) peersToContact() []string {
	var members []string
	for _, id := range c.state.Alive() {
		if id != c.n.cfg.ID {
			members = append(members, id)
		}
	}
	var out []string
	if len(members) > 0 {
		out = append(out, members[rand.IntN(len(members))])
	}
	var seeds []string
	for _, s := range c.n.cfg.Seeds {
		if s != c.n.cfg.ID {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) > 0 {
		if s := seeds[rand.IntN(len(seeds))]; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, p := range c.det.Tick() {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func (c *cluster) gossipDone(peer string, in membership.State, err error) {
	if err != nil {
		if c.det.Missed(peer) {
			c.n.log.Warn("peer unreachable", "peer", peer, "err", err)
			c.refreshSnapshot()
		}
		return
	}
	if c.det.Heard(peer) {
		c.n.log.Info("peer reachable again", "peer", peer)
		c.refreshSnapshot()
	}
	c.merge(in)
}

func (c *cluster) refreshSnapshot() {
	s := *c.snap.Load()
	s.unreachable = c.det.Unreachable()
	c.snap.Store(&s)
}

// step moves the node's own membership forward: join when the seeds have
// answered, pull the partitions of a changed ring, mark itself ready, and
// complete its join or leave when everyone is ready.
func (c *cluster) step(ctx context.Context) {
	st := c.state
	if c.joinWant && len(st.Alive()) > 0 && st.Members[c.n.cfg.ID].Status == membership.Waiting {
		next, err := c.local.Join(st)
		if err != nil {
			c.n.log.Error("join", "err", err)
			c.joinWant = false
			return
		}
		c.joinWant = false
		c.n.log.Info("joining the ring", "seq", next.Members[c.n.cfg.ID].Joined)
		c.change(next)
		st = c.state
	}
	me, ok := st.Members[c.n.cfg.ID]
	if !ok || me.Status == membership.Waiting || me.Status == membership.Left {
		return
	}
	epoch := st.Epoch()
	if me.Ready != epoch {
		if c.pulled == epoch {
			c.change(c.local.MarkReady(st))
		} else if c.pulling != epoch {
			c.pulling = epoch
			c.n.startTransfers(ctx, st, epoch, func(err error) {
				// Back on the loop when the transfers end.
				if c.pulling != epoch {
					return
				}
				c.pulling = ""
				if err != nil {
					c.n.log.Warn("transfers incomplete; retrying", "err", err)
					return
				}
				c.pulled = epoch
			})
		}
		return
	}
	if me.Status != membership.Leaving || !st.AllReady() {
		c.leaveWait.Store(nil)
	} else if !c.handedOver() {
		return
	}
	if next := c.local.Advance(st); next.Members[c.n.cfg.ID].Version != me.Version {
		c.n.log.Info("ring change complete", "status", next.Members[c.n.cfg.ID].Status)
		c.change(next)
	}
}

// handedOver reports whether nothing is left that only this node would
// pass on: change events it stamped that are not in the feed stream yet
// (nobody else publishes them), and hints it holds for other members
// (nobody else delivers them). A leaving node completes its leave only
// then, as once it has left its process is stopped. From the moment every
// member is ready the ring no longer gives it writes, so both only shrink,
// and every member being up (ready), its hints can be delivered.
func (c *cluster) handedOver() bool {
	const most = 100000 // counting further says nothing more
	events, err := c.n.eng.CountUpTo(tenants.OutboxPrefix(), most)
	if err != nil {
		c.n.log.Warn("leave: reading the outbox", "err", err)
		return false
	}
	hinted := 0
	for _, kind := range tenants.HintKinds {
		n, err := c.n.eng.CountUpTo([]byte{byte(kind)}, most)
		if err != nil {
			c.n.log.Warn("leave: reading the hints", "err", err)
			return false
		}
		hinted += n
	}
	left := [2]int{events, hinted}
	if left != c.handing {
		switch {
		case left == [2]int{}:
			c.n.log.Info("change events published and hints delivered; the leave completes")
		case c.handing == [2]int{}:
			c.n.log.Info("leave waits for the outbox's change events to reach the feed stream and for hints to be delivered", "events", events, "hints", hinted)
		}
	}
	c.handing = left
	if left == [2]int{} {
		c.leaveWait.Store(nil)
		return true
	}
	c.leaveWait.Store(&LeaveWait{Events: events, Hints: hinted})
	return false
}

// admin runs an operator's join or leave.
func (c *cluster) admin(ctx context.Context, op string) error {
	var err error
	derr := c.do(ctx, func() {
		var next membership.State
		switch op {
		case "join":
			next, err = c.local.Join(c.state)
		case "leave":
			next, err = c.local.Leave(c.state)
		default:
			err = fmt.Errorf("unknown membership operation %q", op)
		}
		if err == nil {
			c.change(next)
			// The node's own context, not the request's: transfers
			// started here outlive the admin request.
			c.step(c.n.ctx)
		}
	})
	return errors.Join(derr, err)
}

// missed feeds a failed request to a peer to the detector.
func (c *cluster) missed(peer string) {
	select {
	case c.in <- func() {
		if c.det.Missed(peer) {
			c.n.log.Warn("peer unreachable", "peer", peer)
			c.refreshSnapshot()
		}
	}:
	default:
	}
}

// heard and missed feed replica-request outcomes to the detector.
func (c *cluster) heard(peer string) {
	select {
	case c.in <- func() {
		if c.det.Heard(peer) {
			c.refreshSnapshot()
		}
	}:
	default:
	}
}
