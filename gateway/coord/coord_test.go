package coord_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/vclock"
)

// Properties that hold for every round, checked without golden files. The
// scripted scenarios in testdata/ show individual rounds step by step.

func TestQuorumErrorIsErrQuorum(t *testing.T) {
	for _, tt := range []struct {
		op   coord.Op
		want string
	}{
		{coord.OpGet, "read quorum not met: 1 of 2 required replicas answered"},
		{coord.OpPut, "write quorum not met: 1 of 2 required replicas answered"},
		{coord.OpScan, "scan quorum not met: 1 of 2 required replicas answered"},
	} {
		t.Run(tt.op.String(), func(t *testing.T) {
			err := error(&coord.QuorumError{Op: tt.op, Needed: 2, Answered: 1})
			if err.Error() != tt.want {
				t.Errorf("Error() = %q, want %q", err, tt.want)
			}
			wrapped := fmt.Errorf("gateway: %w", err)
			if !errors.Is(err, coord.ErrQuorum) || !errors.Is(wrapped, coord.ErrQuorum) {
				t.Errorf("errors.Is(%v, ErrQuorum) = false", wrapped)
			}
			var qe *coord.QuorumError
			if !errors.As(wrapped, &qe) || qe.Needed != 2 || qe.Answered != 1 {
				t.Errorf("errors.As lost the counts: %+v", qe)
			}
		})
	}
	if errors.Is(&wire.Error{Code: wire.CodeUnavailable}, coord.ErrQuorum) {
		t.Error("a replica's error matches ErrQuorum")
	}
}

// The tests below drive machines with these events.
func ok(from string, tag uint32) coord.Event {
	return coord.Event{Kind: coord.EvReply, From: from, Reply: &wire.Reply{Tag: tag, Node: from, Count: 1}}
}

func fail(from string, tag uint32, c wire.Code) coord.Event {
	return coord.Event{Kind: coord.EvReply, From: from, Reply: &wire.Reply{Tag: tag, Node: from, Code: c}}
}

func gone(from string) coord.Event { return coord.Event{Kind: coord.EvNoResponders, From: from} }

var tick = coord.Event{Kind: coord.EvTick}

var n3 = []string{"n1", "n2", "n3"}

func putConfig(w int) coord.Config {
	return coord.Config{Op: coord.OpPut, Replicas: n3, W: w, Put: &wire.PutRequest{Key: testKey}}
}

func getConfig(r int) coord.Config {
	return coord.Config{Op: coord.OpGet, Replicas: n3, R: r, Get: &wire.GetRequest{Key: testKey}}
}

// run starts a machine, feeds it events and returns the result it gave.
func run(t *testing.T, cfg coord.Config, events ...coord.Event) (*coord.Machine, *coord.Result) {
	t.Helper()
	m := coord.New(cfg)
	res := m.Start().Result
	for _, ev := range events {
		if rd := m.Step(ev); rd.Result != nil {
			if res != nil {
				t.Fatalf("a second result: %+v", rd.Result)
			}
			res = rd.Result
		}
	}
	return m, res
}

func TestAnsweredListsAcknowledgers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cfg    coord.Config
		events []coord.Event
		want   []string
	}{
		{"put stamper and one forward", putConfig(2), []coord.Event{ok("n1", 1), ok("n3", 1)}, []string{"n1", "n3"}},
		{"put forward acks before stamper", putConfig(1), []coord.Event{ok("n2", 1), ok("n3", 1), ok("n1", 1)}, n3},
		{"put duplicates listed once", putConfig(3), []coord.Event{ok("n2", 1), ok("n2", 1), ok("n1", 1), ok("n1", 1), ok("n3", 1)}, n3},
		{"put failed forward not listed", putConfig(2), []coord.Event{fail("n2", 1, wire.CodeInternal), ok("n1", 1), ok("n3", 1)}, []string{"n1", "n3"}},
		{"put abandoned attempt's acks not listed", putConfig(2), []coord.Event{ok("n3", 1), tick, ok("n1", 1), ok("n2", 2), ok("n1", 2)}, []string{"n1", "n2"}},
		{"put stranger not listed", putConfig(2), []coord.Event{ok("n9", 1), ok("n1", 1), ok("n2", 1)}, []string{"n1", "n2"}},
		{"put refusal names the stamper", putConfig(2), []coord.Event{ok("n2", 1), fail("n1", 1, wire.CodeTooManySiblings)}, []string{"n1"}},
		{"get first R in arrival order", getConfig(2), []coord.Event{ok("n3", 0), ok("n1", 0), ok("n2", 0)}, []string{"n3", "n1"}},
		{"get errors and strangers not listed", getConfig(2), []coord.Event{fail("n1", 0, wire.CodeInternal), ok("n9", 0), ok("n2", 0), ok("n3", 0)}, []string{"n2", "n3"}},
		{"get quorum error lists nobody", getConfig(2), []coord.Event{ok("n1", 0), gone("n2"), gone("n3")}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, res := run(t, tt.cfg, tt.events...)
			if res == nil {
				t.Fatal("no result")
			}
			if !slices.Equal(res.Answered, tt.want) {
				t.Errorf("Answered = %v, want %v (err %v)", res.Answered, tt.want, res.Err)
			}
		})
	}
}

