package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

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
			t.AppendRow(table.Row{m.ID, m.Status, m.Reachable, m.Partitions, fmt.Sprintf("%.1f%%", 100*m.Share), m.Ready})
		}
		t.Render()
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
}

func (c *transfersCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
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
			if c.Watch {
				fmt.Print("\033[H\033[2J")
			}
			t := table.NewWriter()
			t.SetOutputMirror(os.Stdout)
			t.AppendHeader(table.Row{"to", "partition", "from", "progress", "keys", "rate", "ETA", "last error"})
			for _, r := range rows {
				x := r.t
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
			t.Render()
			fmt.Printf("%d partitions moving\n", running)
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
type leaveCmd struct{ nodeOpCmd }

func (c *joinCmd) Run(env *runEnv, a *adminCmd) error  { return c.run(env, a, "join") }
func (c *leaveCmd) Run(env *runEnv, a *adminCmd) error { return c.run(env, a, "leave") }

func (c *nodeOpCmd) run(env *runEnv, a *adminCmd, op string) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	var out map[string]string
	if err := cl.AdminCall(ctx, http.MethodPost, "/v1/admin/nodes/"+url.PathEscape(c.Node)+"/"+op, nil, &out); err != nil {
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
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	var out map[string]any
	in := map[string]float64{"transfer_bytes_per_sec": c.TransferBytes, "hints_per_sec": c.Hints, "aae_keys_per_sec": c.AAE}
	if err := cl.AdminCall(ctx, http.MethodPut, "/v1/admin/limits", in, &out); err != nil {
		return err
	}
	a.print(out, func() { fmt.Printf("applied: %v\n", out["applied"]) })
	return nil
}
