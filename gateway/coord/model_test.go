package coord_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/vclock"
)

// TestRandomRounds drives machines with seeded random configurations
// (preference lists, fallbacks, nodes believed down, strict rounds, extra
// nodes) and events (replies with any tag, errors, strangers, duplicates,
// missing nodes, ticks), and checks every step against models of the
// rounds written independently of the machine: a put model that tracks
// which node holds each replica's copy (Reference: Dynamo §4.5, §4.6
// sloppy quorum and hinted handoff), and a read model (§4.5, §5 read
// repair). Beside the exact comparison it checks properties that follow
// from the contract alone: a strict round never involves a fallback, a
// fallback is never repaired, and so on.
func TestRandomRounds(t *testing.T) {
	for seed := range uint64(6000) {
		rng := rand.New(rand.NewPCG(seed, 0))
		cfg := randomConfig(rng)
		name := fmt.Sprintf("seed=%d %v replicas=%v fallbacks=%v down=%v late=%v strict=%v extra=%v R=%d W=%d all=%v",
			seed, cfg.Op, cfg.Replicas, cfg.Fallbacks, sortedSet(cfg.Down), sortedSet(cfg.Late), cfg.Strict, cfg.Extra, cfg.R, cfg.W, cfg.AskAll)
		c := &roundChecker{t: t, name: name, cfg: cfg, m: coord.New(cfg)}
		if cfg.Op == coord.OpPut {
			c.put = newPutModel(cfg)
		} else {
			c.read = newReadModel(cfg)
		}
		c.check(nil, c.m.Start())
		for range rng.IntN(60) {
			ev := c.randomEvent(rng)
			c.check(&ev, c.m.Step(ev))
		}
		// Liveness: ticks alone end any round. A put takes at most one per
		// stamper tried, then two; a read one.
		limit := len(cfg.Replicas) + len(cfg.Fallbacks) + 2
		for i := 0; i < limit && !c.m.Done(); i++ {
			c.check(&tick, c.m.Step(tick))
		}
		if !c.m.Done() || c.result == nil {
			t.Fatalf("%s: not over after %d ticks (result %v)", name, limit, c.result)
		}
	}
}

func randomConfig(rng *rand.Rand) coord.Config {
	cfg := coord.Config{Op: coord.Op(rng.IntN(3))}
	n := 1 + rng.IntN(5)
	for i := range n {
		cfg.Replicas = append(cfg.Replicas, fmt.Sprintf("n%d", i+1))
	}
	for i := range rng.IntN(4) {
		cfg.Fallbacks = append(cfg.Fallbacks, fmt.Sprintf("f%d", i+1))
	}
	cfg.Strict = rng.IntN(4) == 0
	if rng.IntN(3) > 0 {
		cfg.Down = map[string]bool{}
		for _, x := range append(slices.Clone(cfg.Replicas), cfg.Fallbacks...) {
			if rng.IntN(3) == 0 {
				cfg.Down[x] = true
			}
		}
	}
	if rng.IntN(3) == 0 {
		cfg.Late = map[string]bool{}
		for _, x := range cfg.Replicas {
			if rng.IntN(3) == 0 {
				cfg.Late[x] = true
			}
		}
	}
	q := 1 + rng.IntN(n)
	switch cfg.Op {
	case coord.OpPut:
		cfg.W, cfg.Put = q, &wire.PutRequest{Key: testKey, WantSet: rng.IntN(3) == 0}
		if rng.IntN(4) == 0 {
			cfg.Extra = []string{"x1"}
		}
	case coord.OpGet:
		cfg.R, cfg.Get, cfg.AskAll = q, &wire.GetRequest{Key: testKey}, rng.IntN(2) == 0
	case coord.OpScan:
		cfg.R, cfg.Scan = q, &wire.ScanRequest{Key: testKey, Limit: uint32(rng.IntN(4)), Reverse: rng.IntN(2) == 0}
	}
	return cfg
}

