package coord

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/vclock"
)

// Op is the kind of round.
type Op int

const (
	OpGet Op = iota
	OpPut
	OpScan
)

func (o Op) String() string {
	switch o {
	case OpGet:
		return "read"
	case OpPut:
		return "write"
	default:
		return "scan"
	}
}

// Config describes one round.
type Config struct {
	Op Op
	// Replicas is the key's preference list: its first N distinct nodes.
	Replicas []string
	// Fallbacks are the nodes after the preference list, in ring order.
	// Unless Strict, a replica that is down or does not answer is replaced
	// by the next healthy fallback, which keeps the write as a hint for it
	// (sloppy quorum, Dynamo §4.6); hinted acknowledgements count toward
	// W, and fallbacks answer reads in place of down replicas.
	Fallbacks []string
	// Strict refuses sloppiness: only the preference list counts (Riak's
	// PW/PR).
	Strict bool
	// Extra are nodes that must also receive a write without counting
	// toward W: the new replicas of a partition while the ring changes.
	Extra []string
	// R and W are the quorums; 1 ≤ R, W ≤ len(Replicas).
	R, W int
	// Down lists nodes known to be unreachable: they are not chosen as
	// stamper while another node remains (a write still forwards to them, in
	// case the knowledge is stale).
	Down map[string]bool
	// Late lists replicas that recently left a get unanswered past the
	// driver's speculation delay: a get that asks R replicas asks them
	// after the others, though before those believed down.
	Late map[string]bool
	// AskAll asks every replica of a get, so that its reconciled set
	// repairs all of them. Otherwise a get asks R replicas (those not
	// believed down first) and keeps the others as spares, asked only when
	// an asked one fails, at EvSlow, or at the first tick: R+W>N still
	// holds between any R replicas and any W, and each replica left out
	// spares its read and two messages. Scans always ask every replica.
	AskAll bool
	// Exactly one of Put, Get, Scan is set, matching Op. The machine fills
	// in Tag and Forward.
	Put  *wire.PutRequest
	Get  *wire.GetRequest
	Scan *wire.ScanRequest
}

// ErrQuorum is matched (errors.Is) by every *QuorumError.
var ErrQuorum = errors.New("coord: quorum not met")

// QuorumError says how many of the required replicas answered.
type QuorumError struct {
	Op       Op
	Needed   int
	Answered int
	// Refused holds what the replicas that answered with an error said
	// ("n1: …"), so a client learns why they did, not only how many.
	Refused []string
}

func (e *QuorumError) Error() string {
	msg := fmt.Sprintf("%s quorum not met: %d of %d required replicas answered", e.Op, e.Answered, e.Needed)
	if len(e.Refused) > 0 {
		msg += " (refused by " + strings.Join(e.Refused, "; ") + ")"
	}
	return msg
}

// Is makes errors.Is(err, ErrQuorum) true.
func (e *QuorumError) Is(target error) bool { return target == ErrQuorum }

// EventKind says what happened.
type EventKind int

const (
	// EvReply: a node answered.
	EvReply EventKind = iota
	// EvNoResponders: nobody listens on a node's subject (it is down).
	EvNoResponders
	// EvTick: one round timeout has elapsed.
	EvTick
	// EvSlow: a get with spares (Ready.Spares) has waited the driver's
	// speculation delay, shorter than a round timeout.
	EvSlow
)

// Event is an input to Step.
type Event struct {
	Kind  EventKind
	From  string
	Reply *wire.Reply
}

// Send is a message to deliver to one node.
type Send struct {
	To  string
	Msg wire.Message
}

// Item is one entry of a scan result.
type Item struct {
	SK  string
	Set vclock.Set
}

// Result is the answer to the client.
type Result struct {
	Err error
	// Get: the reconciled set (may hold tombstones; empty if never
	// written). Put: the stored set if the stamper sent it.
	Set vclock.Set
	// Put: the new version's context.
	Context vclock.Context
	// Put: the item's sibling count after the write.
	Siblings int
	// Scan: reconciled items in order, and whether more may follow.
	Items []Item
	More  bool
	// Answered lists the nodes whose replies decided the result.
	Answered []string
}

// Ready is what a step asks the driver to do.
type Ready struct {
	Sends []Send
	// Result is set once per round: answer the client now.
	Result *Result
	// Repairs counts read-repair messages among Sends.
	Repairs int
	// Spares: the round holds replicas it has not asked; the driver
	// delivers EvSlow if no result comes within its speculation delay.
	Spares bool
	// Done: the round needs no more events.
	Done bool
}

// Machine is one round.
type Machine struct {
	cfg    Config
	result *Result
	done   bool

	// The nodes asked in the round (in a put, in its current attempt).
	targets targets

	// Put.
	attempt  int
	down     map[string]bool // failed in this round (cfg.Down: believed down before it)
	slow     map[string]bool // silent as stamper in this round: maybe only late
	stamper  string
	used     map[string]bool // fallbacks already given a role
	waiting  []string        // failed targets to replace once the stamped set is known
	refused  []string        // the errors replicas answered this put with, "node: message"
	ticks    int             // ticks since the stamper acknowledged
	stampOK  bool
	stampRep *wire.Reply

	// Get and scan.
	seen    []string   // the targets that answered, in the order they did
	fold    vclock.Set // the sets of seen[:folded], merged
	folded  int
	reasked bool     // the silent were asked again at a tick
	spares  []string // replicas of a get not asked yet, in the order to ask them
}

