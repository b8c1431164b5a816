package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/bench/internal/openloop"
)

// wantLines fails t for each line the report out lacks.
func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, want := range lines {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// refRow is a row of a case in the reference shape (64 clients, 1 KiB).
func refRow(label, op string, rate, p99 float64) row {
	return row{label: label, op: op, dist: "uniform", concurrency: 64, valueSize: 1024, rate: rate, p50: 1, p99: p99}
}

// openRow is a row of an open-loop case (its concurrency the in-flight
// limit).
func openRow(label string, rate, p99 float64, errs int) row {
	return row{label: label, op: "write", dist: "uniform", concurrency: 4096, valueSize: 1024, rate: rate, p50: 2, p99: p99, errors: errs}
}

// The open-loop cases are found whatever their in-flight limit, listed in
// the comparison, and the ideal round's tail is given beside ringtable's
// target without deciding it.
func TestOpenLoopCases(t *testing.T) {
	ref, open := refRow, openRow
	rows := []row{
		ref("ceiling", "write", 8000, 50), ref("ringtable-w-uniform", "write", 2400, 60),
		open("ceiling-rate", 4000, 240, 0), open("ceiling-rate", 4100, 250, 0), open("ceiling-rate", 3900, 745, 1),
		open("ceiling-rt-rate", 1200, 11, 0),
		ref("etcd", "write", 3000, 66), open("etcd-rate", 1500, 33, 0),
		open("ringtable-rate", 1200, 9.5, 0),
	}
	r := newReport(rows)
	var b strings.Builder
	r.comparison(&b)
	r.targets(&b)
	out := b.String()
	wantLines(t, out,
		"| ideal quorum round | open-loop writes at half its max write rate | write | 4000 | 2.00 | 250.00 | 1 |",
		"| ideal quorum round | open-loop writes at ringtable's rate below | write | 1200 | 2.00 | 11.00 | 0 |",
		"| ringtable p99 at half the max write rate | 9.50 ms at 1200 PUT/s (max 2400), 0 errors | ≤ 10 ms, no errors | PASS |",
		"| (reference) ideal quorum round p99 at half its max write rate | 250.00 ms at 4000 writes/s (max 8000), 1 errors | — | — |",
		"| (reference) ideal quorum round p99 at ringtable's rate | 11.00 ms at 1200 writes/s, 0 errors | — | — |",
		"| etcd (3 members) | open-loop puts at half its max put rate | write | 1500 | 2.00 | 33.00 | 0 |",
		"| (reference) etcd p99 at half its max put rate | 33.00 ms at 1500 puts/s (max 3000), 0 errors | — | — |",
	)
	// Without the reference rows, no reference lines.
	r = newReport(rows[:2])
	b.Reset()
	r.targets(&b)
	if strings.Contains(b.String(), "(reference)") {
		t.Errorf("reference lines without their cases:\n%s", b.String())
	}
}

// Each run's figures are those measured after its ideal round's write
// case; a case missing from a run leaves its ratio out, a retried case
// counts its last row, and rows of other shapes are no run's.
func TestRunByRun(t *testing.T) {
	ref := func(label, op string, rate float64) row { return refRow(label, op, rate, 40) }
	open := func(label string, rate, p99 float64) row { return openRow(label, rate, p99, 0) }
	rows := []row{
		ref("ceiling", "write", 10000), ref("ceiling", "read", 20000), ref("etcd", "write", 3000),
		ref("ringtable-w-uniform", "write", 3000), ref("ringtable-r-uniform", "read", 12000),
		open("ringtable-rate", 1500, 200), open("ceiling-rt-rate", 1500, 20),

		ref("ceiling", "write", 8000), ref("ceiling", "read", 25000), ref("etcd", "write", 4000),
		ref("ringtable-w-uniform", "write", 2000), // its read case failed
		open("ringtable-rate", 1000, 300),

		ref("ceiling", "write", 12000), ref("ceiling", "read", 24000), ref("etcd", "write", 2000),
		ref("ringtable-w-uniform", "write", 1000), ref("ringtable-w-uniform", "write", 6000), // retried
		ref("ringtable-r-uniform", "read", 12000),
		{label: "ringtable-w-uniform", op: "write", concurrency: 256, valueSize: 1024, rate: 99}, // a sweep
	}
	var b strings.Builder
	runs(&b, rows)
	out := b.String()
	wantLines(t, out,
		"| 1 | 10000 | 3000 | 0.30× | 3000 | 1.00× | 20000 | 12000 | 0.60× | 200.00 ms at 1500 PUT/s | 20.00 ms |",
		"| 2 | 8000 | 2000 | 0.25× | 4000 | 0.50× | 25000 | — | — | 300.00 ms at 1000 PUT/s | — |",
		"| 3 | 12000 | 6000 | 0.50× | 2000 | 3.00× | 24000 | 12000 | 0.50× | — | — |",
		"| median of the runs' ratios | | | 0.30× | | 1.00× | | | 0.55× | | |",
	)
	b.Reset()
	runs(&b, rows[:7])
	if b.Len() != 0 {
		t.Errorf("a table of runs for one run:\n%s", b.String())
	}
}

// The ideal round behind HTTP is listed with its share of the in-process
// ideal round, and no etcd ratio, and the targets give that share for
// scale: it is a reference, not ringtable.
func TestIdealRoundBehindHTTP(t *testing.T) {
	rows := []row{
		refRow("ceiling", "write", 12000, 20), refRow("ceiling", "read", 20000, 10),
		refRow("ceiling-http", "write", 8400, 22), refRow("ceiling-http", "read", 12000, 12),
		refRow("etcd", "write", 4000, 30),
	}
	var b strings.Builder
	r := newReport(rows)
	r.comparison(&b)
	r.targets(&b)
	wantLines(t, b.String(),
		"| ideal quorum round behind HTTP | loaded by ringtable bench, uniform | write | 8400 | 1.00 | 22.00 | 0 | 0.70× |  |",
		"| ideal quorum round behind HTTP | loaded by ringtable bench, uniform | read | 12000 | 1.00 | 12.00 | 0 | 0.60× |  |",
		"| (reference) ideal quorum round behind HTTP, writes | 8400 vs 12000 ops/s (ceiling) = 0.70× | — | — |",
		"| (reference) ideal quorum round behind HTTP, reads | 12000 vs 20000 ops/s (ceiling) = 0.60× | — | — |",
	)
}

// The tails of the open-loop runs: quantiles over every run's requests,
// the shares above 10 and 50 ms, and the worst quarter-second of any run.
func TestTails(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	// Run 1: 1000 requests over 1 s at 2 ms, but those due in its third
	// quarter-second (250 of them) at 60 ms: a stall. Run 2: 1000 at 2 ms
	// with every tenth at 20 ms: a steady spread.
	var run1, run2 []openloop.Sample
	for i := range 1000 {
		due := ms(float64(i))
		lat := ms(2)
		if due >= 500*time.Millisecond && due < 750*time.Millisecond {
			lat = ms(60)
		}
		run1 = append(run1, openloop.Sample{Due: due, Latency: lat})
		lat = ms(2)
		if i%10 == 0 {
			lat = ms(20)
		}
		run2 = append(run2, openloop.Sample{Due: due, Latency: lat})
	}
	f := tailOf([][]openloop.Sample{run1, run2})
	if f.runs != 2 || f.requests != 2000 || f.p50 != ms(2) || f.p90 != ms(60) || f.max != ms(60) {
		t.Errorf("runs %d, requests %d, p50 %v, p90 %v, max %v: want 2, 2000, 2ms, 60ms, 60ms", f.runs, f.requests, f.p50, f.p90, f.max)
	}
	if f.over10 != 0.175 || f.over50 != 0.125 || f.worstWindow != ms(60) {
		t.Errorf("over 10 ms %v, over 50 ms %v, worst window %v: want 0.175, 0.125, 60ms", f.over10, f.over50, f.worstWindow)
	}
	if f2 := tailOf([][]openloop.Sample{run2}); f2.worstWindow != ms(3.8) || f2.p90 != ms(20) || f2.over50 != 0 {
		t.Errorf("steady run: worst window %v, p90 %v, over 50 ms %v: want 3.8ms, 20ms, 0", f2.worstWindow, f2.p90, f2.over50)
	}

	// From files: the section lists the cases found, and names a log it
	// cannot read.
	dir := t.TempDir()
	for name, run := range map[string][]openloop.Sample{"ringtable-rate-run1": run1, "ringtable-rate-run2": run2, "ceiling-rt-run1": run2} {
		l := openloop.NewLatencyLog(filepath.Join(dir, name+".latency.csv"))
		for _, s := range run {
			l.Add(openloop.Outcome{Due: s.Due, Latency: s.Latency})
		}
		if err := l.Write(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etcd-rate-run1.latency.csv"), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A run whose every request failed leaves a log with no sample.
	if err := openloop.NewLatencyLog(filepath.Join(dir, "ceiling-rate-run1.latency.csv")).Write(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	tails(&b, dir)
	wantLines(t, b.String(),
		"| ringtable dev, at half its max write rate | 2 | 2000 | 2.00 | 60.00 | 60.00 | 60.00 | 60.00 | 17.5% | 12.5% | 60.00 |",
		"| ideal quorum round, at ringtable's rate | 1 | 1000 | 2.00 | 20.00 | 20.00 | 20.00 | 20.00 | 10.0% | 0.0% | 3.80 |",
		"| ideal quorum round, at half its max write rate | 1 | 0 | — | — | — | — | — | — | — | — |",
		"not read: openloop: "+filepath.Join(dir, "etcd-rate-run1.latency.csv")+": not a latency log",
	)
	if strings.Contains(b.String(), "| etcd, at half") {
		t.Errorf("a case with no log read listed:\n%s", b.String())
	}
	b.Reset()
	tails(&b, t.TempDir())
	if b.Len() != 0 {
		t.Errorf("no logs, yet a section:\n%s", b.String())
	}
}
