package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chzyer/readline"
	"github.com/dustin/go-humanize/english"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/schollz/progressbar/v3"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/storagenode"
)

// Cluster views and operations of `ringtable admin`.

type statusCmd struct {
	Node string `help:"Node whose view to show (default: any)."`
}

func (c *statusCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	var st storagenode.Status
	path := "/v1/admin/status"
	if c.Node != "" {
		path += "?node=" + url.QueryEscape(c.Node)
	}
	if err := cl.AdminCall(ctx, http.MethodGet, path, nil, &st); err != nil {
		return err
	}
	a.print(st, func() {
		fmt.Printf("as seen by %s (epoch %s%s)\n", st.Node, st.Epoch, map[bool]string{true: ", ring changing", false: ""}[st.Transitioning])
		t := table.NewWriter()
		t.SetOutputMirror(os.Stdout)
		t.AppendHeader(table.Row{"node", "state", "reachable", "partitions", "share", "ready"})
		for _, m := range st.Members {
			reachable := "-" // a member that left is not watched
			if m.Reachable != nil {
				reachable = strconv.FormatBool(*m.Reachable)
			}
			t.AppendRow(table.Row{m.ID, m.Status, reachable, m.Partitions, fmt.Sprintf("%.1f%%", 100*m.Share), m.Ready})
		}
		t.Render()
		if w := st.Leave; w != nil {
			var waits []string
			if w.Events > 0 {
				waits = append(waits, english.Plural(w.Events, "change event", "")+" to reach the feed stream")
			}
			if w.Hints > 0 {
				waits = append(waits, english.Plural(w.Hints, "hint", "")+" to be delivered")
			}
			fmt.Printf("%s's leave waits for %s\n", st.Node, strings.Join(waits, " and "))
		}
		for _, m := range st.Members {
			if m.Status == membership.Leaving && m.ID != st.Node {
				fmt.Printf("%s is leaving: `ringtable admin status --node %s` shows what its leave waits for\n", m.ID, m.ID)
			}
		}
	})
	return nil
}

type ringCmd struct{}

func (c *ringCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	var out struct {
		Q          int            `json:"q"`
		N          int            `json:"n"`
		Epoch      string         `json:"epoch"`
		Changing   bool           `json:"changing"`
		Owned      map[string]int `json:"owned"`
		Partitions []struct {
			Partition int      `json:"partition"`
			Primary   []string `json:"primary"`
			Fallbacks []string `json:"fallbacks"`
			Target    []string `json:"target"`
		} `json:"partitions"`
	}
	if err := cl.AdminCall(ctx, http.MethodGet, "/v1/admin/ring", nil, &out); err != nil {
		return err
	}
	a.print(out, func() {
		fmt.Printf("Q=%d partitions, N=%d, epoch %s%s\n", out.Q, out.N, out.Epoch, map[bool]string{true: " (changing)", false: ""}[out.Changing])
		t := table.NewWriter()
		t.SetOutputMirror(os.Stdout)
		hdr := table.Row{"partition", "primary replicas", "fallbacks"}
		if out.Changing {
			hdr = append(hdr, "after the change")
		}
		t.AppendHeader(hdr)
		for _, p := range out.Partitions {
			row := table.Row{p.Partition, strings.Join(p.Primary, ","), strings.Join(p.Fallbacks, ",")}
			if out.Changing {
				row = append(row, strings.Join(p.Target, ","))
			}
			t.AppendRow(row)
		}
		t.Render()
	})
	return nil
}

type transfersCmd struct {
	Watch bool `help:"Refresh every second until no transfer is running (Ctrl-C stops)."`
	All   bool `help:"List finished transfers too (by default: running and failed ones, and a count of the rest)."`
}