func TestStepAfterDoneIsIgnored(t *testing.T) {
	scan := coord.Config{Op: coord.OpScan, Replicas: n3, R: 2, Scan: &wire.ScanRequest{Key: testKey}}
	for _, tt := range []struct {
		name   string
		cfg    coord.Config
		events []coord.Event
	}{
		{"put succeeded", putConfig(2), []coord.Event{ok("n1", 1), ok("n2", 1)}},
		{"put failed", putConfig(2), []coord.Event{gone("n1"), gone("n2"), gone("n3")}},
		{"put refused", putConfig(2), []coord.Event{fail("n1", 1, wire.CodeBadRequest)}},
		{"get all answered", getConfig(2), []coord.Event{ok("n1", 0), ok("n2", 0), ok("n3", 0)}},
		{"get tick", getConfig(2), []coord.Event{ok("n1", 0), tick}},
		{"scan tick", scan, []coord.Event{tick}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, res := run(t, tt.cfg, tt.events...)
			if !m.Done() || res == nil {
				t.Fatalf("setup: Done()=%v result=%v", m.Done(), res)
			}
			for _, ev := range []coord.Event{ok("n1", 1), ok("n2", 0), ok("n3", 2), fail("n1", 1, wire.CodeUnavailable), gone("n2"), tick} {
				if rd := m.Step(ev); !reflect.DeepEqual(rd, coord.Ready{Done: true}) {
					t.Errorf("Step(%+v) after Done = %+v", ev, rd)
				}
			}
			if !m.Done() {
				t.Error("Done() became false")
			}
		})
	}
}

func TestStartDoesNotModifyRequest(t *testing.T) {
	cfg := putConfig(2)
	cfg.Put.Context = vclock.Context{VV: vclock.VV{{Actor: "a", Counter: 1}}, Dots: []vclock.Dot{{Actor: "n1", Counter: 3}}}
	before := *cfg.Put
	m := coord.New(cfg)
	first := m.Start().Sends[0].Msg.(*wire.PutRequest)
	second := m.Step(gone("n1")).Sends[0].Msg.(*wire.PutRequest)
	if !reflect.DeepEqual(*cfg.Put, before) {
		t.Errorf("the caller's request changed: %+v", *cfg.Put)
	}
	if first == second || first.Tag != 1 || second.Tag != 2 || !slices.Equal(first.Forward, []string{"n2", "n3"}) {
		t.Errorf("attempts share state: first %+v, second %+v", first, second)
	}
	if !reflect.DeepEqual(second.Context, before.Context) {
		t.Errorf("retry lost the client's context: %v", second.Context)
	}
}

// TestRandomRounds drives machines with seeded random events (replies with
// any tag, errors, strangers, duplicates, missing nodes, ticks) and checks
// what every round must guarantee.
func TestRandomRounds(t *testing.T) {
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 0))
		n := 1 + rng.IntN(5)
		cfg := coord.Config{Op: coord.Op(rng.IntN(3))}
		for i := range n {
			cfg.Replicas = append(cfg.Replicas, fmt.Sprintf("n%d", i+1))
		}
		q := 1 + rng.IntN(n)
		switch cfg.Op {
		case coord.OpPut:
			cfg.W, cfg.Put = q, &wire.PutRequest{Key: testKey}
			if rng.IntN(2) == 0 {
				cfg.Down = map[string]bool{cfg.Replicas[rng.IntN(n)]: true}
			}
		case coord.OpGet:
			cfg.R, cfg.Get = q, &wire.GetRequest{Key: testKey}
		case coord.OpScan:
			cfg.R, cfg.Scan = q, &wire.ScanRequest{Key: testKey, Limit: uint32(rng.IntN(4)), Reverse: rng.IntN(2) == 0}
		}
		name := fmt.Sprintf("seed=%d %v N=%d q=%d", seed, cfg.Op, n, q)
		c := &roundChecker{t: t, name: name, cfg: cfg, q: q, m: coord.New(cfg)}
		c.check(nil, c.m.Start())
		for range rng.IntN(30) {
			ev := c.randomEvent(rng)
			c.check(&ev, c.m.Step(ev))
		}
		// Liveness: ticks alone end any round.
		for i := 0; i <= n && !c.m.Done(); i++ {
			c.check(&tick, c.m.Step(tick))
		}
		if !c.m.Done() || c.result == nil {
			t.Fatalf("%s: not over after %d ticks (result %v)", name, n+1, c.result)
		}
	}
}

