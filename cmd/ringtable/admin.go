package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/ringtable/ringtable/gateway/client"
)

// adminCmd talks to a gateway's admin API.
type adminCmd struct {
	Gateway  string `help:"Gateway URL." default:"http://127.0.0.1:8080" env:"RINGTABLE_GATEWAY"`
	AdminKey string `name:"admin-key" help:"Admin key (default: ./ringtable-data/admin.key)." env:"RINGTABLE_ADMIN_KEY"`
	JSON     bool   `name:"json" help:"Print JSON for scripts."`

	Tenant    tenantCmd    `cmd:"" help:"Manage tenants and their API keys."`
	Status    statusCmd    `cmd:"" help:"Each node, its state as seen by the node asked, its share of the ring."`
	Ring      ringCmd      `cmd:"" help:"Partitions and their primary and fallback replicas."`
	Transfers transfersCmd `cmd:"" help:"Partitions moving between nodes: progress, rate, ETA, last error."`
	Join      joinCmd      `cmd:"" help:"Make a waiting node join the ring."`
	Leave     leaveCmd     `cmd:"" help:"Hand a node's partitions to their new owners; the node then stops serving."`
	Limits    limitsCmd    `cmd:"" help:"Change the background rate limits of every node while it runs."`
	Hints     hintsCmd     `cmd:"" help:"Hinted keys pending delivery, per holding node and target node."`
	AAE       aaeCmd       `cmd:"" name:"aae" help:"Anti-entropy: the last run of each node, and of each partition with --partitions."`
	Repair    repairCmd    `cmd:"" help:"Run anti-entropy now on every node (one table with --tenant and --table), showing progress."`
}

type tenantCmd struct {
	Create tenantCreateCmd `cmd:"" help:"Create a tenant; prints its first API key (shown once)."`
	List   tenantListCmd   `cmd:"" help:"List tenants."`
	Delete tenantDeleteCmd `cmd:"" help:"Delete a tenant: its keys stop working at once, its data is reclaimed later."`
	Quotas tenantQuotasCmd `cmd:"" help:"Change a tenant's quotas."`
	Key    keyCmd          `cmd:"" help:"Manage a tenant's API keys."`
	// FeedCredentials is in feeds.go.
	FeedCredentials feedCredentialsCmd `cmd:"" name:"feed-credentials" help:"NATS credentials that read the tenant's change feeds and nothing else."`
}

type keyCmd struct {
	Create keyCreateCmd `cmd:"" help:"Add an API key to a tenant (shown once)."`
	List   keyListCmd   `cmd:"" help:"List a tenant's API keys."`
	Revoke keyRevokeCmd `cmd:"" help:"Revoke an API key."`
}

func (a *adminCmd) client() (*client.Client, error) {
	key, err := resolveKey(a.AdminKey, filepath.Join(defaultDataDir, "admin.key"), "admin key")
	if err != nil {
		return nil, err
	}
	return client.New(a.Gateway, nil).WithAPIKey(key), nil
}

func (a *adminCmd) print(v any, human func()) {
	if a.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		return
	}
	human()
}

