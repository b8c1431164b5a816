package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/messaging/wire"
)

// TraceEvent is one step of a coordinator round, as TRACING ON shows it.
type TraceEvent struct {
	AtMillis float64 `json:"at_ms"`
	Node     string  `json:"node,omitempty"`
	Event    string  `json:"event"`
	Detail   string  `json:"detail,omitempty"`
}

// tracer collects the events of the rounds of one statement. It is
// attached to the request's context only when a trace was asked for.
type tracer struct {
	start  time.Time
	mu     sync.Mutex
	events []TraceEvent
}

type tracerKey struct{}

func withTracer(ctx context.Context, t *tracer) context.Context {
	return context.WithValue(ctx, tracerKey{}, t)
}

func tracerFrom(ctx context.Context) *tracer {
	t, _ := ctx.Value(tracerKey{}).(*tracer)
	return t
}

func (t *tracer) add(node, event, detail string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.events = append(t.events, TraceEvent{AtMillis: float64(time.Since(t.start).Microseconds()) / 1000, Node: node, Event: event, Detail: detail})
	t.mu.Unlock()
}

func (t *tracer) snapshot() []TraceEvent {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]TraceEvent(nil), t.events...)
}

// traceSends records what a step sent.
func (t *tracer) traceSends(rd coord.Ready) {
	if t == nil {
		return
	}
	for i, s := range rd.Sends {
		ev := "send " + s.Msg.Type().String()
		if i >= len(rd.Sends)-rd.Repairs {
			ev = "read repair"
		}
		detail := ""
		if p, ok := s.Msg.(*wire.PutRequest); ok && len(p.Forward) > 0 {
			detail = fmt.Sprintf("stamp, forward to %v", p.Forward)
		}
		t.add(s.To, ev, detail)
	}
	if rd.Result != nil {
		if rd.Result.Err != nil {
			t.add("", "result", rd.Result.Err.Error())
		} else {
			t.add("", "result", fmt.Sprintf("answered by %v", rd.Result.Answered))
		}
	}
}

// traceEvent records what a step received; after is the round's
// speculation delay.
func (t *tracer) traceEvent(ev coord.Event, after time.Duration) {
	if t == nil {
		return
	}
	switch ev.Kind {
	case coord.EvTick:
		t.add("", "timeout", "round timeout: the unanswered are asked again, replaced or given up")
	case coord.EvSlow:
		t.add("", "slow", fmt.Sprintf("no quorum within the speculation delay (%v): the replicas not asked are asked too", after.Round(10*time.Microsecond)))
	case coord.EvNoResponders:
		t.add(ev.From, "no responders", "the node is down")
	case coord.EvReply:
		if ev.Reply == nil {
			return
		}
		detail := ev.Reply.Code.String()
		if ev.Reply.Set != nil {
			detail += fmt.Sprintf(", %d versions", len(ev.Reply.Set))
		}
		if ev.Reply.Items != nil {
			detail += fmt.Sprintf(", %d items", len(ev.Reply.Items))
		}
		t.add(ev.From, "reply", detail)
	}
}
