// Command summarize turns the CSV rows that compare.sh collected (from
// `ringtable bench --csv`, bench/ceiling, bench/etcdload and
// bench/rateload, all in the same columns) into the comparison's markdown
// report: the medians of each case over the runs, the ratios of ringtable
// to the ideal quorum round and to etcd, the targets with pass or fail,
// each run's own figures and ratios, the open-loop runs' tails from their
// latency logs, and how throughput and p99 grow with value size,
// concurrency and the number of storage nodes.
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
)

// row is one CSV row: one operation kind of one measured run.
type row struct {
	label, op, dist        string
	concurrency, valueSize int
	readRatio              float64
	rate, p50, p99         float64
	errors                 int
}

// group is the key under which repeated runs are folded into medians.
type group struct {
	label, op, dist        string
	concurrency, valueSize int
	readRatio              float64
}

// figures are the medians of a group's runs.
type figures struct {
	runs           int
	rate, p50, p99 float64
	errors         int // over all runs
}

func main() {
	csvPath := flag.String("csv", "", "results CSV written by compare.sh")
	out := flag.String("out", "", "also write the report to this file")
	header := flag.String("header", "", "file whose text starts the report (run settings, machine)")
	notes := flag.String("notes", "", "file of notes (one a line) listed at the end: skipped or failed cases")
	logs := flag.String("logs", "", "directory of the open-loop runs' latency logs (<case>-run<N>.latency.csv), for their tails")
	flag.Parse()
	rows, err := readRows(*csvPath)
	if err != nil {
		log.Fatal("summarize: ", err)
	}
	var b strings.Builder
	if *header != "" {
		if h, err := os.ReadFile(*header); err == nil {
			b.Write(h)
			b.WriteString("\n")
		}
	}
	r := newReport(rows)
	r.comparison(&b)
	r.targets(&b)
	runs(&b, rows)
	if *logs != "" {
		tails(&b, *logs)
	}
	r.growth(&b)
	if *notes != "" {
		if n, err := os.ReadFile(*notes); err == nil && len(strings.TrimSpace(string(n))) > 0 {
			b.WriteString("## Notes\n\n")
			for _, l := range strings.Split(strings.TrimSpace(string(n)), "\n") {
				b.WriteString("- " + l + "\n")
			}
		}
	}
	fmt.Print(b.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			log.Fatal("summarize: ", err)
		}
	}
}

func readRows(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	var rows []row
	col := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		} else if err != nil {
			return nil, err
		}
		if rec[0] == "time" { // a header, possibly repeated
			for i, name := range rec {
				col[name] = i
			}
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		num := func(name string) float64 { v, _ := strconv.ParseFloat(get(name), 64); return v }
		rows = append(rows, row{label: get("label"), op: get("op"), dist: get("dist"),
			concurrency: int(num("concurrency")), valueSize: int(num("value_size")), readRatio: num("read_ratio"),
			rate: num("ops_per_sec"), p50: num("p50_ms"), p99: num("p99_ms"), errors: int(num("errors"))})
	}
}

type report struct {
	order []group
	figs  map[group]figures
}

func newReport(rows []row) *report {
	r := &report{figs: map[group]figures{}}
	samples := map[group][]row{}
	for _, x := range rows {
		g := group{x.label, x.op, x.dist, x.concurrency, x.valueSize, x.readRatio}
		if _, ok := samples[g]; !ok {
			r.order = append(r.order, g)
		}
		samples[g] = append(samples[g], x)
	}
	for g, xs := range samples {
		f := figures{runs: len(xs)}
		f.rate = median(xs, func(x row) float64 { return x.rate })
		f.p50 = median(xs, func(x row) float64 { return x.p50 })
		f.p99 = median(xs, func(x row) float64 { return x.p99 })
		for _, x := range xs {
			f.errors += x.errors
		}
		r.figs[g] = f
	}
	return r
}

func median(xs []row, v func(row) float64) float64 {
	vs := make([]float64, len(xs))
	for i, x := range xs {
		vs[i] = v(x)
	}
	return medianOf(vs)
}

func medianOf(vs []float64) float64 {
	vs = slices.Sorted(slices.Values(vs))
	if n := len(vs); n%2 == 1 {
		return vs[n/2]
	} else {
		return (vs[n/2-1] + vs[n/2]) / 2
	}
}

// find returns the figures of the reference-shape (64 clients, 1 KiB)
// group with this label and op.
func (r *report) find(label, op string) (figures, bool) {
	return r.findShape(label, op, 64, 1024)
}

func (r *report) findShape(label, op string, conc, size int) (figures, bool) {
	for _, g := range r.order {
		if g.label == label && g.op == op && g.concurrency == conc && g.valueSize == size {
			return r.figs[g], true
		}
	}
	return figures{}, false
}
