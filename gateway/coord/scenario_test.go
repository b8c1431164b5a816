package coord_test

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/coord"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt")

// Scenario files script one coordinator round each, in blocks
//
//	# comments and blank lines
//	<command> [key=value | flag ...]
//	----
//	<what that step did, up to the next blank line>
//
// Commands:
//
//	put  replicas=n1,n2,n3 w=2 [ctx=CONTEXT] [delete] [wantset] [extra=n4,...]
//	get  replicas=n1,n2,n3 r=2 [all]
//	scan replicas=n1,n2,n3 r=2 [limit=3] [start=s] [end=s] [reverse]
//	     start the file's one machine and print Start's Ready. Each also
//	     takes [fallbacks=f1,...] (the nodes after the preference list),
//	     [down=n1,...] (nodes believed down), [late=n1,...] (nodes a get
//	     asks last) and [strict] (no fallbacks).
//	reply from=n2 [tag=1] [ok | code=too_many_siblings] [ctx=CONTEXT] [count=1]
//	      [set=VERSIONS] [items=SK:VERSIONS;SK:VERSIONS...] [more]
//	reply undecodable     what the driver passes on for a reply it cannot decode
//	noresponders n1       nobody listens on n1's subject
//	tick                  one round timeout has elapsed
//	slow                  a get with spares waited the speculation delay
//
// CONTEXT is a vclock.Context: its closed VV as actor:counter entries
// separated by , or +, optionally followed by its dots (single events seen
// without their predecessors) in brackets: "a:1,b:2", "a:1+[n1:2,n1:4]",
// "[n1:2]". It prints as vclock.Context.String does: "{a:1}+[n1:2,n1:4]".
//
// VERSIONS is a comma-separated sibling set; each version is its dot
// actor:counter, optionally followed by ^ and its past, a CONTEXT whose VV
// entries are +-separated: "b:1,a:2^a:1+b:1", "n1:3^a:1+[n1:1]". A
// version's value is "v-<actor>-<counter>". "set=" is an empty set (the
// replica holds nothing).
//
// A get asks R replicas and keeps the others as spares unless it is
// given "all" (Config.AskAll).
//
// The output lists, in the machine's order, one line per send, then the
// result, "repairs=N", "spares" (Ready.Spares), "done"; "(none)" when the
// step did nothing. A put
// send prints hint=OWNER when its stamper stands in for OWNER, and
// hints=H1,H2,... (one per forward, "-" for none) when a forward does; a
// replicate prints its tag and hint=OWNER when set; a get sent to a
// fallback prints "hints".

type block struct {
	pre  []string // comment and blank lines before the command
	pos  string   // file:line of the command
	cmd  string
	want string
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			blocks, tail := readScenario(t, file)
			s := &scenario{t: t}
			for i := range blocks {
				b := &blocks[i]
				got := s.run(b)
				if *rewrite {
					b.want = got
				} else if got != b.want {
					t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", b.pos, b.cmd, got, b.want)
				}
			}
			if *rewrite {
				writeScenario(t, file, blocks, tail)
			}
		})
	}
}

func readScenario(t *testing.T, file string) (blocks []block, tail []string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var pre []string
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" || strings.HasPrefix(lines[i], "#") {
			pre = append(pre, lines[i])
			continue
		}
		b := block{pre: pre, pos: fmt.Sprintf("%s:%d", file, i+1), cmd: lines[i]}
		pre = nil
		if i++; i == len(lines) || lines[i] != "----" {
			t.Fatalf("%s: %q is not followed by ----", b.pos, b.cmd)
		}
		var out []string
		for i+1 < len(lines) && lines[i+1] != "" {
			i++
			out = append(out, lines[i])
		}
		b.want = strings.Join(out, "\n")
		blocks = append(blocks, b)
	}
	return blocks, pre
}

