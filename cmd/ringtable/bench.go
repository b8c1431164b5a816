package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/chzyer/readline"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/schollz/progressbar/v3"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/loadgen"
)

type benchCmd struct {
	Gateway     string        `help:"Gateway URL." default:"http://127.0.0.1:8080" env:"RINGTABLE_GATEWAY"`
	Table       string        `help:"Table to load (created if missing)." default:"bench"`
	Concurrency int           `help:"Concurrent clients." default:"64"`
	Keys        int           `help:"Size of the key space." default:"100000"`
	ValueSize   int           `help:"Bytes per item." default:"1024"`
	ReadRatio   float64       `help:"Fraction of operations that are reads (0: write-only, 1: read-only)." default:"0.5"`
	Duration    time.Duration `help:"How long to measure." default:"30s"`
	Dist        string        `help:"Key distribution." enum:"uniform,zipf" default:"uniform"`
	Preload     *bool         `help:"Write every key once before measuring (default: when reads are measured)."`
	R           int           `help:"Read quorum override (0: the table's)."`
	W           int           `help:"Write quorum override (0: the table's)."`
	CSV         string        `help:"Append one result row per operation kind to this CSV file."`
	Label       string        `help:"Label for the CSV rows." default:"ringtable"`
	APIKey      string        `name:"api-key" help:"Tenant API key (default: ./ringtable-data/dev.key)." env:"RINGTABLE_API_KEY"`
	CPUProfile  string        `name:"cpu-profile" help:"Write a CPU profile of the load generator itself to this file (it shares the machine with what it loads)." type:"path"`
}