func sortedSet(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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

type roundChecker struct {
	t      *testing.T
	name   string
	cfg    coord.Config
	m      *coord.Machine
	put    *putModel
	read   *readModel
	result *coord.Result
	done   bool
}

func (c *roundChecker) randomEvent(rng *rand.Rand) coord.Event {
	var from string
	switch x := rng.IntN(20); {
	case x == 0:
		from = "stranger"
	case x < 4 && c.cfg.Extra != nil:
		from = c.cfg.Extra[0]
	case x < 8 && c.put != nil && len(c.put.order) > 0:
		from = c.put.order[len(c.put.order)-1] // the newest target: chains replacements
	case x < 14 && c.put != nil && len(c.put.order) > 0:
		from = c.put.order[rng.IntN(len(c.put.order))] // a target of the attempt
	case x < 12 && c.read != nil:
		from = c.read.asked[rng.IntN(len(c.read.asked))]
	default:
		all := append(slices.Clone(c.cfg.Replicas), c.cfg.Fallbacks...)
		from = all[rng.IntN(len(all))]
	}
	switch rng.IntN(7) {
	case 0:
		if c.read != nil && rng.IntN(2) == 0 {
			return coord.Event{Kind: coord.EvSlow}
		}
		return tick
	case 1:
		return gone(from)
	case 2:
		if rng.IntN(4) == 0 {
			return coord.Event{Kind: coord.EvReply} // undecodable
		}
	}
	var tag uint64
	if c.put != nil {
		tag = c.put.tag
	}
	r := &wire.Reply{Node: from, Tag: tag, Count: 1}
	if rng.IntN(4) == 0 {
		r.Tag = uint64(rng.IntN(int(tag) + 2))
	}
	if rng.IntN(5) == 0 {
		r.Code = []wire.Code{wire.CodeUnavailable, wire.CodeInternal, wire.CodeTooManySiblings, wire.CodeBadRequest}[rng.IntN(4)]
	}
	switch c.cfg.Op {
	case coord.OpPut:
		// Distinct per sender and attempt, with a dot, so the result's
		// context shows whose acknowledgement it came from. Most carry the
		// stamped set, as a stamper asked for it does.
		r.Count = uint32(1 + rng.IntN(3))
		d := vclock.Dot{Actor: vclock.Actor(from), Counter: uint64(r.Tag) + 1}
		r.Context = vclock.Context{VV: vclock.VV{{Actor: "client", Counter: 1}}, Dots: []vclock.Dot{d}}
		if rng.IntN(5) > 0 {
			r.Set = vclock.Set{{Clock: vclock.Clock{Dot: d}}}
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
	case ev.Kind == coord.EvSlow:
		what = "slow"
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
	if rd.Result != nil {
		if c.result != nil {
			c.fatalf(ev, "a second result %+v after %+v", rd.Result, c.result)
		}
		c.result = rd.Result
	}
	if rd.Done && c.result == nil {
		c.fatalf(ev, "done without a result")
	}
	c.done = rd.Done
	if c.m.Done() != c.done {
		c.fatalf(ev, "Done() = %v, Ready.Done = %v", c.m.Done(), rd.Done)
	}
	c.checkContract(ev, rd)
	if c.put != nil {
		want := c.put.step(ev)
		c.compare(ev, rd, want)
		return
	}
	c.read.step(c, ev, rd)
}

// checkContract checks what follows from the package's contract alone,
// whatever the model says.
func (c *roundChecker) checkContract(ev *coord.Event, rd coord.Ready) {
	isFallback := func(n string) bool { return slices.Contains(c.cfg.Fallbacks, n) }
	for _, s := range rd.Sends {
		if isFallback(s.To) && (c.cfg.Strict || c.cfg.Op == coord.OpScan) {
			c.fatalf(ev, "a strict round or a scan sent %T to fallback %s", s.Msg, s.To)
		}
		if isFallback(s.To) && c.cfg.Down[s.To] {
			c.fatalf(ev, "sent %T to fallback %s, believed down", s.Msg, s.To)
		}
		switch m := s.Msg.(type) {
		case *wire.PutRequest:
			if m.WantSet != (c.cfg.Put.WantSet || (!c.cfg.Strict && len(c.cfg.Fallbacks) > 0)) {
				c.fatalf(ev, "WantSet %v (client %v, strict %v)", m.WantSet, c.cfg.Put.WantSet, c.cfg.Strict)
			}
			if len(m.Hints) != len(m.Forward) {
				c.fatalf(ev, "%d hints for %d forwards", len(m.Hints), len(m.Forward))
			}
			if m.Hint != "" && (!isFallback(s.To) || !slices.Contains(c.cfg.Replicas, m.Hint)) {
				c.fatalf(ev, "stamper %s stands in for %q", s.To, m.Hint)
			}
			for i, h := range m.Hints {
				if h != "" && (!isFallback(m.Forward[i]) || !slices.Contains(c.cfg.Replicas, h)) {
					c.fatalf(ev, "forward %s stands in for %q", m.Forward[i], h)
				}
			}
		case *wire.ReplicateRequest:
			if c.cfg.Op == coord.OpPut && (!isFallback(s.To) || !slices.Contains(c.cfg.Replicas, m.Hint)) {
				c.fatalf(ev, "a put replicated to %s for %q: only fallbacks take a failed replica's place", s.To, m.Hint)
			}
			if c.cfg.Op != coord.OpPut && (isFallback(s.To) || m.Hint != "") {
				c.fatalf(ev, "read repair to %s (hint %q): only preference-list replicas are repaired", s.To, m.Hint)
			}
		case *wire.GetRequest:
			if m.Hints != isFallback(s.To) {
				c.fatalf(ev, "get to %s with Hints=%v", s.To, m.Hints)
			}
		}
	}
	if res := rd.Result; res != nil {
		for i, n := range res.Answered {
			if !slices.Contains(c.cfg.Replicas, n) && !isFallback(n) || slices.Contains(res.Answered[:i], n) {
				c.fatalf(ev, "Answered %v: %s is a stranger or repeated", res.Answered, n)
			}
			if c.cfg.Strict && isFallback(n) {
				c.fatalf(ev, "a strict round counted fallback %s", n)
			}
		}
		var qe *coord.QuorumError
		if errors.As(res.Err, &qe) && (qe.Answered >= qe.Needed || qe.Needed != max(c.cfg.R, c.cfg.W)) {
			c.fatalf(ev, "quorum error %+v", qe)
		}
		if res.Err == nil && len(res.Answered) < max(c.cfg.R, c.cfg.W) {
			c.fatalf(ev, "success with %v answered", res.Answered)
		}
	}
}

// compare checks a step's Ready against the one the model expects.
func (c *roundChecker) compare(ev *coord.Event, got, want coord.Ready) {
	c.t.Helper()
	if !reflect.DeepEqual(got.Sends, want.Sends) || got.Done != want.Done || got.Repairs != want.Repairs {
		c.fatalf(ev, "got %s\nwant %s", describe(got), describe(want))
	}
	switch g, w := got.Result, want.Result; {
	case g == nil && w == nil:
	case g == nil || w == nil:
		c.fatalf(ev, "result %+v, want %+v", g, w)
	default:
		var gq, wq *coord.QuorumError
		var ge, we *wire.Error
		switch {
		case errors.As(w.Err, &wq):
			// The model counts answers; what refusals said is not its business.
			if !errors.As(g.Err, &gq) || gq.Op != wq.Op || gq.Needed != wq.Needed || gq.Answered != wq.Answered || len(g.Answered) != 0 {
				c.fatalf(ev, "result %+v (err %v), want %v", g, g.Err, w.Err)
			}
		case errors.As(w.Err, &we):
			if !errors.As(g.Err, &ge) || ge.Code != we.Code || !slices.Equal(g.Answered, w.Answered) {
				c.fatalf(ev, "result %+v (err %v), want %v from %v", g, g.Err, w.Err, w.Answered)
			}
		default:
			if g.Err != nil || !slices.Equal(g.Answered, w.Answered) || !g.Context.Equal(w.Context) ||
				g.Siblings != w.Siblings || !reflect.DeepEqual(g.Set, w.Set) {
				c.fatalf(ev, "result %+v (err %v), want %+v", g, g.Err, w)
			}
		}
	}
}

func describe(rd coord.Ready) string {
	s := "["
	for _, snd := range rd.Sends {
		s += fmt.Sprintf(" %s:%s", snd.To, formatMsg(snd.Msg))
	}
	s += " ]"
	if rd.Result != nil {
		s += fmt.Sprintf(" result(err=%v answered=%v)", rd.Result.Err, rd.Result.Answered)
	}
	return s + fmt.Sprintf(" repairs=%d done=%v", rd.Repairs, rd.Done)
}

// putModel is the contract of a write round, kept as which node holds
// each preference-list replica's copy:
//
//   - An attempt's targets are the replicas, each held by itself unless it
//     is believed down (by the caller, or because it failed in this round),
//     in which case the next fallback neither believed down nor already
//     holding a copy holds it (not in a strict round). A replica the caller
//     believed down that no fallback can hold is held by itself, after all
//     the others: the belief may be stale. After those comes a replica
//     whose stamp went unanswered in this round and that no fallback can
//     hold: only its answer may have been lost. One that failed otherwise
//     in this round is dropped.
//   - The first target stamps (with a hint when it holds another's copy)
//     and forwards to the rest and to the extra nodes. A replica whose
//     stamp went unanswered never stamps again in the round: with no other
//     target, the round fails.
//   - A stamper that fails before acknowledging is believed down (only
//     suspected when it was silent until a tick), and a new attempt
//     starts; one that refuses the write ends the round.
//   - A target that fails (or is silent at the tick after the stamper
//     acknowledged) hands its copy to the next fallback, by a replicate of
//     the stamped set, once that set is known.
//   - The client is answered once the stamper and W targets acknowledged;
//     the round goes on until no target is pending, or a tick.
type putModel struct {
	cfg      coord.Config
	believed map[string]bool // failed in this round
	suspect  map[string]bool // silent as stamper in this round
	tag      uint64
	holds    map[string]string // target → the replica whose copy it holds
	order    []string          // the attempt's targets, in the order they got a copy
	acked    map[string]bool
	failed   map[string]bool
	waiting  []string    // failed before the stamped set was known
	stamp    *wire.Reply // the stamper's acknowledgement
	ticks    int         // since it came
	answered bool
	done     bool
}

func newPutModel(cfg coord.Config) *putModel {
	return &putModel{cfg: cfg, believed: map[string]bool{}, suspect: map[string]bool{}}
}

func (p *putModel) stamper() string { return p.order[0] }

func (p *putModel) down(n string) bool { return p.believed[n] || p.suspect[n] || p.cfg.Down[n] }

// fallback gives the next free fallback a copy of owner's.
func (p *putModel) fallback(owner string) string {
	if p.cfg.Strict {
		return ""
	}
	for _, f := range p.cfg.Fallbacks {
		if _, busy := p.holds[f]; !busy && !p.down(f) {
			p.holds[f] = owner
			p.order = append(p.order, f)
			return f
		}
	}
	return ""
}

func (p *putModel) hint(target string) string {
	if owner := p.holds[target]; owner != target {
		return owner
	}
	return ""
}

func (p *putModel) attempt() coord.Ready {
	p.tag++
	p.holds, p.order = map[string]string{}, nil
	p.acked, p.failed, p.waiting, p.stamp, p.ticks = map[string]bool{}, map[string]bool{}, nil, nil, 0
	var stale, suspects []string
	for _, r := range p.cfg.Replicas {
		switch {
		case !p.down(r):
			p.holds[r] = r
			p.order = append(p.order, r)
		case p.fallback(r) != "":
		case p.believed[r]:
		case p.suspect[r]:
			suspects = append(suspects, r)
		default:
			stale = append(stale, r)
		}
	}
	for _, r := range stale {
		p.holds[r] = r
		p.order = append(p.order, r)
	}
	if len(p.order) == 0 {
		return p.fail()
	}
	for _, r := range suspects {
		p.holds[r] = r
		p.order = append(p.order, r)
	}
	req := *p.cfg.Put
	req.Tag, req.Hint, req.WantSet = p.tag, p.hint(p.stamper()), p.cfg.Put.WantSet || (!p.cfg.Strict && len(p.cfg.Fallbacks) > 0)
	req.Forward, req.Hints = nil, nil
	for _, t := range p.order[1:] {
		req.Forward = append(req.Forward, t)
		req.Hints = append(req.Hints, p.hint(t))
	}
	for _, x := range p.cfg.Extra {
		if _, target := p.holds[x]; !target {
			req.Forward = append(req.Forward, x)
			req.Hints = append(req.Hints, "")
		}
	}
	return coord.Ready{Sends: []coord.Send{{To: p.stamper(), Msg: &req}}}
}

func (p *putModel) fail() coord.Ready {
	p.done = true
	return coord.Ready{Done: true, Result: &coord.Result{Err: &coord.QuorumError{Op: coord.OpPut, Needed: p.cfg.W, Answered: len(p.acked)}}}
}

func (p *putModel) restamp(silent bool) coord.Ready {
	if silent {
		p.suspect[p.stamper()] = true
	} else {
		p.believed[p.stamper()] = true
	}
	return p.attempt()
}

// lose records that target t will not acknowledge, and hands its copy on
// if the stamped set is known.
func (p *putModel) lose(t string) []coord.Send {
	p.failed[t] = true
	if p.stamp == nil || p.stamp.Set == nil {
		p.waiting = append(p.waiting, t)
		return nil
	}
	return p.handOn(t)
}

func (p *putModel) handOn(t string) []coord.Send {
	p.believed[t] = true
	owner := p.holds[t]
	f := p.fallback(owner)
	if f == "" {
		return nil
	}
	return []coord.Send{{To: f, Msg: &wire.ReplicateRequest{Header: wire.Header{Tag: p.tag}, Key: p.cfg.Put.Key, Set: p.stamp.Set, Hint: owner}}}
}

func (p *putModel) pending() (n int) {
	for _, t := range p.order {
		if !p.acked[t] && !p.failed[t] {
			n++
		}
	}
	return n
}

func (p *putModel) step(ev *coord.Event) coord.Ready {
	if ev == nil {
		return p.attempt()
	}
	if p.done {
		return coord.Ready{Done: true}
	}
	var sends []coord.Send
	_, target := p.holds[ev.From]
	settled := p.acked[ev.From] || p.failed[ev.From]
	switch {
	case ev.Kind == coord.EvTick:
		if p.stamp == nil {
			return p.restamp(true)
		}
		if p.ticks++; p.ticks > 1 && !p.answered {
			return p.fail()
		}
		silent := slices.DeleteFunc(slices.Clone(p.order), func(t string) bool { return p.acked[t] || p.failed[t] })
		sort.Strings(silent)
		for _, t := range silent {
			sends = append(sends, p.lose(t)...)
		}
		if p.answered {
			p.done = true
			return coord.Ready{Sends: sends, Done: true}
		}
	case !target || settled:
		return coord.Ready{}
	case ev.Kind == coord.EvNoResponders:
		if ev.From == p.stamper() && p.stamp == nil {
			return p.restamp(false)
		}
		sends = p.lose(ev.From)
	case ev.Reply == nil || ev.Reply.Tag != p.tag:
		return coord.Ready{}
	case ev.Reply.Err() != nil:
		if ev.From == p.stamper() && p.stamp == nil {
			if c := ev.Reply.Code; c == wire.CodeUnavailable || c == wire.CodeInternal {
				return p.restamp(false)
			}
			p.done = true
			return coord.Ready{Done: true, Result: &coord.Result{Err: ev.Reply.Err(), Answered: []string{ev.From}}}
		}
		sends = p.lose(ev.From)
	default:
		p.acked[ev.From] = true
		if ev.From == p.stamper() {
			p.stamp = ev.Reply
			for _, t := range p.waiting {
				sends = append(sends, p.handOn(t)...)
			}
			p.waiting = nil
		}
	}
	rd := coord.Ready{Sends: sends}
	if p.stamp != nil && len(p.acked) >= p.cfg.W && !p.answered {
		p.answered = true
		res := &coord.Result{Context: p.stamp.Context, Siblings: int(p.stamp.Count), Set: p.stamp.Set}
		for _, n := range append(slices.Clone(p.cfg.Replicas), p.cfg.Fallbacks...) {
			if p.acked[n] {
				res.Answered = append(res.Answered, n)
			}
		}
		rd.Result = res
	}
	if p.pending() == 0 && len(sends) == 0 {
		if p.answered {
			p.done, rd.Done = true, true
		} else if p.stamp != nil {
			// Short of W with nothing pending: not at the first moment W
			// became unreachable, so the error counts every answer.
			return p.fail()
		}
	}
	return rd
}

// readModel is the contract of a read round: each replica is asked, a get
// asks a fallback (with hints) in place of one believed down or with no
// responders (while unanswered); the answer comes after R replies, or
// when nothing is pending; the round ends then or at a tick, and repairs
// go to the preference-list replicas that answered with less than the
// reconciled set. Short of R at the first tick, it asks those still
// silent once more (in name order) and ends at the next tick instead.
// A get with R < N not told to ask all asks R replicas, those neither
// believed down nor late first, then the late, and keeps the rest as spares in that order: a
// failure before the answer asks the next spare (a node not there asks a
// fallback once none is left), and EvSlow or the first tick before the
// answer ask every spare left (after the silent, at a tick).
type readModel struct {
	cfg     coord.Config
	asked   []string
	spares  []string
	used    map[string]bool
	got     map[string]vclock.Set // nodes that answered, with their sets
	order   []string              // ... in order of arrival
	failed  map[string]bool
	reasked bool
}

func newReadModel(cfg coord.Config) *readModel {
	return &readModel{cfg: cfg, used: map[string]bool{}, got: map[string]vclock.Set{}, failed: map[string]bool{}}
}

func (r *readModel) fallback() string {
	if r.cfg.Strict || r.cfg.Op != coord.OpGet {
		return ""
	}
	for _, f := range r.cfg.Fallbacks {
		if !r.used[f] && !r.cfg.Down[f] {
			r.used[f] = true
			r.asked = append(r.asked, f)
			return f
		}
	}
	return ""
}

func (r *readModel) pending() int { return len(r.asked) - len(r.got) - len(r.failed) }

// ask is the send to replica n: to a fallback in its place if n is
// believed down and one is left (a get only).
func (r *readModel) ask(n string) coord.Send {
	if r.cfg.Down[n] {
		if f := r.fallback(); f != "" {
			return coord.Send{To: f, Msg: &wire.GetRequest{Key: testKey, Hints: true}}
		}
	}
	r.asked = append(r.asked, n)
	if r.cfg.Op == coord.OpGet {
		return coord.Send{To: n, Msg: r.cfg.Get}
	}
	return coord.Send{To: n, Msg: r.cfg.Scan}
}

// spare asks up to k spares (k < 0: all).
func (r *readModel) spare(want []coord.Send, k int) []coord.Send {
	for ; len(r.spares) > 0 && k != 0; k-- {
		want = append(want, r.ask(r.spares[0]))
		r.spares = r.spares[1:]
	}
	return want
}

func (r *readModel) step(c *roundChecker, ev *coord.Event, rd coord.Ready) {
	if ev == nil {
		var want []coord.Send
		some := r.cfg.Op == coord.OpGet && !r.cfg.AskAll && r.cfg.R < len(r.cfg.Replicas)
		if some {
			var up, late, down []string
			for _, n := range r.cfg.Replicas {
				switch {
				case r.cfg.Down[n]:
					down = append(down, n)
				case r.cfg.Late[n]:
					late = append(late, n)
				default:
					up = append(up, n)
				}
			}
			order := slices.Concat(up, late, down)
			for _, n := range order[:r.cfg.R] {
				want = append(want, r.ask(n))
			}
			r.spares = order[r.cfg.R:]
		} else {
			for _, n := range r.cfg.Replicas {
				want = append(want, r.ask(n))
			}
		}
		if !reflect.DeepEqual(rd.Sends, want) || rd.Result != nil || rd.Done || rd.Spares != some {
			c.fatalf(ev, "got %s (spares %v), want sends %v (spares %v)", describe(rd), rd.Spares, want, some)
		}
		return
	}
	before := c.result == nil || rd.Result != nil // no answer before this step
	var want []coord.Send
	if ev.Kind == coord.EvSlow {
		if before {
			want = r.spare(nil, -1)
		}
		if !reflect.DeepEqual(rd.Sends, want) || rd.Result != nil || rd.Done != (r.pending() == 0) {
			c.fatalf(ev, "got %s, want the spares asked: %v", describe(rd), want)
		}
		return
	}
	if ev.Kind == coord.EvTick && before && !r.reasked {
		r.reasked = true
		silent := slices.Clone(r.asked)
		slices.Sort(silent)
		for _, n := range silent {
			if _, answered := r.got[n]; answered || r.failed[n] {
				continue
			}
			switch {
			case !slices.Contains(r.cfg.Replicas, n):
				want = append(want, coord.Send{To: n, Msg: &wire.GetRequest{Key: testKey, Hints: true}})
			case r.cfg.Op == coord.OpGet:
				want = append(want, coord.Send{To: n, Msg: r.cfg.Get})
			default:
				want = append(want, coord.Send{To: n, Msg: r.cfg.Scan})
			}
		}
		want = r.spare(want, -1)
		if len(want) > 0 {
			if !reflect.DeepEqual(rd.Sends, want) || rd.Result != nil || rd.Done {
				c.fatalf(ev, "got %s, want the silent asked again: %v", describe(rd), want)
			}
			return
		}
	}
	_, answered := r.got[ev.From]
	if slices.Contains(r.asked, ev.From) && !answered && !r.failed[ev.From] {
		switch {
		case ev.Kind == coord.EvNoResponders:
			r.failed[ev.From] = true
			if before {
				if len(r.spares) > 0 {
					want = r.spare(want, 1)
				} else if f := r.fallback(); f != "" {
					want = append(want, coord.Send{To: f, Msg: &wire.GetRequest{Key: testKey, Hints: true}})
				}
			}
		case ev.Kind == coord.EvReply && ev.Reply != nil && ev.Reply.Err() != nil:
			r.failed[ev.From] = true
			if before {
				want = r.spare(want, 1)
			}
		case ev.Kind == coord.EvReply && ev.Reply != nil:
			r.got[ev.From] = ev.Reply.Set // nil for a scan
			r.order = append(r.order, ev.From)
		}
	}
	if rd.Result != nil {
		c.checkReadResult(ev, rd.Result)
	}
	// A read answers as soon as R nodes have. Short of R, it gives up
	// only once nothing is pending, or at a tick: never at the first
	// moment R became unreachable, so the error counts every answer.
	if c.result == nil && (len(r.order) >= r.cfg.R || r.pending() == 0) {
		c.fatalf(ev, "no result with %d answered, %d pending, R=%d", len(r.order), r.pending(), r.cfg.R)
	}
	// The round (and its repairs) ends at the same moments.
	if wantDone := ev.Kind == coord.EvTick || r.pending() == 0; rd.Done != wantDone {
		c.fatalf(ev, "done %v with %d pending, want %v", rd.Done, r.pending(), wantDone)
	}
	if !rd.Done {
		if !reflect.DeepEqual(rd.Sends, want) || rd.Repairs != 0 {
			c.fatalf(ev, "got %s, want sends %v", describe(rd), want)
		}
		return
	}
	if rd.Repairs != len(rd.Sends) {
		c.fatalf(ev, "%d repairs among %d sends", rd.Repairs, len(rd.Sends))
	}
	for _, s := range rd.Sends {
		if _, ok := s.Msg.(*wire.ReplicateRequest); !ok {
			c.fatalf(ev, "a read ended with %T", s.Msg)
		}
	}
	if r.cfg.Op != coord.OpGet {
		return
	}
	// Read repair: every preference-list replica that answered with less
	// than the reconciled set of all answers gets that set; no one else.
	all := r.reconciled(r.order)
	var wantRepairs, gotRepairs []string
	for _, n := range r.order {
		if len(r.order) > 1 && slices.Contains(r.cfg.Replicas, n) && !r.got[n].Same(all) {
			wantRepairs = append(wantRepairs, n+formatSet(all))
		}
	}
	for _, s := range rd.Sends {
		gotRepairs = append(gotRepairs, s.To+formatSet(s.Msg.(*wire.ReplicateRequest).Set))
	}
	if !slices.Equal(gotRepairs, wantRepairs) {
		c.fatalf(ev, "repairs %v, want %v", gotRepairs, wantRepairs)
	}
}

func (r *readModel) reconciled(nodes []string) vclock.Set {
	all := vclock.Set{}
	for _, n := range nodes {
		all = all.Sync(r.got[n])
	}
	return all
}

func (c *roundChecker) checkReadResult(ev *coord.Event, res *coord.Result) {
	r := c.read
	var qe *coord.QuorumError
	if res.Err != nil {
		if !errors.As(res.Err, &qe) || qe.Answered != len(r.order) || len(res.Answered) != 0 {
			c.fatalf(ev, "error %v answered %v; %d answers came", res.Err, res.Answered, len(r.order))
		}
		if ev.Kind != coord.EvTick && r.pending() > 0 {
			c.fatalf(ev, "quorum error with %d pending, before the tick", r.pending())
		}
		return
	}
	// The answer is made of exactly the first R replies.
	if !slices.Equal(res.Answered, r.order) || len(r.order) != r.cfg.R {
		c.fatalf(ev, "Answered %v, the first %d replies were %v", res.Answered, r.cfg.R, r.order)
	}
	switch r.cfg.Op {
	case coord.OpGet:
		if want := r.reconciled(r.order); !res.Set.Same(want) {
			c.fatalf(ev, "Set %s, want %s", formatSet(res.Set), formatSet(want))
		}
	case coord.OpScan:
		for i, it := range res.Items {
			if i > 0 && (it.SK <= res.Items[i-1].SK) != r.cfg.Scan.Reverse {
				c.fatalf(ev, "items out of order: %+v", res.Items)
			}
		}
		if lim := int(r.cfg.Scan.Limit); lim > 0 && len(res.Items) > lim {
			c.fatalf(ev, "%d items, limit %d", len(res.Items), lim)
		}
	}
}
