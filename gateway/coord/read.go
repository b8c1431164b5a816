package coord

import (
	"sort"

	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// askFallback reads from a fallback in place of a replica that is down:
// it answers with the hints it keeps too.
func (m *Machine) askFallback(f string) Send {
	m.targets.add(f, "")
	req := *m.cfg.Get
	req.Hints = true
	return Send{To: f, Msg: &req}
}

func (m *Machine) stepRead(ev Event) Ready {
	var sub []Send
	switch ev.Kind {
	case EvSlow:
		// The asked replicas are slow to answer (one may be paused or
		// busy): ask the spares rather than wait out a round timeout.
		if m.result == nil {
			return Ready{Sends: m.askSpares(nil, -1)}
		}
		return Ready{}
	case EvTick:
		if m.result == nil && !m.reasked {
			// Short of R after a round timeout. The requests or their
			// answers may only have been lost, as when the gateway's NATS
			// server dies under them: those still silent are asked once
			// more, with the spares, and get one more round timeout.
			m.reasked = true
			if sub = m.askSpares(m.reaskSilent(), -1); len(sub) > 0 {
				return Ready{Sends: sub}
			}
		}
		// Whoever has not answered by now will not be waited for.
		return m.readOver()
	case EvNoResponders:
		if t := m.targets.find(ev.From); t != nil && unanswered(t) {
			t.failed = true
			if m.cfg.Op == OpGet && m.result == nil {
				if len(m.spares) > 0 {
					sub = m.askSpares(sub, 1)
				} else if f := m.nextFallback(); f != "" {
					sub = append(sub, m.askFallback(f))
				}
			}
		}
	case EvReply:
		t := m.targets.find(ev.From)
		if t == nil || !unanswered(t) || ev.Reply == nil {
			return Ready{}
		}
		if ev.Reply.Err() != nil {
			t.failed = true
			if m.result == nil {
				sub = m.askSpares(sub, 1)
			}
		} else {
			t.reply = ev.Reply
			m.seen = append(m.seen, ev.From)
		}
	}
	rd := Ready{Sends: sub}
	if m.result == nil {
		switch {
		case len(m.seen) >= m.cfg.R:
			rd = m.finish(rd, m.readResult())
		case m.readPending() == 0:
			// Everyone answered or failed and R was not reached (see the
			// note in stepPut on why not earlier).
			rd = m.finish(rd, &Result{Err: &QuorumError{Op: m.cfg.Op, Needed: m.cfg.R, Answered: len(m.seen)}})
		}
	}
	if m.readPending() == 0 {
		over := m.readOver()
		over.Result = rd.Result
		return over
	}
	return rd
}

// reaskSilent asks again every node asked in this round that has neither
// answered nor failed.
func (m *Machine) reaskSilent() []Send {
	var sends []Send
	for _, n := range m.targets.sorted(unanswered) {
		if m.isPrimary(n) {
			sends = append(sends, Send{To: n, Msg: m.readRequest()})
		} else {
			sends = append(sends, m.askFallback(n))
		}
	}
	return sends
}

// isPrimary reports whether n is in the preference list proper.
func (m *Machine) isPrimary(n string) bool {
	for _, x := range m.cfg.Replicas {
		if x == n {
			return true
		}
	}
	return false
}

// reply returns the answer of n, one of seen.
func (m *Machine) reply(n string) *wire.Reply { return m.targets.find(n).reply }

func (m *Machine) readPending() int {
	return m.targets.count(unanswered)
}

// readOver ends the round: answer if not yet answered, then repair every
// replica that answered with less than the reconciled state.
func (m *Machine) readOver() Ready {
	var rd Ready
	if m.result == nil {
		if len(m.seen) >= m.cfg.R {
			rd = m.finish(rd, m.readResult())
		} else {
			rd = m.finish(rd, &Result{Err: &QuorumError{Op: m.cfg.Op, Needed: m.cfg.R, Answered: len(m.seen)}})
		}
	}
	if len(m.seen) > 1 {
		if m.cfg.Op == OpScan {
			rd.Sends = m.scanRepairs()
		} else {
			rd.Sends = m.getRepairs()
		}
		rd.Repairs = len(rd.Sends)
	}
	m.done = true
	rd.Done = true
	return rd
}

func (m *Machine) readResult() *Result {
	// Later replies only append to seen, past this slice's capacity.
	res := &Result{Answered: m.seen[:len(m.seen):len(m.seen)]}
	if m.cfg.Op == OpScan {
		res.Items, res.More = m.mergeScan()
		return res
	}
	res.Set = m.merged()
	return res
}

// merged folds the answers seen so far into one set. The fold is kept, so
// the repairs after a read's last answer add only the answers that came
// after its result (a fold of sets is the same in any order).
func (m *Machine) merged() vclock.Set {
	for ; m.folded < len(m.seen); m.folded++ {
		m.fold = m.fold.Sync(m.reply(m.seen[m.folded]).Set)
	}
	return m.fold
}

func (m *Machine) getRepairs() []Send {
	all := m.merged()
	var sends []Send
	for _, n := range m.seen {
		if m.isPrimary(n) && !m.reply(n).Set.Same(all) {
			sends = append(sends, Send{To: n, Msg: &wire.ReplicateRequest{Key: m.cfg.Get.Key, Set: all}})
		}
	}
	return sends
}

// scanCut is the last sort key every replica that stopped early has
// covered: beyond it, a replica's view is unknown, so items past it are
// left for the next page.
func (m *Machine) scanCut() (cut string, bounded bool) {
	for _, n := range m.seen {
		r := m.reply(n)
		if !r.More || len(r.Items) == 0 {
			continue
		}
		last := r.Items[len(r.Items)-1].SK
		if !bounded || (m.cfg.Scan.Reverse && last > cut) || (!m.cfg.Scan.Reverse && last < cut) {
			cut, bounded = last, true
		}
	}
	return cut, bounded
}

func (m *Machine) beyond(sk, cut string) bool {
	if m.cfg.Scan.Reverse {
		return sk < cut
	}
	return sk > cut
}

func (m *Machine) mergedItems() map[string]vclock.Set {
	cut, bounded := m.scanCut()
	merged := map[string]vclock.Set{}
	for _, n := range m.seen {
		for _, it := range m.reply(n).Items {
			if bounded && m.beyond(it.SK, cut) {
				continue
			}
			merged[it.SK] = merged[it.SK].Sync(it.Set)
		}
	}
	return merged
}

func (m *Machine) mergeScan() ([]Item, bool) {
	merged := m.mergedItems()
	items := make([]Item, 0, len(merged))
	for sk, s := range merged {
		items = append(items, Item{SK: sk, Set: s})
	}
	sort.Slice(items, func(i, j int) bool {
		if m.cfg.Scan.Reverse {
			return items[i].SK > items[j].SK
		}
		return items[i].SK < items[j].SK
	})
	more := false
	for _, n := range m.seen {
		more = more || m.reply(n).More
	}
	if lim := int(m.cfg.Scan.Limit); lim > 0 && len(items) > lim {
		items, more = items[:lim], true
	}
	return items, more
}

func (m *Machine) scanRepairs() []Send {
	merged := m.mergedItems()
	var sends []Send
	for _, n := range m.seen {
		have := map[string]vclock.Set{}
		for _, it := range m.reply(n).Items {
			have[it.SK] = it.Set
		}
		sks := make([]string, 0, len(merged))
		for sk := range merged {
			sks = append(sks, sk)
		}
		sort.Strings(sks)
		for _, sk := range sks {
			if s := merged[sk]; !have[sk].Same(s) {
				k := m.cfg.Scan.Key
				k.SK = sk
				if m.cfg.Scan.Whole {
					// Items of a whole-table scan are named by table suffix.
					pk, isk, err := tenants.SplitTableSuffix([]byte(sk))
					if err != nil {
						continue
					}
					k.PK, k.SK = pk, isk
				}
				sends = append(sends, Send{To: n, Msg: &wire.ReplicateRequest{Key: k, Set: s}})
			}
		}
	}
	return sends
}
