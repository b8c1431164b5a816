package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/messaging/wire"
)

// round drives one coordinator machine until it has a result. If the round
// is not over then (read repair still to do), it finishes in the
// background under the gateway's own context.
func (g *Gateway) round(ctx context.Context, cfg coord.Config) *coord.Result {
	m := coord.New(cfg)
	call := g.caller.Open(4*len(cfg.Replicas) + 4)
	tr := tracerFrom(ctx)
	rd := m.Start()
	// A get that left replicas out hears EvSlow first, then its ticks.
	sp := speculation{pending: rd.Spares && g.cfg.SpeculateAfter < g.cfg.RoundTimeout}
	wait := g.cfg.RoundTimeout
	if sp.pending {
		sp.after, sp.timing, sp.start = g.spec.Delay(), true, time.Now()
		wait = sp.after
	}
	timer := roundTimer(wait)
	for {
		tr.traceSends(rd)
		g.perform(call, rd)
		if rd.Result != nil {
			if !rd.Done {
				g.bg.Add(1)
				go g.finish(m, call, timer, sp)
			} else {
				releaseTimer(timer)
				call.Close()
			}
			return rd.Result
		}
		if rd.Done {
			// A machine always answers before it is done; be safe anyway.
			releaseTimer(timer)
			call.Close()
			return &coord.Result{Err: &coord.QuorumError{Op: cfg.Op}}
		}
		ev, err := g.await(ctx, call, timer, &sp)
		if err != nil {
			releaseTimer(timer)
			call.Close()
			return &coord.Result{Err: err}
		}
		tr.traceEvent(ev, sp.after)
		var silent []string
		if ev.Kind == coord.EvSlow {
			silent = m.Silent() // before the spares join them
		}
		sp.record(ev, len(silent), g.spec)
		rd = m.Step(ev)
		if ev.Kind == coord.EvSlow && len(rd.Sends) > 0 {
			// The next gets ask these last, until they answer again.
			g.m.slowReads.Inc()
			g.reach.markLate(silent)
		}
	}
}

// speculation is a get's state for its speculation delay.
type speculation struct {
	pending bool          // EvSlow is still to come: the timer runs the delay
	after   time.Duration // the delay
	timing  bool          // answers still count for later delays (record)
	start   time.Time     // when the first replicas were asked
}

// await returns the round's next event: a reply of its own, EvSlow when
// sp.pending (the timer then runs the speculation delay), or a tick.
func (g *Gateway) await(ctx context.Context, call *messaging.Call, timer *time.Timer, sp *speculation) (coord.Event, error) {
	for {
		select {
		case msg := <-call.Replies():
			if ev, mine := g.event(call, msg); mine {
				return ev, nil
			}
		case <-timer.C:
			if sp.pending {
				sp.pending = false
				timer.Reset(g.cfg.RoundTimeout - sp.after)
				return coord.Event{Kind: coord.EvSlow}, nil
			}
			timer.Reset(g.cfg.RoundTimeout)
			return coord.Event{Kind: coord.EvTick}, nil
		case <-ctx.Done():
			return coord.Event{}, ctx.Err()
		}
	}
}

// timers holds stopped round timers. A stopped timer delivers nothing
// stale (Go's timers since 1.23), so a round can take one and reset it
// instead of allocating a timer and its channel.
var timers sync.Pool

func roundTimer(d time.Duration) *time.Timer {
	if t, ok := timers.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func releaseTimer(t *time.Timer) {
	t.Stop()
	timers.Put(t)
}

// finish runs the rest of a round whose client has been answered.
func (g *Gateway) finish(m *coord.Machine, call *messaging.Call, timer *time.Timer, sp speculation) {
	defer g.bg.Done()
	defer call.Close()
	defer releaseTimer(timer)
	for !m.Done() {
		ev, err := g.await(g.ctx, call, timer, &sp)
		if err != nil {
			return
		}
		silent := 0
		if ev.Kind == coord.EvSlow {
			silent = len(m.Silent())
		}
		sp.record(ev, silent, g.spec)
		g.perform(call, m.Step(ev))
	}
}

func (g *Gateway) perform(call *messaging.Call, rd coord.Ready) {
	if rd.Repairs > 0 {
		g.m.readRepairs.Add(float64(rd.Repairs))
	}
	for _, s := range rd.Sends {
		wire.SetRound(s.Msg, call.Round())
		b := wire.EncodeScratch(s.Msg)
		if err := call.Send(g.ops.Get(s.To, s.Msg.Type().String()), *b); err != nil {
			g.log.Warn("send failed", "to", s.To, "err", err)
		}
		wire.Recycle(b)
	}
}

// event turns a message on a round's reply subject into a machine event.
// mine is false for a late reply to an earlier round on the same subject,
// which the round must not see.
func (g *Gateway) event(call *messaging.Call, msg *messaging.Msg) (ev coord.Event, mine bool) {
	if subject, ok := messaging.NoResponders(msg); ok {
		node, _, _ := g.subj.ParseNodeOp(subject)
		g.reach.markDown(node)
		return coord.Event{Kind: coord.EvNoResponders, From: node}, true
	}
	m, err := wire.Decode(msg.Data)
	if err != nil {
		g.log.Warn("undecodable reply", "err", err)
		return coord.Event{Kind: coord.EvReply}, true
	}
	r, ok := m.(*wire.Reply)
	if !ok {
		return coord.Event{Kind: coord.EvReply}, true
	}
	g.reach.markUp(r.Node)
	// A node that could not decode a request answers without its tag
	// (round 0): like a "no responders" notice, that is taken for the
	// round that holds the subject.
	round, own := wire.SplitTag(r.Tag)
	if round != 0 && round != call.Round() {
		g.m.lateReplies.Inc()
		return coord.Event{}, false
	}
	r.Tag = own
	return coord.Event{Kind: coord.EvReply, From: r.Node, Reply: r}, true
}