func writeScenario(t *testing.T, file string, blocks []block, tail []string) {
	var w strings.Builder
	for i, b := range blocks {
		if i > 0 && (len(b.pre) == 0 || b.pre[0] != "") {
			w.WriteString("\n")
		}
		for _, l := range b.pre {
			w.WriteString(l + "\n")
		}
		fmt.Fprintf(&w, "%s\n----\n%s\n", b.cmd, b.want)
	}
	for _, l := range tail {
		w.WriteString(l + "\n")
	}
	if err := os.WriteFile(file, []byte(w.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// scenario is the state of one file: its machine, once started.
type scenario struct {
	t   *testing.T
	pos string
	op  coord.Op
	m   *coord.Machine
}

func (s *scenario) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s: %s", s.pos, fmt.Sprintf(format, args...))
}

func (s *scenario) run(b *block) string {
	s.pos = b.pos
	name, a := s.parseCommand(b.cmd)
	if name != "put" && name != "get" && name != "scan" && s.m == nil {
		s.fatalf("%s before put, get or scan", name)
	}
	var rd coord.Ready
	switch name {
	case "put", "get", "scan":
		rd = s.start(name, a)
	case "reply":
		rd = s.m.Step(s.reply(a))
	case "noresponders":
		nodes := a.bare()
		if len(nodes) != 1 {
			s.fatalf("noresponders takes one node")
		}
		rd = s.m.Step(coord.Event{Kind: coord.EvNoResponders, From: nodes[0]})
	case "tick":
		rd = s.m.Step(coord.Event{Kind: coord.EvTick})
	case "slow":
		rd = s.m.Step(coord.Event{Kind: coord.EvSlow})
	default:
		s.fatalf("unknown command %q", name)
	}
	if left := a.unused(); len(left) > 0 {
		s.fatalf("%s: unknown arguments %v", name, left)
	}
	return s.format(rd)
}

// testKey is the item every scenario reads or writes.
var testKey = tenants.Key{Kind: tenants.KindData, Tenant: "t1", Table: "items", PK: "k"}

func (s *scenario) start(name string, a *args) coord.Ready {
	if s.m != nil {
		s.fatalf("one scenario per file: the machine is already started")
	}
	cfg := coord.Config{Replicas: a.values("replicas"), Fallbacks: a.values("fallbacks"), Strict: a.flag("strict")}
	if down := a.values("down"); len(down) > 0 {
		cfg.Down = map[string]bool{}
		for _, n := range down {
			cfg.Down[n] = true
		}
	}
	if late := a.values("late"); len(late) > 0 {
		cfg.Late = map[string]bool{}
		for _, n := range late {
			cfg.Late[n] = true
		}
	}
	switch name {
	case "put":
		cfg.Op, cfg.W = coord.OpPut, a.num("w", -1)
		cfg.Put = &wire.PutRequest{Key: testKey, Value: []byte("v-new"), Context: s.context(a.str("ctx")), Deleted: a.flag("delete"), WantSet: a.flag("wantset")}
		if cfg.Put.Deleted {
			cfg.Put.Value = nil
		}
		cfg.Extra = a.values("extra")
	case "get":
		cfg.Op, cfg.R, cfg.AskAll = coord.OpGet, a.num("r", -1), a.flag("all")
		cfg.Get = &wire.GetRequest{Key: testKey}
	case "scan":
		cfg.Op, cfg.R = coord.OpScan, a.num("r", -1)
		cfg.Scan = &wire.ScanRequest{Key: testKey, Start: a.str("start"), End: a.str("end"), Reverse: a.flag("reverse"), Limit: uint32(a.num("limit", 0))}
	}
	if len(cfg.Replicas) == 0 || cfg.R < 0 || cfg.W < 0 {
		s.fatalf("%s needs replicas= and its quorum (w= for put, r= otherwise)", name)
	}
	s.op, s.m = cfg.Op, coord.New(cfg)
	return s.m.Start()
}

func (s *scenario) reply(a *args) coord.Event {
	if a.flag("undecodable") {
		return coord.Event{Kind: coord.EvReply}
	}
	from := a.str("from")
	if from == "" {
		s.fatalf("reply needs from=")
	}
	r := &wire.Reply{Node: from, Tag: uint64(a.num("tag", 0)), Count: uint32(a.num("count", 0)), More: a.flag("more")}
	ok := a.flag("ok") // the default; named for readability
	if c, isErr := a.get("code"); isErr {
		if ok {
			s.fatalf("reply: ok and code= together")
		}
		r.Code, r.Message = s.code(c), "reply from "+from
	}
	r.Context = s.context(a.str("ctx"))
	if spec, ok := a.get("set"); ok {
		r.Set = s.set(spec)
	}
	if spec, ok := a.get("items"); ok {
		r.Items = []wire.ScanItem{}
		for _, it := range strings.Split(spec, ";") {
			if it == "" {
				continue
			}
			sk, set, _ := strings.Cut(it, ":")
			r.Items = append(r.Items, wire.ScanItem{SK: sk, Set: s.set(set)})
		}
	}
	return coord.Event{Kind: coord.EvReply, From: from, Reply: r}
}

func (s *scenario) code(name string) wire.Code {
	for c := wire.Code(0); c < 64; c++ {
		if c.String() == name {
			return c
		}
	}
	s.fatalf("unknown code %q", name)
	return 0
}

func (s *scenario) dot(spec string) vclock.Dot {
	actor, n, ok := strings.Cut(spec, ":")
	c, err := strconv.ParseUint(n, 10, 64)
	if !ok || actor == "" || err != nil || c == 0 {
		s.fatalf("bad dot %q: want actor:counter", spec)
	}
	return vclock.Dot{Actor: vclock.Actor(actor), Counter: c}
}

// context parses CONTEXT, refusing dots that are not single events of
// their own (already covered by the VV or repeated): a context in normal
// form holds no such dots, so a script that writes one is mistaken.
func (s *scenario) context(spec string) vclock.Context {
	closed, open, hasDots := strings.Cut(spec, "[")
	ctx := vclock.Context{VV: s.vv(closed)}
	if !hasDots {
		return ctx
	}
	list, ok := strings.CutSuffix(open, "]")
	if !ok || list == "" || strings.ContainsAny(list, "[]") {
		s.fatalf("bad context %q: want VV entries, then [actor:counter,...]", spec)
	}
	for _, e := range strings.Split(list, ",") {
		d := s.dot(e)
		if ctx.Covers(d) {
			s.fatalf("context %q: dot %s is covered by the rest of the context", spec, d)
		}
		ctx = ctx.WithDot(d)
	}
	return ctx
}

func (s *scenario) vv(spec string) vclock.VV {
	var es []vclock.Entry
	for _, e := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '+' }) {
		d := s.dot(e)
		es = append(es, vclock.Entry{Actor: d.Actor, Counter: d.Counter})
	}
	return vclock.Normalize(es)
}