type roundChecker struct {
	t      *testing.T
	name   string
	cfg    coord.Config
	q      int
	m      *coord.Machine
	result *coord.Result
	done   bool

	// Put: the current attempt, modelled independently.
	tag      uint32          // its tag
	stamper  string          // the node asked to stamp it
	tried    int             // attempts started, this one included
	acked    map[string]bool // replicas that acknowledged it
	stampRep *wire.Reply     // the stamper's acknowledgement, once it came
	// Read: what the machine should have taken in, modelled independently.
	got    map[string]vclock.Set // replicas that answered, with their sets
	order  []string              // ... in order of arrival
	failed map[string]bool       // replicas that failed before answering (put: in this attempt)
}

// randomSet is a sibling set over actors a and b, where a later counter
// of an actor was written with its predecessor in its past.
func randomSet(rng *rand.Rand) vclock.Set {
	var vs vclock.Set
	for range 1 + rng.IntN(2) {
		d := vclock.Dot{Actor: []vclock.Actor{"a", "b"}[rng.IntN(2)], Counter: uint64(1 + rng.IntN(3))}
		var past vclock.Context
		if d.Counter > 1 {
			past.VV = vclock.VV{{Actor: d.Actor, Counter: d.Counter - 1}}
		}
		vs = append(vs, vclock.Version{Clock: vclock.Clock{Dot: d, Past: past}})
	}
	return vclock.Set{}.Sync(vs)
}

func (c *roundChecker) randomEvent(rng *rand.Rand) coord.Event {
	from := c.cfg.Replicas[rng.IntN(len(c.cfg.Replicas))]
	if rng.IntN(10) == 0 {
		from = "stranger"
	}
	switch rng.IntN(6) {
	case 0:
		return tick
	case 1:
		return gone(from)
	}
	r := &wire.Reply{Node: from, Tag: c.tag, Count: 1}
	if rng.IntN(4) == 0 {
		r.Tag = uint32(rng.IntN(int(c.tag) + 2))
	}
	if rng.IntN(5) == 0 {
		r.Code = []wire.Code{wire.CodeUnavailable, wire.CodeInternal, wire.CodeTooManySiblings, wire.CodeBadRequest}[rng.IntN(4)]
	}
	switch c.cfg.Op {
	case coord.OpPut:
		// Distinct per sender and attempt, with a dot, so the result's
		// context shows whose acknowledgement it came from.
		r.Count = uint32(1 + rng.IntN(3))
		r.Context = vclock.Context{
			VV:   vclock.VV{{Actor: "client", Counter: 1}},
			Dots: []vclock.Dot{{Actor: vclock.Actor(from), Counter: uint64(r.Tag) + 1}},
		}
	case coord.OpGet:
		r.Set = randomSet(rng)
	case coord.OpScan:
		for _, sk := range []string{"s1", "s2", "s3", "s4"} {
			if rng.IntN(2) == 0 {
				r.Items = append(r.Items, wire.ScanItem{SK: sk, Set: randomSet(rng)})
			}
		}
		if c.cfg.Scan.Reverse {
			slices.Reverse(r.Items)
		}
		r.More = rng.IntN(3) == 0
	}
	return coord.Event{Kind: coord.EvReply, From: from, Reply: r}
}

func (c *roundChecker) fatalf(ev *coord.Event, format string, args ...any) {
	c.t.Helper()
	what := "Start"
	switch {
	case ev == nil:
	case ev.Kind == coord.EvTick:
		what = "tick"
	case ev.Kind == coord.EvNoResponders:
		what = "noresponders " + ev.From
	case ev.Reply == nil:
		what = "undecodable reply"
	default:
		what = fmt.Sprintf("reply from %s tag=%d code=%v", ev.From, ev.Reply.Tag, ev.Reply.Code)
	}
	c.t.Fatalf("%s: after %s: %s", c.name, what, fmt.Sprintf(format, args...))
}

