package shell

import (
	"fmt"
	"strings"

	"github.com/ringtable/ringtable/gateway/client"
)

// showTrace prints a statement's coordinator trace (TRACING ON): every
// event, then a summary of who was asked, who answered how fast, and the
// fallbacks and read repairs. It goes where notes go, so json and csv
// output stay machine-readable.
func (s *Shell) showTrace(events []client.TraceEvent) {
	if len(events) == 0 {
		return
	}
	w := s.cfg.Out
	if s.format != FormatTable {
		w = s.cfg.Err
	}
	g := &grid{header: []string{"at ms", "node", "event", "detail"}}
	for _, e := range events {
		g.add(fmt.Sprintf("%.3f", e.AtMillis), e.Node, e.Event, e.Detail)
	}
	fmt.Fprintln(w, "Trace:")
	writeTable(w, g)
	for _, line := range summarizeTrace(events) {
		fmt.Fprintln(w, line)
	}
}

// summarizeTrace reads the coordinator's events, one line per round (a
// round ends with its "result" event): "send …" asks a replica, "reply …"
// is its answer, and events naming a fallback, hint or repair are listed
// as such.
func summarizeTrace(events []client.TraceEvent) []string {
	var (
		out                                          []string
		asked, answered, failed, fallbacks, repaired []string
		sent                                         = map[string]bool{}
	)
	flush := func(result string) {
		var parts []string
		add := func(label string, items []string) {
			if len(items) > 0 {
				parts = append(parts, label+" "+strings.Join(items, ", "))
			}
		}
		add("asked", asked)
		add("answered", answered)
		add("failed", failed)
		add("fallbacks", fallbacks)
		add("repaired", repaired)
		if result != "" {
			parts = append(parts, "result: "+result)
		}
		if len(parts) > 0 {
			out = append(out, fmt.Sprintf("  round %d: %s", len(out)+1, strings.Join(parts, "; ")))
		}
		asked, answered, failed, fallbacks, repaired = nil, nil, nil, nil, nil
		clear(sent)
	}
	for _, e := range events {
		ev := strings.ToLower(e.Event)
		switch {
		case ev == "result":
			flush(e.Detail)
		case strings.Contains(ev, "repair"):
			repaired = appendNode(repaired, e.Node)
		case strings.Contains(ev, "fallback") || strings.Contains(ev, "hint"):
			fallbacks = appendNode(fallbacks, e.Node+detailSuffix(e.Detail))
		case strings.HasPrefix(ev, "send"):
			if !sent[e.Node] {
				sent[e.Node] = true
				asked = appendNode(asked, e.Node)
			}
		case strings.HasPrefix(ev, "reply"):
			answered = appendNode(answered, fmt.Sprintf("%s at %.3f ms%s", e.Node, e.AtMillis, detailSuffix(e.Detail)))
		case strings.Contains(ev, "timeout") || strings.Contains(ev, "no responders") || strings.Contains(ev, "error"):
			failed = appendNode(failed, e.Node+detailSuffix(strings.TrimSpace(e.Event+" "+e.Detail)))
		}
	}
	flush("")
	return out
}

func appendNode(list []string, s string) []string {
	if s = strings.TrimSpace(s); s == "" {
		return list
	}
	return append(list, s)
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}