// set parses VERSIONS into a sibling set, refusing specs that are not one
// (a version superseding or duplicating another): a replica never holds
// such a set, so a script that writes one is mistaken.
func (s *scenario) set(spec string) vclock.Set {
	vs := vclock.Set{}
	for _, v := range splitVersions(spec) {
		dot, past, _ := strings.Cut(v, "^")
		d := s.dot(dot)
		vs = append(vs, vclock.Version{
			Clock: vclock.Clock{Dot: d, Past: s.context(past)},
			Value: []byte(fmt.Sprintf("v-%s-%d", d.Actor, d.Counter)),
		})
	}
	set := vclock.Set{}.Sync(vs)
	if len(set) != len(vs) {
		s.fatalf("set=%s is not a sibling set: a version supersedes or repeats another", spec)
	}
	return set
}

// splitVersions splits VERSIONS at the commas that are not inside a past's
// dot list.
func splitVersions(spec string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range spec {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				if i > start {
					out = append(out, spec[start:i])
				}
				start = i + 1
			}
		}
	}
	if start < len(spec) {
		out = append(out, spec[start:])
	}
	return out
}

func (s *scenario) format(rd coord.Ready) string {
	var out []string
	for _, snd := range rd.Sends {
		out = append(out, "send "+snd.To+" "+formatMsg(snd.Msg))
	}
	if rd.Result != nil {
		out = append(out, s.formatResult(rd.Result)...)
	}
	if rd.Repairs > 0 {
		out = append(out, fmt.Sprintf("repairs=%d", rd.Repairs))
	}
	if rd.Spares {
		out = append(out, "spares")
	}
	if rd.Done {
		out = append(out, "done")
	}
	if len(out) == 0 {
		return "(none)"
	}
	return strings.Join(out, "\n")
}

func (s *scenario) formatResult(r *coord.Result) []string {
	if r.Err != nil {
		out := []string{"result err: " + r.Err.Error()}
		if len(r.Answered) > 0 {
			out = append(out, "  answered="+strings.Join(r.Answered, ","))
		}
		return out
	}
	line := "result ok answered=" + strings.Join(r.Answered, ",")
	switch s.op {
	case coord.OpPut:
		line += fmt.Sprintf(" ctx=%s siblings=%d", r.Context, r.Siblings)
		if r.Set != nil {
			line += " set=" + formatSet(r.Set)
		}
	case coord.OpGet:
		line += " set=" + formatSet(r.Set)
	case coord.OpScan:
		line += fmt.Sprintf(" more=%v", r.More)
		out := []string{line}
		for _, it := range r.Items {
			out = append(out, "  item "+it.SK+" "+formatSet(it.Set))
		}
		return out
	}
	return []string{line}
}

