package main

import (
	"fmt"
	"strings"
)

// A run's cases follow one another within minutes, while the medians of
// the comparison mix figures of different runs: on a shared machine a
// case can be a third faster in one run than in the next. Each run's own
// ratios, and their median, say how much of a ratio is noise.

// runKey names one figure of a run.
type runKey struct{ label, op string }

// byRun splits rows into the runs of the main comparison. compare.sh
// appends rows in the order it measures, and each run begins with the
// ideal round's write case; rows before the first run belong to none.
// A case that gave two rows in one run (a retry) counts its last.
func byRun(rows []row) []map[runKey]row {
	var runs []map[runKey]row
	for _, x := range rows {
		ref := x.concurrency == 64 && x.valueSize == 1024
		if x.label == "ceiling" && x.op == "write" && ref {
			runs = append(runs, map[runKey]row{})
		}
		if len(runs) == 0 || !ref && !openLoop(x.label) {
			continue
		}
		runs[len(runs)-1][runKey{x.label, x.op}] = x
	}
	return runs
}

// runs prints each run's figures and ratios when there are several runs.
func runs(b *strings.Builder, rows []row) {
	rs := byRun(rows)
	if len(rs) < 2 {
		return
	}
	b.WriteString("## Run by run\n\nEach run's ratios are to the baselines measured in the same run, minutes apart; how far they spread is the noise in the medians above.\n\n")
	b.WriteString("| run | ceiling writes/s | ringtable writes/s | ÷ ceiling | etcd puts/s | ÷ etcd | ceiling reads/s | ringtable reads/s | ÷ ceiling | ringtable p99 at half rate | ideal round p99 at that rate |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	cols := [3][]float64{} // each run's ratios: writes ÷ ceiling, writes ÷ etcd, reads ÷ ceiling
	for i, run := range rs {
		rate := func(label, op string) (float64, string) {
			if x, ok := run[runKey{label, op}]; ok && x.rate > 0 {
				return x.rate, f0(x.rate)
			}
			return 0, "—"
		}
		q := func(col int, a, ref float64) string {
			if a == 0 || ref == 0 {
				return "—"
			}
			cols[col] = append(cols[col], a/ref)
			return fmt.Sprintf("%.2f×", a/ref)
		}
		ceW, ceWs := rate("ceiling", "write")
		rtW, rtWs := rate("ringtable-w-uniform", "write")
		etW, etWs := rate("etcd", "write")
		ceR, ceRs := rate("ceiling", "read")
		rtR, rtRs := rate("ringtable-r-uniform", "read")
		tail := func(label string, withRate bool) string {
			x, ok := run[runKey{label, "write"}]
			switch {
			case !ok:
				return "—"
			case withRate:
				return fmt.Sprintf("%.2f ms at %.0f PUT/s", x.p99, x.rate)
			default:
				return fmt.Sprintf("%.2f ms", x.p99)
			}
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", i+1,
			ceWs, rtWs, q(0, rtW, ceW), etWs, q(1, rtW, etW), ceRs, rtRs, q(2, rtR, ceR),
			tail("ringtable-rate", true), tail("ceiling-rt-rate", false))
	}
	med := func(col int) string {
		if len(cols[col]) == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f×", medianOf(cols[col]))
	}
	fmt.Fprintf(b, "| median of the runs' ratios | | | %s | | %s | | | %s | | |\n\n", med(0), med(1), med(2))
}