func (c *transfersCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	// At a terminal each refresh replaces the last; in a log or a pipe,
	// where clearing the screen would be bytes of noise, it follows it.
	redraw := c.Watch && readline.IsTerminal(int(os.Stdout.Fd()))
	for {
		ctx, cancel := context.WithTimeout(env.ctx, 30*time.Second)
		var nodes map[string]storagenode.Status
		err := cl.AdminCall(ctx, http.MethodGet, "/v1/admin/nodes", nil, &nodes)
		cancel()
		if err != nil {
			return err
		}
		running := 0
		type row struct {
			node string
			t    storagenode.TransferStatus
		}
		var rows []row
		for n, st := range nodes {
			for _, t := range st.Transfers {
				rows = append(rows, row{n, t})
				if t.Finished.IsZero() {
					running++
				}
			}
		}
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].node != rows[j].node {
				return rows[i].node < rows[j].node
			}
			return rows[i].t.Partition < rows[j].t.Partition
		})
		a.print(rows2json(rows, func(r row) (string, storagenode.TransferStatus) { return r.node, r.t }), func() {
			if redraw {
				fmt.Print("\033[H\033[2J")
			}
			t := table.NewWriter()
			t.SetOutputMirror(os.Stdout)
			t.AppendHeader(table.Row{"to", "partition", "from", "progress", "keys", "rate", "ETA", "last error"})
			done, doneKeys, shown := 0, int64(0), 0
			for _, r := range rows {
				x := r.t
				if !x.Finished.IsZero() && x.Err == "" {
					done++
					doneKeys += x.Keys
					if !c.All {
						continue
					}
				}
				shown++
				pct, rate, eta := "", "", ""
				if x.Total > 0 {
					pct = fmt.Sprintf("%3.0f%%", 100*float64(min(x.Keys, x.Total))/float64(x.Total))
				}
				end := x.Finished
				if end.IsZero() {
					end = time.Now()
				}
				if el := end.Sub(x.Started).Seconds(); !x.Started.IsZero() && el > 0 {
					rate = fmt.Sprintf("%.0f keys/s", float64(x.Keys)/el)
					if x.Finished.IsZero() && x.Total > x.Keys && x.Keys > 0 {
						eta = (time.Duration(float64(x.Total-x.Keys)/(float64(x.Keys)/el)) * time.Second).Round(time.Second).String()
					}
				}
				if !x.Finished.IsZero() {
					pct, eta = "done", ""
				}
				t.AppendRow(table.Row{r.node, x.Partition, strings.Join(x.From, ","), pct, x.Keys, rate, eta, x.Err})
			}
			if shown > 0 {
				t.Render()
			}
			fmt.Printf("%d partitions moving", running)
			if done > 0 {
				fmt.Printf("; %d transfers finished (%d keys)", done, doneKeys)
				if !c.All {
					fmt.Print(": --all lists them")
				}
			}
			fmt.Println()
		})
		if !c.Watch || running == 0 {
			return nil
		}
		select {
		case <-env.ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func rows2json[T any](rows []T, f func(T) (string, storagenode.TransferStatus)) []map[string]any {
	out := []map[string]any{}
	for _, r := range rows {
		n, t := f(r)
		out = append(out, map[string]any{"node": n, "transfer": t})
	}
	return out
}

type nodeOpCmd struct {
	Node string `help:"Node ID." required:""`
	op   string
}

type joinCmd struct{ nodeOpCmd }
type leaveCmd struct {
	nodeOpCmd
	Force bool `help:"Leave even if fewer nodes than the replicas of a key (N) would remain."`
}

func (c *joinCmd) Run(env *runEnv, a *adminCmd) error { return c.run(env, a, "join", "") }
func (c *leaveCmd) Run(env *runEnv, a *adminCmd) error {
	q := ""
	if c.Force {
		q = "?force=true"
	}
	return c.run(env, a, "leave", q)
}

func (c *nodeOpCmd) run(env *runEnv, a *adminCmd, op, query string) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	var out map[string]string
	if err := cl.AdminCall(ctx, http.MethodPost, "/v1/admin/nodes/"+url.PathEscape(c.Node)+"/"+op+query, nil, &out); err != nil {
		return err
	}
	a.print(out, func() {
		fmt.Printf("%s of %s started: follow it with `ringtable admin transfers --watch` and `ringtable admin status`\n", op, c.Node)
	})
	return nil
}

type limitsCmd struct {
	TransferBytes float64 `name:"transfer-bytes" help:"Partition transfer rate, bytes per second."`
	Hints         float64 `help:"Hint delivery rate, hints per second."`
	AAE           float64 `name:"aae" help:"Anti-entropy repair rate, keys per second."`
}