func formatMsg(msg wire.Message) string {
	switch m := msg.(type) {
	case *wire.PutRequest:
		line := fmt.Sprintf("put tag=%d forward=%s", m.Tag, strings.Join(m.Forward, ","))
		if m.Hint != "" {
			line += " hint=" + m.Hint
		}
		if slices.ContainsFunc(m.Hints, func(h string) bool { return h != "" }) || len(m.Hints) != len(m.Forward) {
			hints := make([]string, len(m.Hints))
			for i, h := range m.Hints {
				hints[i] = cmp.Or(h, "-")
			}
			line += " hints=" + strings.Join(hints, ",")
		}
		if !m.Context.IsEmpty() {
			line += " ctx=" + m.Context.String()
		}
		if m.Deleted {
			line += " delete"
		}
		if m.WantSet {
			line += " wantset"
		}
		return line
	case *wire.GetRequest:
		if m.Hints {
			return "get key=" + formatKey(m.Key) + " hints"
		}
		return "get key=" + formatKey(m.Key)
	case *wire.ScanRequest:
		line := "scan key=" + formatKey(m.Key)
		if m.Start != "" {
			line += " start=" + m.Start
		}
		if m.End != "" {
			line += " end=" + m.End
		}
		line += fmt.Sprintf(" limit=%d", m.Limit)
		if m.Reverse {
			line += " reverse"
		}
		return line
	case *wire.ReplicateRequest:
		line := "replicate "
		if m.Tag != 0 {
			line += fmt.Sprintf("tag=%d ", m.Tag)
		}
		line += "key=" + formatKey(m.Key) + " set=" + formatSet(m.Set)
		if m.Hint != "" {
			line += " hint=" + m.Hint
		}
		return line
	}
	return fmt.Sprintf("%T", msg)
}

func formatKey(k tenants.Key) string {
	if k.SK != "" {
		return k.PK + "/" + k.SK
	}
	return k.PK
}

func formatSet(s vclock.Set) string {
	dots := make([]string, len(s))
	for i, d := range s.Dots() {
		dots[i] = d.String()
	}
	return "[" + strings.Join(dots, ",") + "]"
}

// args are a command's arguments, key=value pairs or bare flags. Each
// accessor consumes what it reads, so unused (misspelt) arguments can be
// reported.
type args struct {
	s    *scenario
	list []arg
}

type arg struct {
	key, val string
	flag     bool // a bare word: no '='
	used     bool
}

func (s *scenario) parseCommand(line string) (string, *args) {
	fields := strings.Fields(line)
	a := &args{s: s}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		for _, x := range a.list {
			if x.key == k {
				s.fatalf("argument %q given twice", k)
			}
		}
		a.list = append(a.list, arg{key: k, val: v, flag: !ok})
	}
	return fields[0], a
}

func (a *args) get(k string) (string, bool) {
	for i := range a.list {
		if x := &a.list[i]; x.key == k && !x.flag {
			x.used = true
			return x.val, true
		}
	}
	return "", false
}

func (a *args) str(k string) string { v, _ := a.get(k); return v }

func (a *args) flag(k string) bool {
	for i := range a.list {
		if x := &a.list[i]; x.key == k && x.flag {
			x.used = true
			return true
		}
	}
	return false
}

func (a *args) values(k string) []string {
	if v := a.str(k); v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

func (a *args) num(k string, def int) int {
	v, ok := a.get(k)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		a.s.fatalf("%s=%s: want a number", k, v)
	}
	return n
}

// bare consumes the remaining bare words, in order.
func (a *args) bare() []string {
	var out []string
	for i := range a.list {
		if x := &a.list[i]; x.flag && !x.used {
			x.used = true
			out = append(out, x.key)
		}
	}
	return out
}

func (a *args) unused() []string {
	var out []string
	for _, x := range a.list {
		if !x.used {
			out = append(out, x.key)
		}
	}
	return out
}
