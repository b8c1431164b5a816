package main

import (
	"fmt"
	"slices"
	"strings"
)

// cases names the labels compare.sh writes, in the order the comparison
// table lists them.
var cases = []struct{ label, system, what string }{
	{"ceiling", "ideal quorum round", "NATS + 3 Badger, group commit, uniform"},
	{"ceiling-rate", "ideal quorum round", "open-loop writes at half its max write rate"},
	{"ceiling-rt-rate", "ideal quorum round", "open-loop writes at ringtable's rate below"},
	{"ceiling-http", "ideal quorum round behind HTTP", "loaded by ringtable bench, uniform"},
	{"etcd", "etcd (3 members)", "put, uniform"},
	{"etcd-linearizable", "etcd (3 members)", "linearizable get, uniform"},
	{"etcd-serializable", "etcd (3 members)", "serializable get (one member), uniform"},
	{"etcd-rate", "etcd (3 members)", "open-loop puts at half its max put rate"},
	{"ringtable-w-uniform", "ringtable dev", "write-only, uniform"},
	{"ringtable-w-zipf", "ringtable dev", "write-only, zipf"},
	{"ringtable-r-uniform", "ringtable dev", "read-only, uniform"},
	{"ringtable-r-zipf", "ringtable dev", "read-only, zipf"},
	{"ringtable-rw-uniform", "ringtable dev", "50/50 read/update, uniform"},
	{"ringtable-rw-zipf", "ringtable dev", "50/50 read/update, zipf"},
	{"ringtable-rate", "ringtable dev", "open-loop PUTs at half the max write rate"},
	{"ringtable-cluster-w", "ringtable cluster (3 node processes + gateway)", "write-only, uniform"},
	{"ringtable-cluster-r", "ringtable cluster (3 node processes + gateway)", "read-only, uniform"},
	{"ringtable-cluster-rw", "ringtable cluster (3 node processes + gateway)", "50/50 read/update, uniform"},
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

// ratio formats a/b, or a dash when b is missing.
func ratio(a float64, b figures, ok bool) string {
	if !ok || b.rate == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b.rate)
}

func (r *report) comparison(b *strings.Builder) {
	b.WriteString("## Side by side (reference shape: N=3, R=2, W=2, durable acks, 1 KiB values, 64 clients)\n\n")
	b.WriteString("| system | case | op | ops/s | p50 ms | p99 ms | errors | ringtable ÷ ceiling | ringtable ÷ etcd |\n")
	b.WriteString("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, c := range cases {
		for _, op := range []string{"write", "read"} {
			f, ok := r.find(c.label, op)
			if openLoop(c.label) {
				f, ok = r.anyShape(c.label, op)
			}
			if !ok {
				continue
			}
			vsCeiling, vsEtcd := "", ""
			if c.label == "ceiling-http" {
				// What HTTP and a load generator in a process of its own
				// leave of the ideal round, in any design.
				ce, cok := r.find("ceiling", op)
				vsCeiling = ratio(f.rate, ce, cok)
			}
			if strings.HasPrefix(c.label, "ringtable-") && !strings.Contains(c.label, "-rw") && c.label != "ringtable-rate" {
				ce, cok := r.find("ceiling", op)
				et, eok := r.find("etcd", op)
				if op == "read" {
					et, eok = r.find("etcd-linearizable", op)
				}
				vsCeiling, vsEtcd = ratio(f.rate, ce, cok), ratio(f.rate, et, eok)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d | %s | %s |\n",
				c.system, c.what, op, f0(f.rate), f2(f.p50), f2(f.p99), f.errors, vsCeiling, vsEtcd)
		}
	}
	b.WriteString("\nFigures are medians over the runs; errors are summed over them. ringtable ÷ etcd compares reads with etcd's linearizable gets. In the 50/50 cases each op's ops/s is its share of the mix.\n\n")
}

// openLoop reports whether a case's rows come from an open-loop run
// (their concurrency column is the in-flight limit, not clients).
func openLoop(label string) bool { return strings.HasSuffix(label, "-rate") }

// anyShape finds a group by label and op whatever its concurrency.
func (r *report) anyShape(label, op string) (figures, bool) {
	for _, g := range r.order {
		if g.label == label && g.op == op {
			return r.figs[g], true
		}
	}
	return figures{}, false
}