func (c *roundChecker) check(ev *coord.Event, rd coord.Ready) {
	c.t.Helper()
	if c.done {
		if !reflect.DeepEqual(rd, coord.Ready{Done: true}) {
			c.fatalf(ev, "a finished machine acted: %+v", rd)
		}
		return
	}
	var want putOutcome
	if c.cfg.Op == coord.OpPut {
		want = c.observePut(ev)
	} else {
		c.observe(ev)
	}
	if rd.Result != nil {
		if c.result != nil {
			c.fatalf(ev, "a second result %+v after %+v", rd.Result, c.result)
		}
		c.result = rd.Result
		c.checkResult(ev, rd.Result)
	}
	if rd.Done && c.result == nil {
		c.fatalf(ev, "done without a result")
	}
	c.done = rd.Done
	if c.m.Done() != c.done {
		c.fatalf(ev, "Done() = %v, Ready.Done = %v", c.m.Done(), rd.Done)
	}
	if c.cfg.Op == coord.OpPut {
		c.checkPut(ev, want, rd)
		return
	}
	// A read answers as soon as R replicas have. Short of R, it gives up
	// only once no replica's answer is pending (every one answered or
	// failed), or at a tick: never at the first moment R became
	// unreachable, so the error counts every live replica's answer.
	if c.result == nil && (len(c.order) >= c.q || c.pending() == 0) {
		c.fatalf(ev, "no result with %d answered, %d pending, R=%d", len(c.order), c.pending(), c.q)
	}
	// The round (and its repairs) ends at the same moments.
	if wantDone := ev != nil && (ev.Kind == coord.EvTick || c.pending() == 0); rd.Done != wantDone {
		c.fatalf(ev, "done %v with %d pending, want %v", rd.Done, c.pending(), wantDone)
	}
	c.checkReadSends(ev, rd)
}

// observe updates the model of a read with an event the machine took.
func (c *roundChecker) observe(ev *coord.Event) {
	if c.got == nil {
		c.got, c.failed = map[string]vclock.Set{}, map[string]bool{}
	}
	if ev == nil || !slices.Contains(c.cfg.Replicas, ev.From) {
		return
	}
	if _, answered := c.got[ev.From]; answered || c.failed[ev.From] {
		return
	}
	switch {
	case ev.Kind == coord.EvNoResponders, ev.Kind == coord.EvReply && ev.Reply.Err() != nil:
		c.failed[ev.From] = true
	case ev.Kind == coord.EvReply:
		c.got[ev.From] = ev.Reply.Set // nil for a scan
		c.order = append(c.order, ev.From)
	}
}

func (c *roundChecker) pending() int { return len(c.cfg.Replicas) - len(c.got) - len(c.failed) }

// putOutcome is what the put model expects a step to do.
type putOutcome int

const (
	putWait    putOutcome = iota // nothing
	putNext                      // ask the next stamper, or fail if none is left
	putOK                        // succeed
	putFail                      // fail with a quorum error counting this attempt's acknowledgements
	putRefused                   // fail with the stamper's refusal
)

// observePut updates the model of a put with an event and says what the
// machine must do about it.
func (c *roundChecker) observePut(ev *coord.Event) putOutcome {
	if ev == nil {
		return putNext
	}
	switch ev.Kind {
	case coord.EvTick:
		// A silent stamper is replaced; once it has acknowledged, the
		// timeout ends the round whatever is still pending.
		if c.stampRep == nil {
			return putNext
		}
		return putFail
	case coord.EvNoResponders:
		if !slices.Contains(c.cfg.Replicas, ev.From) {
			return putWait
		}
		if ev.From == c.stamper && c.stampRep == nil {
			return putNext
		}
		if !c.acked[ev.From] {
			c.failed[ev.From] = true
		}
	case coord.EvReply:
		r := ev.Reply
		if r == nil || r.Tag != c.tag || !slices.Contains(c.cfg.Replicas, ev.From) || c.acked[ev.From] || c.failed[ev.From] {
			return putWait // undecodable, an abandoned attempt's, a stranger's, a duplicate
		}
		if r.Err() != nil {
			if ev.From == c.stamper {
				if r.Code == wire.CodeUnavailable || r.Code == wire.CodeInternal {
					return putNext // it did not write: another node may
				}
				return putRefused // any stamper would refuse the write
			}
			c.failed[ev.From] = true
			break
		}
		c.acked[ev.From] = true
		if ev.From == c.stamper {
			c.stampRep = r
		}
	}
	if c.stampRep == nil {
		return putWait // only the stamper's reply carries the new version's context
	}
	if len(c.acked) >= c.q {
		return putOK
	}
	// Short of W, the write gives up once no replica of the attempt is
	// pending: not at the first moment W became unreachable.
	pending := 0
	for _, n := range c.cfg.Replicas {
		if !c.acked[n] && !c.failed[n] {
			pending++
		}
	}
	if pending == 0 {
		return putFail
	}
	return putWait
}

