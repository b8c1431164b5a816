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
	timer := roundTimer(g.cfg.RoundTimeout)
	tr := tracerFrom(ctx)
	rd := m.Start()
	for {
		tr.traceSends(rd)
		g.perform(call, rd)
		if rd.Result != nil {
			if !rd.Done {
				g.bg.Add(1)
				go g.finish(m, call, timer)
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
		var ev coord.Event
		select {
		case msg := <-call.Replies():
			ev = g.event(msg)
		case <-timer.C:
			timer.Reset(g.cfg.RoundTimeout)
			ev = coord.Event{Kind: coord.EvTick}
		case <-ctx.Done():
			releaseTimer(timer)
			call.Close()
			return &coord.Result{Err: ctx.Err()}
		}
		tr.traceEvent(ev)
		rd = m.Step(ev)
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
func (g *Gateway) finish(m *coord.Machine, call *messaging.Call, timer *time.Timer) {
	defer g.bg.Done()
	defer call.Close()
	defer releaseTimer(timer)
	for !m.Done() {
		var rd coord.Ready
		select {
		case msg := <-call.Replies():
			rd = m.Step(g.event(msg))
		case <-timer.C:
			rd = m.Step(coord.Event{Kind: coord.EvTick})
		case <-g.ctx.Done():
			return
		}
		g.perform(call, rd)
	}
}

func (g *Gateway) perform(call *messaging.Call, rd coord.Ready) {
	if rd.Repairs > 0 {
		g.m.readRepairs.Add(float64(rd.Repairs))
	}
	for _, s := range rd.Sends {
		b := wire.EncodeScratch(s.Msg)
		if err := call.Send(g.ops.Get(s.To, s.Msg.Type().String()), *b); err != nil {
			g.log.Warn("send failed", "to", s.To, "err", err)
		}
		wire.Recycle(b)
	}
}

// event turns a message on a round's reply subject into a machine event.
func (g *Gateway) event(msg *messaging.Msg) coord.Event {
	if subject, ok := messaging.NoResponders(msg); ok {
		node, _, _ := g.subj.ParseNodeOp(subject)
		g.reach.markDown(node)
		return coord.Event{Kind: coord.EvNoResponders, From: node}
	}
	m, err := wire.Decode(msg.Data)
	if err != nil {
		g.log.Warn("undecodable reply", "err", err)
		return coord.Event{Kind: coord.EvReply}
	}
	r, ok := m.(*wire.Reply)
	if !ok {
		return coord.Event{Kind: coord.EvReply}
	}
	g.reach.markUp(r.Node)
	return coord.Event{Kind: coord.EvReply, From: r.Node, Reply: r}
}
