package coord

import "github.com/ringtable/ringtable/messaging/wire"

// nextFallback returns the next fallback not yet used and not believed
// down, or "" when none is left (or the round is strict).
func (m *Machine) nextFallback() string {
	if m.cfg.Strict {
		return ""
	}
	for _, f := range m.cfg.Fallbacks {
		if !m.used[f] && !m.down[f] && !m.slow[f] && !m.cfg.Down[f] {
			mark(&m.used, f)
			return f
		}
	}
	return ""
}

// stampAttempt assigns the round's targets (each replica, or a fallback in
// place of a replica believed down) and asks the first to stamp the write.
// A replica with no fallback to stand in for it still gets the write, last,
// unless it failed for certain in this round. First come those believed
// down before the round (the belief may be stale), then those whose stamp
// went unanswered in it (the request or its answer may only have been
// lost, as when the gateway's NATS server dies under a request). Those
// believed down stamp only once no other node is left; those whose stamp
// went unanswered never stamp again in the round.
func (m *Machine) stampAttempt() Ready {
	m.attempt++
	m.targets, m.used = m.targets[:0], nil
	m.waiting, m.ticks, m.stampOK, m.stampRep = nil, 0, false, nil
	if m.attempt > len(m.cfg.Replicas)+len(m.cfg.Fallbacks) {
		return m.noStamper()
	}
	var stale, slow []string
	for _, r := range m.cfg.Replicas {
		if !m.down[r] && !m.slow[r] && !m.cfg.Down[r] {
			m.targets.add(r, "")
		} else if f := m.nextFallback(); f != "" {
			m.targets.add(f, r)
		} else if m.slow[r] {
			slow = append(slow, r)
		} else if !m.down[r] {
			stale = append(stale, r)
		}
	}
	for _, r := range stale {
		m.targets.add(r, "")
	}
	if len(m.targets) == 0 {
		return m.noStamper()
	}
	for _, r := range slow {
		m.targets.add(r, "")
	}
	m.stamper = m.targets[0].node
	// The request and the one send that carries it share an allocation.
	stamp := &struct {
		req   wire.PutRequest
		sends [1]Send
	}{req: *m.cfg.Put}
	req := &stamp.req
	req.Tag = uint64(m.attempt)
	req.Hint = m.targets[0].owner
	// The stamped set is needed only to hand it to a fallback if a target
	// fails; without fallbacks (a cluster no larger than N) it is not asked.
	req.WantSet = req.WantSet || (!m.cfg.Strict && len(m.cfg.Fallbacks) > 0)
	req.Forward, req.Hints = nil, nil
	if fwd := len(m.targets) - 1 + len(m.cfg.Extra); fwd > 0 {
		// Forward and Hints go in step: one array holds both.
		buf := make([]string, 2*fwd)
		req.Forward, req.Hints = buf[:0:fwd], buf[fwd:fwd]
	}
	for _, t := range m.targets[1:] {
		req.Forward = append(req.Forward, t.node)
		req.Hints = append(req.Hints, t.owner)
	}
	for _, n := range m.cfg.Extra {
		if m.targets.find(n) == nil {
			req.Forward = append(req.Forward, n) // forwarded, never counted
			req.Hints = append(req.Hints, "")
		}
	}
	stamp.sends[0] = Send{To: m.stamper, Msg: req}
	return Ready{Sends: stamp.sends[:]}
}

// noStamper ends a put that has no node left to stamp it.
func (m *Machine) noStamper() Ready {
	m.done = true
	return m.finish(Ready{Done: true}, &Result{Err: &QuorumError{Op: OpPut, Needed: m.cfg.W, Answered: 0, Refused: m.refused}})
}

// restamp abandons the attempt whose stamper failed and assigns the
// targets again. A stamper that refused or had no responders is down; one
// that was silent for a round timeout is only suspected (see stampAttempt).
func (m *Machine) restamp(silent bool) Ready {
	if silent {
		mark(&m.slow, m.stamper)
	} else {
		mark(&m.down, m.stamper)
	}
	return m.stampAttempt()
}