func (r *report) targets(b *strings.Builder) {
	b.WriteString("## Targets\n\n| target | measured | goal | result |\n| --- | --- | --- | --- |\n")
	rtW, wok := r.find("ringtable-w-uniform", "write")
	rtR, rok := r.find("ringtable-r-uniform", "read")
	etcdW, eok := r.find("etcd", "write")
	ceW, cwok := r.find("ceiling", "write")
	ceR, crok := r.find("ceiling", "read")
	vs := func(name string, a figures, aok bool, ref figures, refok bool, goal float64, refName string) {
		if !aok || !refok || ref.rate == 0 {
			fmt.Fprintf(b, "| %s | not measured (see notes) | ≥ %.2f× | SKIP |\n", name, goal)
			return
		}
		q := a.rate / ref.rate
		fmt.Fprintf(b, "| %s | %.0f vs %.0f ops/s (%s) = %.2f× | ≥ %.2f× | %s |\n", name, a.rate, ref.rate, refName, q, goal, pass(q >= goal))
	}
	vs("ringtable writes vs etcd puts", rtW, wok, etcdW, eok, 2, "etcd")
	vs("ringtable writes vs ideal quorum writes", rtW, wok, ceW, cwok, 0.5, "ceiling")
	vs("ringtable reads vs ideal quorum reads", rtR, rok, ceR, crok, 0.6, "ceiling")
	if f, ok := r.anyShape("ringtable-rate", "write"); ok {
		fmt.Fprintf(b, "| ringtable p99 at half the max write rate | %.2f ms at %.0f PUT/s (max %.0f), %d errors | ≤ 10 ms, no errors | %s |\n",
			f.p99, f.rate, rtW.rate, f.errors, pass(f.p99 <= 10 && f.errors == 0))
	} else {
		b.WriteString("| ringtable p99 at half the max write rate | not measured (see notes) | ≤ 10 ms | SKIP |\n")
	}
	// The same measure of the ideal round, for scale: the target's
	// result does not depend on these.
	if f, ok := r.anyShape("ceiling-rate", "write"); ok {
		fmt.Fprintf(b, "| (reference) ideal quorum round p99 at half its max write rate | %.2f ms at %.0f writes/s (max %.0f), %d errors | — | — |\n",
			f.p99, f.rate, ceW.rate, f.errors)
	}
	if f, ok := r.anyShape("etcd-rate", "write"); ok {
		fmt.Fprintf(b, "| (reference) etcd p99 at half its max put rate | %.2f ms at %.0f puts/s (max %.0f), %d errors | — | — |\n",
			f.p99, f.rate, etcdW.rate, f.errors)
	}
	if f, ok := r.anyShape("ceiling-rt-rate", "write"); ok {
		fmt.Fprintf(b, "| (reference) ideal quorum round p99 at ringtable's rate | %.2f ms at %.0f writes/s, %d errors | — | — |\n",
			f.p99, f.rate, f.errors)
	}
	// What HTTP and a load generator in a process of its own leave of the
	// ideal round, whatever the design: the scale of the ratios above.
	for _, op := range []string{"write", "read"} {
		h, hok := r.find("ceiling-http", op)
		ce, cok := r.find("ceiling", op)
		if hok && cok && ce.rate > 0 {
			fmt.Fprintf(b, "| (reference) ideal quorum round behind HTTP, %ss | %.0f vs %.0f ops/s (ceiling) = %.2f× | — | — |\n", op, h.rate, ce.rate, h.rate/ce.rate)
		}
	}
	b.WriteString("\n")
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// growth prints the sweeps: the reference case's figures join the sweep's
// own points (compare.sh does not measure the reference shape twice).
func (r *report) growth(b *strings.Builder) {
	type point struct {
		x          int
		rt, ce     figures
		rtok, ceok bool
	}
	sweep := func(title, unit string, xOf func(group) int, fixed func(group) bool) {
		pts := map[int]*point{}
		for _, g := range r.order {
			if g.op != "write" || g.readRatio != 0 || !fixed(g) {
				continue
			}
			p := pts[xOf(g)]
			if p == nil {
				p = &point{x: xOf(g)}
				pts[p.x] = p
			}
			switch g.label {
			case "ringtable-w-uniform", "ringtable-sweep":
				p.rt, p.rtok = r.figs[g], true
			case "ceiling", "ceiling-sweep":
				p.ce, p.ceok = r.figs[g], true
			}
		}
		var xs []int
		for x, p := range pts {
			if p.rtok || p.ceok {
				xs = append(xs, x)
			}
		}
		if len(xs) < 2 {
			return
		}
		slices.Sort(xs)
		fmt.Fprintf(b, "### %s\n\n| %s | ringtable ops/s | ringtable p99 ms | ceiling ops/s | ceiling p99 ms | ringtable ÷ ceiling |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n", title, unit)
		cell := func(f figures, ok bool) (string, string) {
			if !ok {
				return "—", "—"
			}
			return f0(f.rate), f2(f.p99)
		}
		for _, x := range xs {
			p := pts[x]
			a, ap := cell(p.rt, p.rtok)
			c, cp := cell(p.ce, p.ceok)
			q := "—"
			if p.rtok {
				q = ratio(p.rt.rate, p.ce, p.ceok)
			}
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s |\n", x, a, ap, c, cp, q)
		}
		b.WriteString("\n")
	}
	b.WriteString("## How cost grows (write-only, uniform)\n\n")
	sweep("Value size (64 clients)", "value bytes", func(g group) int { return g.valueSize }, func(g group) bool { return g.concurrency == 64 })
	sweep("Concurrency (1 KiB values)", "clients", func(g group) int { return g.concurrency }, func(g group) bool { return g.valueSize == 1024 })

	b.WriteString("### Storage nodes (ringtable dev, N=3 per item, 64 clients, 1 KiB)\n\n| nodes | write ops/s | write p99 ms | read ops/s | read p99 ms |\n| ---: | ---: | ---: | ---: | ---: |\n")
	for _, n := range []struct {
		nodes       int
		write, read string
	}{{3, "ringtable-w-uniform", "ringtable-r-uniform"}, {5, "ringtable-5nodes-w", "ringtable-5nodes-r"}} {
		w, wok := r.find(n.write, "write")
		rd, rok := r.find(n.read, "read")
		ws, wp, rs, rp := "—", "—", "—", "—"
		if wok {
			ws, wp = f0(w.rate), f2(w.p99)
		}
		if rok {
			rs, rp = f0(rd.rate), f2(rd.p99)
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s |\n", n.nodes, ws, wp, rs, rp)
	}
	b.WriteString("\n")
}