// target is a node asked in a round.
type target struct {
	node   string
	owner  string      // a put's: the replica it stands in for ("" itself)
	reply  *wire.Reply // a read's: its answer
	acked  bool        // a put's: it acknowledged
	failed bool
}

// targets is a set of nodes. A round asks at most N replicas and a few
// fallbacks: a linear search costs less than a map, and the slice's array
// serves every attempt of a put where maps took two allocations each per
// attempt.
type targets []target

// find returns n's entry, or nil if n is not in the set. The entry is
// valid until the next add.
func (ts targets) find(n string) *target {
	for i := range ts {
		if ts[i].node == n {
			return &ts[i]
		}
	}
	return nil
}

// add puts n in the set, standing in for owner.
func (ts *targets) add(n, owner string) {
	if t := ts.find(n); t != nil {
		t.owner = owner
		return
	}
	*ts = append(*ts, target{node: n, owner: owner})
}

// count returns how many entries satisfy f.
func (ts targets) count(f func(*target) bool) int {
	k := 0
	for i := range ts {
		if f(&ts[i]) {
			k++
		}
	}
	return k
}

// sorted returns the nodes whose entries satisfy f in name order, which
// makes the order of the sends built from them deterministic.
func (ts targets) sorted(f func(*target) bool) []string {
	var out []string
	for i := range ts {
		if f(&ts[i]) {
			out = append(out, ts[i].node)
		}
	}
	slices.Sort(out)
	return out
}

// New returns a machine for one round.
func New(cfg Config) *Machine {
	m := &Machine{cfg: cfg, targets: make(targets, 0, len(cfg.Replicas))}
	if cfg.Op != OpPut {
		// One slot per replica: appended one by one, the replies' order
		// took three allocations for three replies.
		m.seen = make([]string, 0, len(cfg.Replicas))
	}
	return m
}

// mark adds n to a set of nodes. Most rounds fail, slow down or replace
// no node, so such sets stay nil (reading a nil map is fine) until a first
// node is marked: a round allocates only what it uses.
func mark(set *map[string]bool, n string) {
	if *set == nil {
		*set = make(map[string]bool, 2)
	}
	(*set)[n] = true
}

// Start begins the round.
func (m *Machine) Start() Ready {
	switch m.cfg.Op {
	case OpPut:
		return m.stampAttempt()
	case OpGet:
		if !m.cfg.AskAll && m.cfg.R < len(m.cfg.Replicas) {
			return m.startSome()
		}
	}
	rd := Ready{Sends: make([]Send, 0, len(m.cfg.Replicas))}
	for _, n := range m.cfg.Replicas {
		rd.Sends = append(rd.Sends, m.ask(n))
	}
	return rd
}

// ask sends a read to replica n, or to a fallback in its place if n is
// believed down and a fallback is left (a get only).
func (m *Machine) ask(n string) Send {
	if m.cfg.Down[n] && m.cfg.Op == OpGet {
		if f := m.nextFallback(); f != "" {
			return m.askFallback(f)
		}
	}
	m.targets.add(n, "")
	return Send{To: n, Msg: m.readRequest()}
}

// startSome asks R replicas of a get, those not believed down nor late
// first, and keeps the rest as spares.
func (m *Machine) startSome() Ready {
	rd := Ready{Sends: make([]Send, 0, m.cfg.R), Spares: true}
	rank := func(n string) int {
		switch {
		case m.cfg.Down[n]:
			return 2
		case m.cfg.Late[n]:
			return 1
		}
		return 0
	}
	order := m.cfg.Replicas // only resliced: the caller's list stays as it is
	if slices.ContainsFunc(order, func(n string) bool { return rank(n) > 0 }) {
		order = slices.Clone(order)
		slices.SortStableFunc(order, func(a, b string) int { return rank(a) - rank(b) })
	}
	for _, n := range order[:m.cfg.R] {
		rd.Sends = append(rd.Sends, m.ask(n))
	}
	m.spares = order[m.cfg.R:]
	return rd
}

// Silent returns the replicas asked in this round that have neither
// answered nor failed.
func (m *Machine) Silent() []string {
	return m.targets.sorted(unanswered)
}

func unanswered(t *target) bool { return t.reply == nil && !t.failed }

// askSpares asks up to k of the spares (k < 0: all of them).
func (m *Machine) askSpares(sends []Send, k int) []Send {
	for len(m.spares) > 0 && k != 0 {
		sends = append(sends, m.ask(m.spares[0]))
		m.spares = m.spares[1:]
		k--
	}
	return sends
}

func (m *Machine) readRequest() wire.Message {
	if m.cfg.Op == OpScan {
		return m.cfg.Scan
	}
	return m.cfg.Get
}

// Step advances the round by one event.
func (m *Machine) Step(ev Event) Ready {
	if m.done {
		return Ready{Done: true}
	}
	if m.cfg.Op == OpPut {
		return m.stepPut(ev)
	}
	return m.stepRead(ev)
}

// Done reports whether the round is over.
func (m *Machine) Done() bool { return m.done }

func (m *Machine) finish(rd Ready, res *Result) Ready {
	if m.result == nil && res != nil {
		m.result = res
		rd.Result = res
	}
	return rd
}