// replace hands the stamped set to a fallback in place of a failed target.
func (m *Machine) replace(failed string) []Send {
	mark(&m.down, failed)
	owner := m.targets.find(failed).owner
	if owner == "" {
		owner = failed
	}
	f := m.nextFallback()
	if f == "" {
		return nil
	}
	m.targets.add(f, owner)
	return []Send{{To: f, Msg: &wire.ReplicateRequest{Header: wire.Header{Tag: uint64(m.attempt)}, Key: m.cfg.Put.Key, Set: m.stampRep.Set, Hint: owner}}}
}

// fail marks a target failed and, once the stamped set is known, replaces
// it with a fallback.
func (m *Machine) fail(t string) Ready {
	m.targets.find(t).failed = true
	if !m.stampOK || m.stampRep.Set == nil {
		m.waiting = append(m.waiting, t)
		return Ready{}
	}
	return Ready{Sends: m.replace(t)}
}

func (m *Machine) stepPut(ev Event) Ready {
	var rd Ready
	switch ev.Kind {
	case EvTick:
		if !m.stampOK {
			return m.restamp(true)
		}
		m.ticks++
		if m.ticks > 1 && m.result == nil {
			return m.putFailed() // the replacements had their chance too
		}
		// Whoever has not answered by now is replaced.
		for _, t := range m.targets.sorted(unsettled) {
			rd.Sends = append(rd.Sends, m.fail(t).Sends...)
		}
		if m.result != nil {
			// Answered already: the hinted copies are sent, the round ends.
			m.done = true
			rd.Done = true
			return rd
		}
	case EvNoResponders:
		if t := m.targets.find(ev.From); t == nil || !unsettled(t) {
			return Ready{}
		}
		if ev.From == m.stamper && !m.stampOK {
			return m.restamp(false)
		}
		rd = m.fail(ev.From)
	case EvReply:
		r := ev.Reply
		t := m.targets.find(ev.From)
		if r == nil || r.Tag != uint64(m.attempt) || t == nil || !unsettled(t) {
			return Ready{} // an abandoned attempt, a stranger or a duplicate
		}
		if err := r.Err(); err != nil {
			m.refused = append(m.refused, ev.From+": "+r.Message)
			if ev.From == m.stamper && !m.stampOK {
				switch r.Code {
				case wire.CodeUnavailable, wire.CodeInternal:
					return m.restamp(false)
				default:
					// The write itself is refused (bad request, sibling
					// limit): another stamper would refuse it too.
					m.done = true
					return m.finish(Ready{Done: true}, &Result{Err: err, Answered: []string{ev.From}})
				}
			}
			rd = m.fail(ev.From)
			break
		}
		t.acked = true
		if ev.From == m.stamper {
			m.stampOK, m.stampRep = true, r
			for _, t := range m.waiting {
				rd.Sends = append(rd.Sends, m.replace(t)...)
			}
			m.waiting = nil
		}
	}
	if acked := m.targets.count(isAcked); m.stampOK && acked >= m.cfg.W && m.result == nil {
		res := &Result{Context: m.stampRep.Context, Siblings: int(m.stampRep.Count), Set: m.stampRep.Set, Answered: make([]string, 0, acked)}
		for _, nodes := range [][]string{m.cfg.Replicas, m.cfg.Fallbacks} {
			for _, n := range nodes {
				if t := m.targets.find(n); t != nil && t.acked {
					res.Answered = append(res.Answered, n)
				}
			}
		}
		rd = m.finish(rd, res)
	}
	if m.result != nil {
		// The client has its answer; the round goes on until every target
		// acknowledged or was replaced by a fallback holding a hint, so a
		// replica that missed the write gets it back later.
		if m.pending() == 0 && len(rd.Sends) == 0 {
			m.done = true
			rd.Done = true
		}
		return rd
	}
	// Give up once every target has answered or failed without reaching W
	// (or at the second tick): failing at the first moment the quorum
	// became impossible would report fewer answers than live replicas would
	// give a moment later, and the error must say how many really answered.
	if m.stampOK && m.pending() == 0 && len(rd.Sends) == 0 {
		return m.putFailed()
	}
	return rd
}

func isAcked(t *target) bool { return t.acked }

func unsettled(t *target) bool { return !t.acked && !t.failed }

func (m *Machine) pending() int { return m.targets.count(unsettled) }

func (m *Machine) putFailed() Ready {
	m.done = true
	return m.finish(Ready{Done: true}, &Result{Err: &QuorumError{Op: OpPut, Needed: m.cfg.W, Answered: m.targets.count(isAcked), Refused: m.refused}})
}