func jsonEncode(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func adminCtx(env *runEnv) (context.Context, context.CancelFunc) {
	return context.WithTimeout(env.ctx, 30*time.Second)
}

// sizeText shows a byte count to people (--json keeps the count).
func sizeText(n int64) string {
	if n < 0 {
		return "-" + humanize.IBytes(uint64(-n))
	}
	return humanize.IBytes(uint64(n))
}

// tenantID takes a tenant's ID or its name: operators know tenants by
// name, the admin API by ID. An argument that is neither is passed on,
// for the gateway to say it is not found.
func tenantID(ctx context.Context, cl *client.Client, arg string) (string, error) {
	ts, err := cl.ListTenants(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range ts {
		if t.ID == arg {
			return arg, nil
		}
	}
	for _, t := range ts {
		if t.Name == arg {
			return t.ID, nil
		}
	}
	return arg, nil
}

type tenantCreateCmd struct {
	Name string `arg:"" help:"Display name: 1-255 of [A-Za-z0-9_-], starting with a letter."`
	quotaFlags
}

type quotaFlags struct {
	RPS         float64 `name:"rps" help:"Requests per second at each gateway."`
	Burst       int     `help:"Requests that may arrive at once (default: twice --rps when it is given)."`
	Tables      int     `help:"Maximum number of tables."`
	StoredBytes int64   `name:"stored-bytes" help:"Maximum bytes stored (approximate)."`
}

func (q quotaFlags) quotas() client.Quotas {
	return client.Quotas{RequestsPerSecond: q.RPS, Burst: q.Burst, Tables: q.Tables, StoredBytes: q.StoredBytes}
}

func (c *tenantCreateCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	nk, err := cl.CreateTenant(ctx, c.Name, c.quotas())
	if err != nil {
		return err
	}
	a.print(nk, func() {
		fmt.Printf("tenant %s (%s) created\nAPI key %s (shown once; keep it):\n%s\n", nk.Tenant.Name, nk.Tenant.ID, nk.KeyID, nk.APIKey)
	})
	return nil
}

type tenantListCmd struct{}

func (c *tenantListCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	ts, err := cl.ListTenants(ctx)
	if err != nil {
		return err
	}
	a.print(ts, func() {
		t := table.NewWriter()
		t.SetOutputMirror(os.Stdout)
		t.AppendHeader(table.Row{"id", "name", "created", "req/s", "tables", "stored", "quota"})
		// req/s and sizes are text, so that a million shows as 1000000,
		// not 1e+06.
		right := text.AlignRight
		t.SetColumnConfigs([]table.ColumnConfig{{Number: 4, Align: right}, {Number: 6, Align: right}, {Number: 7, Align: right}})
		for _, x := range ts {
			t.AppendRow(table.Row{x.ID, x.Name, x.Created.Format(time.RFC3339), strconv.FormatFloat(x.Quotas.RequestsPerSecond, 'f', -1, 64), x.Quotas.Tables, sizeText(x.StoredBytes), sizeText(x.Quotas.StoredBytes)})
		}
		t.Render()
	})
	return nil
}

type tenantDeleteCmd struct {
	ID string `arg:"" help:"Tenant ID or name."`
}

func (c *tenantDeleteCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	id, err := tenantID(ctx, cl, c.ID)
	if err != nil {
		return err
	}
	if err := cl.DeleteTenant(ctx, id); err != nil {
		return err
	}
	a.print(map[string]string{"deleted": id}, func() {
		if id != c.ID {
			fmt.Printf("tenant %s (%s) deleted\n", c.ID, id)
		} else {
			fmt.Printf("tenant %s deleted\n", id)
		}
	})
	return nil
}

type tenantQuotasCmd struct {
	ID string `arg:"" help:"Tenant ID or name."`
	quotaFlags
}

func (c *tenantQuotasCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	id, err := tenantID(ctx, cl, c.ID)
	if err != nil {
		return err
	}
	t, err := cl.SetQuotas(ctx, id, c.quotas())
	if err != nil {
		return err
	}
	a.print(t, func() {
		fmt.Printf("tenant %s (%s): %s req/s (burst %d), %d table(s), %s stored\n", t.Name, t.ID, strconv.FormatFloat(t.Quotas.RequestsPerSecond, 'f', -1, 64), t.Quotas.Burst, t.Quotas.Tables, sizeText(t.Quotas.StoredBytes))
	})
	return nil
}

type keyCreateCmd struct {
	Tenant string `arg:"" help:"Tenant ID or name."`
}

func (c *keyCreateCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	id, err := tenantID(ctx, cl, c.Tenant)
	if err != nil {
		return err
	}
	nk, err := cl.CreateKey(ctx, id)
	if err != nil {
		return err
	}
	a.print(nk, func() { fmt.Printf("API key %s (shown once; keep it):\n%s\n", nk.KeyID, nk.APIKey) })
	return nil
}

type keyListCmd struct {
	Tenant string `arg:"" help:"Tenant ID or name."`
}

func (c *keyListCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	id, err := tenantID(ctx, cl, c.Tenant)
	if err != nil {
		return err
	}
	ks, err := cl.ListKeys(ctx, id)
	if err != nil {
		return err
	}
	a.print(ks, func() {
		t := table.NewWriter()
		t.SetOutputMirror(os.Stdout)
		t.AppendHeader(table.Row{"key id", "created", "revoked"})
		for _, k := range ks {
			t.AppendRow(table.Row{k.ID, k.Created.Format(time.RFC3339), k.Revoked})
		}
		t.Render()
	})
	return nil
}

type keyRevokeCmd struct {
	Tenant string `arg:"" help:"Tenant ID or name."`
	Key    string `arg:"" help:"Key ID."`
}

func (c *keyRevokeCmd) Run(env *runEnv, a *adminCmd) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := adminCtx(env)
	defer cancel()
	id, err := tenantID(ctx, cl, c.Tenant)
	if err != nil {
		return err
	}
	if err := cl.RevokeKey(ctx, id, c.Key); err != nil {
		return err
	}
	a.print(map[string]string{"revoked": c.Key}, func() { fmt.Printf("key %s of tenant %s revoked\n", c.Key, id) })
	return nil
}