func (c *limitsCmd) Run(env *runEnv, a *adminCmd) error {
	if c.TransferBytes == 0 && c.Hints == 0 && c.AAE == 0 {
		return errors.New("no limit given: set --transfer-bytes, --hints or --aae (per second; a limit not given stays as it is)")
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	var out struct {
		Applied map[string][]string `json:"applied"`
	}
	in := map[string]float64{"transfer_bytes_per_sec": c.TransferBytes, "hints_per_sec": c.Hints, "aae_keys_per_sec": c.AAE}
	if err := cl.AdminCall(ctx, http.MethodPut, "/v1/admin/limits", in, &out); err != nil {
		return err
	}
	a.print(out, func() {
		for _, f := range slices.Sorted(maps.Keys(out.Applied)) {
			fmt.Printf("%s=%g: taken by %d node(s): %s\n", f, in[f], len(out.Applied[f]), strings.Join(out.Applied[f], ", "))
		}
	})
	return nil
}

// nodes fetches every node's status through the gateway.
func (a *adminCmd) nodes(env *runEnv) (map[string]storagenode.Status, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	var nodes map[string]storagenode.Status
	return nodes, cl.AdminCall(ctx, http.MethodGet, "/v1/admin/nodes", nil, &nodes)
}

func sortedNodes(m map[string]storagenode.Status) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

type hintsCmd struct{}

func (c *hintsCmd) Run(env *runEnv, a *adminCmd) error {
	nodes, err := a.nodes(env)
	if err != nil {
		return err
	}
	out := map[string]map[string]int{}
	for n, st := range nodes {
		out[n] = st.Hints
	}
	a.print(out, func() {
		t := table.NewWriter()
		t.SetOutputMirror(os.Stdout)
		t.AppendHeader(table.Row{"held by", "for", "hinted keys"})
		total := 0
		for _, n := range sortedNodes(nodes) {
			targets := make([]string, 0, len(out[n]))
			for tg := range out[n] {
				targets = append(targets, tg)
			}
			sort.Strings(targets)
			for _, tg := range targets {
				t.AppendRow(table.Row{n, tg, out[n][tg]})
				total += out[n][tg]
			}
		}
		if t.Length() > 0 {
			t.Render()
		}
		fmt.Printf("%d hinted keys pending\n", total)
	})
	return nil
}

type aaeCmd struct {
	Partitions bool `help:"List the last completed exchange of every partition."`
}

func (c *aaeCmd) Run(env *runEnv, a *adminCmd) error {
	nodes, err := a.nodes(env)
	if err != nil {
		return err
	}
	out := map[string]storagenode.AAEStatus{}
	for n, st := range nodes {
		out[n] = st.AAE
	}
	a.print(out, func() {
		t := table.NewWriter()
		t.SetOutputMirror(os.Stdout)
		t.AppendHeader(table.Row{"node", "running", "partitions", "keys repaired", "bytes exchanged", "tombstones removed", "finished", "last error"})
		for _, n := range sortedNodes(nodes) {
			s := out[n]
			fin := ""
			if !s.Finished.IsZero() {
				fin = s.Finished.Format(time.RFC3339)
			}
			t.AppendRow(table.Row{n, s.Running, fmt.Sprintf("%d/%d", s.Done, s.Total), s.Repaired, sizeText(s.Bytes), s.Removed, fin, s.LastError})
		}
		t.Render()
		if c.Partitions {
			p := table.NewWriter()
			p.SetOutputMirror(os.Stdout)
			p.AppendHeader(table.Row{"node", "partition", "last exchange", "with", "keys repaired"})
			for _, n := range sortedNodes(nodes) {
				parts := make([]int, 0, len(out[n].Partitions))
				for k := range out[n].Partitions {
					parts = append(parts, k)
				}
				sort.Ints(parts)
				for _, k := range parts {
					x := out[n].Partitions[k]
					p.AppendRow(table.Row{n, k, x.At.Format(time.RFC3339), strings.Join(x.Peers, ","), x.Repaired})
				}
			}
			p.Render()
		}
	})
	return nil
}

type repairCmd struct {
	Tenant string `help:"Tenant (ID or name) of the table to repair (with --table)."`
	Table  string `help:"Repair only this table's keys."`
	Wait   bool   `help:"Show progress until every node finished." default:"true" negatable:""`
}

func (c *repairCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	q := ""
	if c.Tenant != "" || c.Table != "" {
		tenant := c.Tenant
		if tenant != "" {
			if tenant, err = tenantID(ctx, cl, tenant); err != nil {
				cancel()
				return err
			}
		}
		// Sent as given: the gateway refuses one without the other.
		q = "?tenant=" + url.QueryEscape(tenant) + "&table=" + url.QueryEscape(c.Table)
	}
	var out map[string]any
	err = cl.AdminCall(ctx, http.MethodPost, "/v1/admin/repair"+q, nil, &out)
	cancel()
	if err != nil {
		return err
	}
	if !c.Wait || a.JSON {
		a.print(out, func() { fmt.Printf("repair started on %v\n", out["started"]) })
		return nil
	}
	// The bar counts the partitions compared on every node; its total is
	// known from the first poll. Outside a terminal (a log, a pipe) each
	// redraw would be a line of its own, and only the result is printed.
	visible := readline.IsTerminal(int(os.Stderr.Fd()))
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(), progressbar.OptionSetVisibility(visible))
	for {
		time.Sleep(500 * time.Millisecond)
		nodes, err := a.nodes(env)
		if err != nil {
			return err
		}
		done, total, running := 0, 0, false
		var repaired, bytes int64
		for _, st := range nodes {
			done, total, running = done+st.AAE.Done, total+st.AAE.Total, running || st.AAE.Running
			repaired, bytes = repaired+st.AAE.Repaired, bytes+st.AAE.Bytes
		}
		if total > 0 {
			if bar.GetMax() != total {
				bar.ChangeMax(total)
			}
			// Set renders, then Describe again: the last frame has both.
			_ = bar.Set(done)
			bar.Describe(fmt.Sprintf("keys repaired %d, %s exchanged; partitions compared", repaired, sizeText(bytes)))
		}
		if !running || env.ctx.Err() != nil {
			_ = bar.Finish()
			if visible {
				fmt.Fprintln(os.Stderr) // below the bar's last frame
			}
			fmt.Printf("repair finished: %d keys repaired, %s exchanged\n", repaired, sizeText(bytes))
			return nil
		}
	}
}