func (b *benchCmd) Run(env *runEnv) error {
	cfg := loadgen.Config{Table: b.Table, Concurrency: b.Concurrency, Keys: b.Keys, ValueSize: b.ValueSize,
		ReadRatio: b.ReadRatio, Duration: b.Duration, Zipf: b.Dist == "zipf", R: b.R, W: b.W, Seed: time.Now().UnixNano()}
	cfg.Preload = b.ReadRatio > 0
	if b.Preload != nil {
		cfg.Preload = *b.Preload
	}
	// Refuse bad flags before anything is announced or loaded.
	if err := cfg.Validate(); err != nil {
		return err
	}
	key, err := resolveKey(b.APIKey, filepath.Join(defaultDataDir, "dev.key"), "API key")
	if err != nil {
		return err
	}
	cl := client.New(b.Gateway, nil).WithAPIKey(key)
	// Reach the gateway with the key before announcing a load.
	if _, err := cl.ListTables(env.ctx); err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			return fmt.Errorf("cannot reach the gateway at %s: %v", b.Gateway, ue.Err)
		}
		return fmt.Errorf("gateway %s: %w", b.Gateway, err)
	}
	if b.CPUProfile != "" {
		f, err := os.Create(b.CPUProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if cfg.Preload {
		fmt.Fprintf(os.Stderr, "preloading %d keys...\n", cfg.Keys)
	}
	progress, finish := benchProgress(os.Stderr, readline.IsTerminal(int(os.Stderr.Fd())), b.Duration)
	rep, err := loadgen.Run(env.ctx, cl, cfg, progress)
	finish()
	if err != nil {
		return err
	}
	printReport(rep)
	if b.CSV != "" {
		return appendCSV(b.CSV, b.Label, rep)
	}
	return nil
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

func printReport(r *loadgen.Report) {
	c := r.Config
	fmt.Printf("%d clients, %d keys (%s), %d-byte values, %.0f%% reads, %v\n",
		c.Concurrency, c.Keys, map[bool]string{true: "zipf", false: "uniform"}[c.Zipf], c.ValueSize, c.ReadRatio*100, r.Elapsed.Round(time.Millisecond))
	t := table.NewWriter()
	t.SetOutputMirror(os.Stdout)
	t.AppendHeader(table.Row{"op", "ops", "ops/s", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms", "errors"})
	for _, row := range []struct {
		name string
		s    loadgen.OpStats
	}{{"read", r.Reads}, {"write", r.Writes}} {
		if row.s.Ops == 0 && row.s.Errors == 0 {
			continue
		}
		s := row.s
		t.AppendRow(table.Row{row.name, s.Ops, fmt.Sprintf("%.0f", s.Rate), ms(s.P50), ms(s.P95), ms(s.P99), ms(s.P999), ms(s.Max), s.Errors})
	}
	t.Render()
	if r.NotFound > 0 {
		fmt.Printf("reads of keys not yet written: %d\n", r.NotFound)
	}
	if r.PreloadResolved > 0 {
		fmt.Printf("keys the preload found written by an earlier run (rewritten with their context): %d\n", r.PreloadResolved)
	}
	if r.Resolved > 0 {
		fmt.Printf("writes that resolved siblings first (read, then write with its context): %d\n", r.Resolved)
	}
	if h := siblingHint(r); h != "" {
		fmt.Println(h)
	}
	if r.MaxSiblings > 1 {
		fmt.Printf("most siblings a write left: %d\n", r.MaxSiblings)
	}
	limited := 0
	for k, v := range r.Errors {
		fmt.Printf("errors %-40s %d\n", k, v)
		if strings.HasSuffix(k, " rate_limited") {
			limited += v
		}
	}
	if limited > 0 {
		fmt.Printf("%d requests were over the tenant's request rate (each client waited as long as the gateway asked): the run measured the quota; `ringtable admin tenant quotas <tenant> --rps N` raises it\n", limited)
	}
}

func appendCSV(path, label string, r *loadgen.Report) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		_ = w.Write([]string{"time", "label", "op", "concurrency", "keys", "dist", "value_size", "read_ratio", "ops_per_sec", "p50_ms", "p95_ms", "p99_ms", "p999_ms", "errors"})
	}
	c := r.Config
	dist := map[bool]string{true: "zipf", false: "uniform"}[c.Zipf]
	for _, row := range []struct {
		op string
		s  loadgen.OpStats
	}{{"read", r.Reads}, {"write", r.Writes}} {
		if row.s.Ops == 0 && row.s.Errors == 0 {
			continue
		}
		s := row.s
		_ = w.Write([]string{time.Now().UTC().Format(time.RFC3339), label, row.op, strconv.Itoa(c.Concurrency), strconv.Itoa(c.Keys), dist,
			strconv.Itoa(c.ValueSize), strconv.FormatFloat(c.ReadRatio, 'f', 2, 64), fmt.Sprintf("%.1f", s.Rate),
			ms(s.P50), ms(s.P95), ms(s.P99), ms(s.P999), strconv.Itoa(s.Errors)})
	}
	w.Flush()
	return w.Error()
}

// siblingHint explains a uniform run in which many writes had to resolve
// siblings first. With keys spread evenly, concurrent writers seldom meet
// on a key, so such siblings were mostly left by an earlier run's blind
// first writes to the same table, and each cost the run a read and a
// second write: what it measured is not the write path alone.
func siblingHint(r *loadgen.Report) string {
	if r.Config.Zipf || r.Writes.Ops == 0 || r.Resolved*10 < r.Writes.Ops {
		return ""
	}
	if c := r.Config; c.Concurrency*20 > c.Keys {
		// Then writers do meet: each write finds another on its key about
		// once in Keys/Concurrency.
		return fmt.Sprintf("%d%% of the writes resolved siblings first: %d clients on %d keys often write one key at once, "+
			"and each such write cost a read and a second write; more --keys measures writes alone", r.Resolved*100/r.Writes.Ops, c.Concurrency, c.Keys)
	}
	return fmt.Sprintf("%d%% of the writes resolved siblings first, most likely left by an earlier run on table %q: "+
		"each cost a read and a second write; a new --table measures writes alone", r.Resolved*100/r.Writes.Ops, r.Config.Table)
}

// benchProgress shows a run's live rates: a bar redrawn in place at a
// terminal, and elsewhere (a log, a pipe) a line every 10 s, since each
// redraw of the bar would be a line of its own there.
func benchProgress(w io.Writer, terminal bool, d time.Duration) (loadgen.Progress, func()) {
	rates := func(el time.Duration, reads, writes, errs int64) string {
		secs := el.Seconds()
		return fmt.Sprintf("reads %7.0f/s  writes %7.0f/s  errors %d", float64(reads)/secs, float64(writes)/secs, errs)
	}
	if !terminal {
		var last time.Duration
		return func(el time.Duration, reads, writes, errs int64) {
			if el-last < 10*time.Second {
				return
			}
			last = el
			fmt.Fprintf(w, "%s of %s: %s\n", el.Round(time.Second), d, rates(el, reads, writes, errs))
		}, func() {}
	}
	bar := progressbar.NewOptions64(int64(d/time.Second),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(20),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionClearOnFinish())
	return func(el time.Duration, reads, writes, errs int64) {
		bar.Describe(rates(el, reads, writes, errs))
		_ = bar.Set64(int64(el / time.Second))
	}, func() { _ = bar.Finish() }
}
