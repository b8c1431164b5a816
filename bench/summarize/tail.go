package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ringtable/ringtable/bench/internal/openloop"
)

// The p99 of an open-loop run says how slow its slowest hundredth was,
// not whether a few stalls or a steady spread made it. The latency logs
// (each request's due time and latency) tell the two apart: a stall
// shows as one quarter-second whose requests all waited, a spread as a
// high p90 with no such window.

// tailCase is one kind of open-loop run, by the name compare.sh gives its
// latency logs (<name>-run<N>.latency.csv).
type tailCase struct{ name, what string }

var tailCases = []tailCase{
	{"ringtable-rate", "ringtable dev, at half its max write rate"},
	{"ceiling-rt", "ideal quorum round, at ringtable's rate"},
	{"ceiling-rate", "ideal quorum round, at half its max write rate"},
	{"etcd-rate", "etcd, at half its max put rate"},
}

// tailWindow is the width of the windows of due times whose mean latency
// finds a stall.
const tailWindow = 250 * time.Millisecond

// tailFigures sum up the requests of one kind of run, all runs together.
type tailFigures struct {
	runs, requests           int
	p50, p90, p99, p999, max time.Duration
	over10, over50           float64 // shares of the requests
	worstWindow              time.Duration
}

// tailOf sums up runs, each run's samples in due order or not. The worst
// window is the highest mean latency of any tailWindow of due times in
// any run.
func tailOf(runs [][]openloop.Sample) tailFigures {
	f := tailFigures{runs: len(runs)}
	var all []time.Duration
	for _, run := range runs {
		sums, counts := map[int64]time.Duration{}, map[int64]int{}
		for _, s := range run {
			all = append(all, s.Latency)
			w := int64(s.Due / tailWindow)
			sums[w] += s.Latency
			counts[w]++
		}
		for w, sum := range sums {
			f.worstWindow = max(f.worstWindow, sum/time.Duration(counts[w]))
		}
	}
	f.requests = len(all)
	if f.requests == 0 {
		return f
	}
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	f.p50, f.p90, f.p99, f.p999, f.max = q(0.50), q(0.90), q(0.99), q(0.999), all[len(all)-1]
	over := func(d time.Duration) float64 {
		i, _ := slices.BinarySearch(all, d+1) // the first above d
		return float64(len(all)-i) / float64(len(all))
	}
	f.over10, f.over50 = over(10*time.Millisecond), over(50*time.Millisecond)
	return f
}

// tails prints the open-loop runs' tails from the latency logs in dir;
// nothing when there are none. A log that cannot be read is named in the
// section and left out.
func tails(b *strings.Builder, dir string) {
	var lines, problems []string
	for _, c := range tailCases {
		paths, _ := filepath.Glob(filepath.Join(dir, c.name+"-run*.latency.csv"))
		var runs [][]openloop.Sample
		for _, p := range paths {
			s, err := openloop.ReadLatencies(p)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			runs = append(runs, s)
		}
		if len(runs) == 0 {
			continue
		}
		f := tailOf(runs)
		if f.requests == 0 { // every request failed or was dropped
			lines = append(lines, fmt.Sprintf("| %s | %d | 0 | — | — | — | — | — | — | — | — |\n", c.what, f.runs))
			continue
		}
		lines = append(lines, fmt.Sprintf("| %s | %d | %d | %s | %s | %s | %s | %s | %.1f%% | %.1f%% | %s |\n",
			c.what, f.runs, f.requests, msf(f.p50), msf(f.p90), msf(f.p99), msf(f.p999), msf(f.max),
			100*f.over10, 100*f.over50, msf(f.worstWindow)))
	}
	if len(lines) == 0 && len(problems) == 0 {
		return
	}
	b.WriteString("## The open-loop runs' tails\n\n")
	b.WriteString("Each request's latency from when it was due, the runs' requests together (`logs/*.latency.csv`). " +
		"A tail made by a few stalls shows as a worst quarter-second far above the p90; a steady one as a high p90.\n\n")
	b.WriteString("| case | runs | requests | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | over 10 ms | over 50 ms | worst 250 ms window, mean ms |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, l := range lines {
		b.WriteString(l)
	}
	for _, p := range problems {
		b.WriteString("\n- not read: " + p + "\n")
	}
	b.WriteString("\n")
}

func msf(d time.Duration) string { return f2(d.Seconds() * 1000) }