// stamperOrder is the order in which a put's nodes are asked to stamp:
// those not believed down, then those believed down, each in preference
// order.
func (c *roundChecker) stamperOrder() []string {
	var up, down []string
	for _, n := range c.cfg.Replicas {
		if c.cfg.Down[n] {
			down = append(down, n)
		} else {
			up = append(up, n)
		}
	}
	return append(up, down...)
}

func (c *roundChecker) checkPut(ev *coord.Event, want putOutcome, rd coord.Ready) {
	if rd.Repairs != 0 {
		c.fatalf(ev, "a put step sent %d repairs", rd.Repairs)
	}
	order := c.stamperOrder()
	if want == putNext && c.tried < len(order) {
		next := order[c.tried]
		if rd.Result != nil || rd.Done || len(rd.Sends) != 1 || rd.Sends[0].To != next {
			c.fatalf(ev, "want attempt %d sent to %s alone, got %+v", c.tried+1, next, rd)
		}
		req, ok := rd.Sends[0].Msg.(*wire.PutRequest)
		if !ok || req.Tag != c.tag+1 {
			c.fatalf(ev, "want a put with tag %d, got %T %+v", c.tag+1, rd.Sends[0].Msg, rd.Sends[0].Msg)
		}
		fwd := slices.DeleteFunc(slices.Clone(c.cfg.Replicas), func(n string) bool { return n == next })
		if !slices.Equal(req.Forward, fwd) {
			c.fatalf(ev, "stamper %s forwards to %v, want %v", next, req.Forward, fwd)
		}
		if c.failed == nil {
			c.failed = map[string]bool{}
		}
		c.tag, c.stamper, c.tried = req.Tag, next, c.tried+1
		c.acked, c.stampRep = map[string]bool{}, nil
		clear(c.failed)
		return
	}
	if want == putWait {
		if !reflect.DeepEqual(rd, coord.Ready{}) {
			c.fatalf(ev, "want nothing done, got %+v", rd)
		}
		return
	}
	res := rd.Result
	if res == nil || !rd.Done || len(rd.Sends) != 0 {
		c.fatalf(ev, "want the round over with a result (outcome %d), got %+v", want, rd)
	}
	var acked []string
	for _, n := range c.cfg.Replicas {
		if c.acked[n] {
			acked = append(acked, n)
		}
	}
	var qe *coord.QuorumError
	var we *wire.Error
	switch want {
	case putOK:
		if res.Err != nil || !slices.Equal(res.Answered, acked) || !res.Context.Equal(c.stampRep.Context) ||
			res.Siblings != int(c.stampRep.Count) || !reflect.DeepEqual(res.Set, c.stampRep.Set) {
			c.fatalf(ev, "result %+v, want success answered by %v with the stamper's reply %+v", res, acked, c.stampRep)
		}
	case putNext, putFail:
		// With no stamper left, no acknowledgement of the stamper came, and
		// forwards alone can account for at most W-1.
		answered := len(c.acked)
		if want == putNext {
			answered = min(answered, c.q-1)
		}
		if !errors.As(res.Err, &qe) || qe.Op != coord.OpPut || qe.Answered != answered || len(res.Answered) != 0 {
			c.fatalf(ev, "result %+v (err %v), want a write quorum error counting %d", res, res.Err, answered)
		}
	case putRefused:
		if !errors.As(res.Err, &we) || we.Code != ev.Reply.Code || !slices.Equal(res.Answered, []string{c.stamper}) {
			c.fatalf(ev, "result %+v (err %v), want %s's refusal %v", res, res.Err, c.stamper, ev.Reply.Code)
		}
	}
}

