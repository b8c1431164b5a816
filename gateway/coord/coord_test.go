package coord_test

import (
	"errors"
	"fmt"
	"maps"
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
func ok(from string, tag uint64) coord.Event {
	return coord.Event{Kind: coord.EvReply, From: from, Reply: &wire.Reply{Tag: tag, Node: from, Count: 1}}
}

func fail(from string, tag uint64, c wire.Code) coord.Event {
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

// sloppyPut and sloppyGet are rounds with two fallbacks, f1 and f2, and
// the given nodes believed down.
func sloppyPut(w int, down ...string) coord.Config {
	cfg := putConfig(w)
	cfg.Fallbacks, cfg.Down = []string{"f1", "f2"}, downSet(down)
	return cfg
}

func sloppyGet(r int, down ...string) coord.Config {
	cfg := getConfig(r)
	cfg.Fallbacks, cfg.Down = []string{"f1", "f2"}, downSet(down)
	return cfg
}

// askAll makes a get ask every replica.
func askAll(cfg coord.Config) coord.Config {
	cfg.AskAll = true
	return cfg
}

func downSet(nodes []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range nodes {
		m[n] = true
	}
	return m
}

// withSet makes a stamper's acknowledgement carry the stamped set.
func withSet(ev coord.Event) coord.Event {
	ev.Reply.Set = vclock.Set{{Clock: vclock.Clock{Dot: vclock.Dot{Actor: vclock.Actor(ev.From), Counter: 1}}}}
	return ev
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
		{"put abandoned attempt's acks not listed", putConfig(2), []coord.Event{ok("n3", 1), tick, ok("n1", 1), ok("n2", 2), ok("n3", 2), ok("n1", 2)}, []string{"n2", "n3"}},
		{"put hinted acks listed after replicas", sloppyPut(2, "n1"), []coord.Event{ok("f1", 1), ok("n2", 1)}, []string{"n2", "f1"}},
		{"put replaced target not listed", sloppyPut(3), []coord.Event{withSet(ok("n1", 1)), ok("n2", 1), gone("n3"), ok("n3", 1), ok("f1", 1)}, []string{"n1", "n2", "f1"}},
		{"get fallback listed in arrival order", askAll(sloppyGet(2, "n1")), []coord.Event{ok("f1", 0), ok("n3", 0)}, []string{"f1", "n3"}},
		{"put stranger not listed", putConfig(2), []coord.Event{ok("n9", 1), ok("n1", 1), ok("n2", 1)}, []string{"n1", "n2"}},
		{"put refusal names the stamper", putConfig(2), []coord.Event{ok("n2", 1), fail("n1", 1, wire.CodeTooManySiblings)}, []string{"n1"}},
		{"get first R in arrival order", askAll(getConfig(2)), []coord.Event{ok("n3", 0), ok("n1", 0), ok("n2", 0)}, []string{"n3", "n1"}},
		{"get spare not asked not listed", getConfig(2), []coord.Event{ok("n3", 0), ok("n2", 0), ok("n1", 0)}, []string{"n2", "n1"}},
		{"get spare listed once asked", sloppyGet(2, "n1"), []coord.Event{ok("f1", 0), gone("n2"), ok("n3", 0), ok("f1", 0)}, []string{"n3", "f1"}},
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
		{"put succeeded", putConfig(2), []coord.Event{ok("n1", 1), ok("n2", 1), ok("n3", 1)}},
		{"put succeeded, silent target replaced at the tick", sloppyPut(2), []coord.Event{withSet(ok("n1", 1)), ok("n2", 1), tick}},
		{"put failed", putConfig(2), []coord.Event{gone("n1"), gone("n2"), gone("n3")}},
		{"put refused", putConfig(2), []coord.Event{fail("n1", 1, wire.CodeBadRequest)}},
		{"get all answered", getConfig(2), []coord.Event{ok("n1", 0), ok("n2", 0), ok("n3", 0)}},
		{"get second tick", getConfig(2), []coord.Event{ok("n1", 0), tick, tick}},
		{"scan second tick", scan, []coord.Event{tick, tick}},
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
	cfg := sloppyPut(2, "n2")
	cfg.Put.Context = vclock.Context{VV: vclock.VV{{Actor: "a", Counter: 1}}, Dots: []vclock.Dot{{Actor: "n1", Counter: 3}}}
	cfg.Put.Forward, cfg.Put.Hints = []string{"caller"}, []string{"caller's"}
	before := *cfg.Put
	down := maps.Clone(cfg.Down)
	m := coord.New(cfg)
	first := m.Start().Sends[0].Msg.(*wire.PutRequest)
	second := m.Step(gone("n1")).Sends[0].Msg.(*wire.PutRequest)
	if !reflect.DeepEqual(*cfg.Put, before) || !maps.Equal(cfg.Down, down) {
		t.Errorf("the caller's request or down set changed: %+v, %v", *cfg.Put, cfg.Down)
	}
	if first == second || first.Tag != 1 || second.Tag != 2 ||
		!slices.Equal(first.Forward, []string{"f1", "n3"}) || !slices.Equal(first.Hints, []string{"n2", ""}) ||
		!slices.Equal(second.Forward, []string{"f2", "n3"}) || second.Hint != "n1" || !slices.Equal(second.Hints, []string{"n2", ""}) {
		t.Errorf("attempts share state: first %+v, second %+v", first, second)
	}
	if !reflect.DeepEqual(second.Context, before.Context) {
		t.Errorf("retry lost the client's context: %v", second.Context)
	}
}

func TestSilentListsTheAskedYetToAnswer(t *testing.T) {
	m := coord.New(coord.Config{Op: coord.OpGet, Replicas: n3, R: 2, Fallbacks: []string{"f1"}, Down: downSet([]string{"n1"}), AskAll: true, Get: &wire.GetRequest{Key: testKey}})
	m.Start() // f1 in n1's place, n2, n3
	if got := m.Silent(); !slices.Equal(got, []string{"f1", "n2", "n3"}) {
		t.Fatalf("Silent() at the start = %v, want [f1 n2 n3]", got)
	}
	m.Step(ok("n3", 0))
	m.Step(fail("f1", 0, wire.CodeInternal))
	if got := m.Silent(); !slices.Equal(got, []string{"n2"}) {
		t.Fatalf("Silent() after n3 answered and f1 failed = %v, want [n2]", got)
	}
}
