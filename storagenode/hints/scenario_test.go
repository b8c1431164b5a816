package hints_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/storagenode/hints"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt")

// Scenario files script one scheduler each, as a fallback node's hint
// delivery loop would drive it, in blocks
//
//	# comments and blank lines
//	<command> [args]
//	----
//	<what that step did, up to the next blank line>
//
// Commands:
//
//	config base=1 max=64    set the backoffs (before anything else; the
//	                        defaults are New's)
//	pending a=3 b=0         set owners' pending hint counts (0: none)
//	reachable a b           mark owners reachable (every owner is, at first)
//	unreachable a b         mark owners unreachable
//	tick [n] [fail=a,b] [deliver=a,b]
//	                        run n (default 1) ticks; after each, the due
//	                        owners named in fail= have failed deliveries,
//	                        those in deliver= successful ones, which empty
//	                        their queues (as the driver deletes delivered
//	                        hints)
//	failed a                one failed delivery to a
//	delivered a             one successful delivery to a (pending unchanged)
//
// Each tick prints "tick N: due OWNERS" and what was done about them;
// every step then prints the backoff left of each owner the script named.

type block struct {
	pre  []string
	pos  string
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
			s := &scenario{t: t, sched: hints.New(), pending: map[string]int{}, unreachable: map[string]bool{}}
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

// scenario is the state of one file: the scheduler and the world the
// driver would see.
type scenario struct {
	t           *testing.T
	pos         string
	sched       *hints.Scheduler
	started     bool
	ticks       int
	pending     map[string]int
	unreachable map[string]bool
	named       []string // every owner the script mentioned, sorted
}

func (s *scenario) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s: %s", s.pos, fmt.Sprintf(format, args...))
}

func (s *scenario) name(owners ...string) {
	for _, o := range owners {
		if o == "" {
			s.fatalf("empty owner name")
		}
		if i, found := slices.BinarySearch(s.named, o); !found {
			s.named = slices.Insert(s.named, i, o)
		}
	}
}

func (s *scenario) run(b *block) string {
	s.pos = b.pos
	fields := strings.Fields(b.cmd)
	cmd, args := fields[0], fields[1:]
	var out []string
	switch cmd {
	case "config":
		if s.started {
			s.fatalf("config after other commands")
		}
		for k, v := range s.keyValues(args) {
			switch k {
			case "base":
				s.sched.BaseBackoff = v
			case "max":
				s.sched.MaxBackoff = v
			default:
				s.fatalf("config: unknown %s", k)
			}
		}
	case "pending":
		for owner, n := range s.keyValues(args) {
			s.name(owner)
			s.pending[owner] = n
		}
	case "reachable", "unreachable":
		if len(args) == 0 {
			s.fatalf("%s needs owners", cmd)
		}
		for _, o := range args {
			s.name(o)
			s.unreachable[o] = cmd == "unreachable"
		}
	case "tick":
		out = s.tick(args)
	case "failed", "delivered":
		if len(args) != 1 {
			s.fatalf("%s takes one owner", cmd)
		}
		s.name(args[0])
		if cmd == "failed" {
			out = append(out, fmt.Sprintf("%s waits %d", args[0], s.sched.Failed(args[0])))
		} else {
			s.sched.Delivered(args[0])
		}
	default:
		s.fatalf("unknown command %q", cmd)
	}
	s.started = true
	return strings.Join(append(out, s.backoffs()), "\n")
}

func (s *scenario) tick(args []string) []string {
	n := 1
	fail, deliver := map[string]bool{}, map[string]bool{}
	for _, a := range args {
		k, v, isKV := strings.Cut(a, "=")
		switch {
		case !isKV:
			var err error
			if n, err = strconv.Atoi(a); err != nil || n < 1 {
				s.fatalf("tick %s: want a count", a)
			}
		case k == "fail" || k == "deliver":
			set := deliver
			if k == "fail" {
				set = fail
			}
			for _, o := range strings.Split(v, ",") {
				s.name(o)
				set[o] = true
			}
		default:
			s.fatalf("tick: unknown %s", k)
		}
	}
	var out []string
	for range n {
		s.ticks++
		due := s.sched.Tick(s.pending, func(owner string) bool { return !s.unreachable[owner] })
		if !sort.StringsAreSorted(due) {
			s.fatalf("due owners not sorted: %v", due)
		}
		line := fmt.Sprintf("tick %d: due %s", s.ticks, strings.Join(due, ","))
		if len(due) == 0 {
			line = fmt.Sprintf("tick %d: due (none)", s.ticks)
		}
		for _, o := range due {
			if s.pending[o] == 0 || s.unreachable[o] {
				s.fatalf("tick %d: %s is due with %d pending, unreachable %v", s.ticks, o, s.pending[o], s.unreachable[o])
			}
			switch {
			case fail[o]:
				line += fmt.Sprintf("; %s fails, waits %d", o, s.sched.Failed(o))
			case deliver[o]:
				s.sched.Delivered(o)
				s.pending[o] = 0
				line += fmt.Sprintf("; %s delivered", o)
			}
		}
		out = append(out, line)
	}
	return out
}

func (s *scenario) keyValues(args []string) map[string]int {
	kv := map[string]int{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			s.fatalf("%q: want name=number", a)
		}
		kv[k] = n
	}
	return kv
}

func (s *scenario) backoffs() string {
	if len(s.named) == 0 {
		return "backoff (no owners)"
	}
	parts := make([]string, len(s.named))
	for i, o := range s.named {
		parts[i] = fmt.Sprintf("%s=%d", o, s.sched.Backoff(o))
	}
	return "backoff " + strings.Join(parts, " ")
}