func (c *roundChecker) reconciled(nodes []string) vclock.Set {
	all := vclock.Set{}
	for _, n := range nodes {
		all = all.Sync(c.got[n])
	}
	return all
}

func (c *roundChecker) checkReadSends(ev *coord.Event, rd coord.Ready) {
	if ev == nil {
		if len(rd.Sends) != len(c.cfg.Replicas) || rd.Repairs != 0 {
			c.fatalf(ev, "a read starts with %d sends, want %d", len(rd.Sends), len(c.cfg.Replicas))
		}
		return
	}
	if rd.Repairs != len(rd.Sends) || (len(rd.Sends) > 0 && !rd.Done) {
		c.fatalf(ev, "%d repairs among %d sends, done %v", rd.Repairs, len(rd.Sends), rd.Done)
	}
	for _, s := range rd.Sends {
		if _, ok := s.Msg.(*wire.ReplicateRequest); !ok {
			c.fatalf(ev, "a read sent %T", s.Msg)
		}
	}
	if c.cfg.Op != coord.OpGet || !rd.Done {
		return
	}
	// Read repair: every replica that answered with less than the
	// reconciled set of all answers gets that set, and no one else.
	all := c.reconciled(c.order)
	var want, got []string
	for _, n := range c.order {
		if len(c.order) > 1 && !c.got[n].Same(all) {
			want = append(want, n+formatSet(all))
		}
	}
	for _, s := range rd.Sends {
		got = append(got, s.To+formatSet(s.Msg.(*wire.ReplicateRequest).Set))
	}
	if !slices.Equal(got, want) {
		c.fatalf(ev, "repairs %v, want %v", got, want)
	}
}

func (c *roundChecker) checkResult(ev *coord.Event, res *coord.Result) {
	for i, n := range res.Answered {
		if !slices.Contains(c.cfg.Replicas, n) || slices.Contains(res.Answered[:i], n) {
			c.fatalf(ev, "Answered %v: %s is a stranger or repeated", res.Answered, n)
		}
	}
	var qe *coord.QuorumError
	switch {
	case res.Err == nil:
		if len(res.Answered) < c.q {
			c.fatalf(ev, "success with %v answered, quorum %d", res.Answered, c.q)
		}
		if c.cfg.Op == coord.OpPut && !slices.Contains(res.Answered, c.stamper) {
			c.fatalf(ev, "success without the stamper %s: %v", c.stamper, res.Answered)
		}
		if c.cfg.Op != coord.OpPut {
			c.checkReadResult(ev, res)
		}
	case errors.As(res.Err, &qe):
		if !errors.Is(res.Err, coord.ErrQuorum) || qe.Needed != c.q || qe.Answered >= qe.Needed {
			c.fatalf(ev, "quorum error %+v with quorum %d", qe, c.q)
		}
		if c.cfg.Op != coord.OpPut && qe.Answered != len(c.order) {
			c.fatalf(ev, "quorum error counts %d answers, %d came", qe.Answered, len(c.order))
		}
		if c.cfg.Op != coord.OpPut && (ev == nil || ev.Kind != coord.EvTick) && c.pending() > 0 {
			c.fatalf(ev, "quorum error with %d replicas still pending, before the tick", c.pending())
		}
	default:
		var we *wire.Error
		if c.cfg.Op != coord.OpPut || !errors.As(res.Err, &we) || len(res.Answered) != 1 || res.Answered[0] != c.stamper {
			c.fatalf(ev, "unexpected error %v answered %v", res.Err, res.Answered)
		}
	}
}

func (c *roundChecker) checkReadResult(ev *coord.Event, res *coord.Result) {
	// The answer is made of exactly the first R replies.
	if !slices.Equal(res.Answered, c.order) || len(c.order) != c.q {
		c.fatalf(ev, "Answered %v, the first %d replies were %v", res.Answered, c.q, c.order)
	}
	switch c.cfg.Op {
	case coord.OpGet:
		if want := c.reconciled(c.order); !res.Set.Same(want) {
			c.fatalf(ev, "Set %s, want %s", formatSet(res.Set), formatSet(want))
		}
	case coord.OpScan:
		for i, it := range res.Items {
			if i > 0 && (it.SK <= res.Items[i-1].SK) != c.cfg.Scan.Reverse {
				c.fatalf(ev, "items out of order: %+v", res.Items)
			}
		}
		if lim := int(c.cfg.Scan.Limit); lim > 0 && len(res.Items) > lim {
			c.fatalf(ev, "%d items, limit %d", len(res.Items), lim)
		}
	}
}
