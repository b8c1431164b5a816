package coord

import (
	"github.com/ringtable/ringtable/messaging/wire"
)

// stampAttempt asks the next candidate to stamp the write.
func (m *Machine) stampAttempt() Ready {
	if m.attempt >= len(m.order) {
		m.done = true
		// No stamper acknowledged, and its acknowledgement is one of the W:
		// forwards' alone can account for at most W-1.
		answered := min(len(m.acked), max(m.cfg.W-1, 0))
		return m.finish(Ready{Done: true}, &Result{Err: &QuorumError{Op: OpPut, Needed: m.cfg.W, Answered: answered}})
	}
	m.stamper = m.order[m.attempt]
	m.attempt++
	m.expect = map[string]bool{m.stamper: true}
	m.acked = map[string]bool{}
	m.failed = map[string]bool{}
	m.stampOK, m.stampRep = false, nil
	req := *m.cfg.Put
	req.Tag = uint32(m.attempt)
	req.Forward = nil
	for _, n := range m.cfg.Replicas {
		if n != m.stamper {
			req.Forward = append(req.Forward, n)
			m.expect[n] = true
		}
	}
	for _, n := range m.cfg.Extra {
		if n != m.stamper && !m.expect[n] {
			req.Forward = append(req.Forward, n) // forwarded, never counted
		}
	}
	return Ready{Sends: []Send{{To: m.stamper, Msg: &req}}}
}

func (m *Machine) stepPut(ev Event) Ready {
	switch ev.Kind {
	case EvTick:
		if !m.stampOK {
			return m.stampAttempt()
		}
		return m.putFailed()
	case EvNoResponders:
		if !m.expect[ev.From] {
			return Ready{}
		}
		if ev.From == m.stamper && !m.stampOK {
			return m.stampAttempt()
		}
		m.failed[ev.From] = true
	case EvReply:
		r := ev.Reply
		if r == nil || r.Tag != uint32(m.attempt) || !m.expect[ev.From] || m.acked[ev.From] || m.failed[ev.From] {
			return Ready{} // an abandoned attempt, a stranger or a duplicate
		}
		if err := r.Err(); err != nil {
			if ev.From == m.stamper {
				switch r.Code {
				case wire.CodeUnavailable, wire.CodeInternal:
					return m.stampAttempt()
				default:
					// The write itself is refused (bad request, sibling
					// limit): another stamper would refuse it too.
					m.done = true
					return m.finish(Ready{Done: true}, &Result{Err: err, Answered: []string{ev.From}})
				}
			}
			m.failed[ev.From] = true
			break
		}
		m.acked[ev.From] = true
		if ev.From == m.stamper {
			m.stampOK, m.stampRep = true, r
		}
	}
	if m.stampOK && len(m.acked) >= m.cfg.W {
		m.done = true
		res := &Result{Context: m.stampRep.Context, Siblings: int(m.stampRep.Count), Set: m.stampRep.Set}
		for _, n := range m.cfg.Replicas {
			if m.acked[n] {
				res.Answered = append(res.Answered, n)
			}
		}
		return m.finish(Ready{Done: true}, res)
	}
	// Give up once every replica has answered or failed without reaching W
	// (or at the tick): failing at the first moment the quorum became
	// impossible would report fewer answers than live replicas would give a
	// moment later, and the error must say how many really answered.
	if m.stampOK && m.pending() == 0 {
		return m.putFailed()
	}
	return Ready{}
}

func (m *Machine) pending() int {
	n := 0
	for x := range m.expect {
		if !m.acked[x] && !m.failed[x] {
			n++
		}
	}
	return n
}

func (m *Machine) putFailed() Ready {
	m.done = true
	return m.finish(Ready{Done: true}, &Result{Err: &QuorumError{Op: OpPut, Needed: m.cfg.W, Answered: len(m.acked)}})
}
