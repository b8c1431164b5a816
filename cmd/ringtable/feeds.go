package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/storagenode"
)

// secretFlags give a process the cluster secret, from which every NATS
// identity of the cluster is derived (see package messaging, auth.go).
// Every node and gateway of a cluster must be given the same one; without
// it the bus runs without accounts (no tenant isolation on NATS, no feed
// credentials).
type secretFlags struct {
	ClusterSecret     string `name:"cluster-secret" help:"Secret shared by every node and gateway: NATS accounts and credentials are derived from it (none: a bus without accounts)." env:"RINGTABLE_CLUSTER_SECRET"`
	ClusterSecretFile string `name:"cluster-secret-file" help:"File holding the cluster secret." type:"path"`
}

// auth returns the cluster's NATS identities, or nil without a secret.
func (f secretFlags) auth(prefix string) (*messaging.Auth, error) {
	secret := f.ClusterSecret
	if f.ClusterSecretFile != "" {
		b, err := os.ReadFile(f.ClusterSecretFile)
		if err != nil {
			return nil, fmt.Errorf("cluster secret: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		return nil, nil
	}
	return messaging.NewAuth(secret, prefix)
}

// feedFlags configure the change events a node publishes.
type feedFlags struct {
	Feeds         bool          `name:"feeds" help:"Publish a change event for every version this node stamps (JetStream)." default:"true" negatable:""`
	FeedRetention time.Duration `name:"feed-retention" help:"How long the feed stream keeps events (the same on every node)." default:"24h"`
	FeedReplicas  int           `name:"feed-replicas" help:"Copies of the feed stream in a clustered NATS (lowered to the servers there are)." default:"3"`
}

func (f feedFlags) apply(cfg *storagenode.Config) {
	cfg.Feed.Disabled = !f.Feeds
	cfg.Feed.Stream.Retention = f.FeedRetention
	cfg.Feed.Stream.Replicas = f.FeedReplicas
	if cfg.Feed.Stream.Duplicates > f.FeedRetention {
		cfg.Feed.Stream.Duplicates = f.FeedRetention
	}
}

// natsStore is where an embedded NATS server keeps JetStream and account
// files: beside a node's data, inside its directory.
func natsStore(dataDir string) string { return filepath.Join(dataDir, "nats") }

type feedCredentialsCmd struct {
	ID  string `arg:"" help:"Tenant ID or name."`
	Out string `help:"Write the credentials file here (mode 0600) instead of printing it." type:"path"`
}

func (c *feedCredentialsCmd) Run(env *runEnv, a *adminCmd) error {
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
	fc, err := cl.FeedCredentials(ctx, id)
	if err != nil {
		return err
	}
	if c.Out != "" {
		if err := os.WriteFile(c.Out, []byte(fc.Creds), 0o600); err != nil {
			return err
		}
	}
	a.print(fc, func() {
		if c.Out == "" {
			fmt.Print(fc.Creds)
		}
		w := os.Stdout
		if c.Out == "" {
			w = os.Stderr
		}
		fmt.Fprintf(w, "NATS credentials of tenant %s (account %s)", fc.Tenant, fc.Account)
		if c.Out != "" {
			fmt.Fprintf(w, " written to %s", c.Out)
		}
		fmt.Fprintf(w, ".\nThey read %s (one subject per table) and the account's own stream %s, nothing else.\n", fc.Subject, fc.Stream)
		if len(fc.Servers) > 0 {
			fmt.Fprintf(w, "Servers: %s\n", strings.Join(fc.Servers, ","))
		}
	})
	return nil
}

// natsConfigCmd prints the configuration an external NATS server needs to
// serve a ringtable cluster with accounts.
type natsConfigCmd struct {
	secretFlags
	Prefix      string `help:"Subject prefix." default:"rt"`
	ResolverDir string `name:"resolver-dir" help:"Where the server keeps account JWTs." default:"./jwt"`
	StoreDir    string `name:"store-dir" help:"Where the server keeps JetStream data." default:"./jetstream"`
}

func (c *natsConfigCmd) Run(env *runEnv) error {
	auth, err := c.auth(c.Prefix)
	if err != nil {
		return err
	}
	if auth == nil {
		return fmt.Errorf("give the cluster secret (--cluster-secret, RINGTABLE_CLUSTER_SECRET or --cluster-secret-file)")
	}
	conf, err := auth.ServerConfig(c.ResolverDir, c.StoreDir)
	if err != nil {
		return err
	}
	fmt.Print(conf)
	return nil
}

// storeFlags size what a storage node keeps in memory in front of its
// store, and the free disk it keeps behind it. (One struct: kong calls the
// Validate promoted to a command, and two embedded ones would promote
// neither.)
type storeFlags struct {
	SetCacheMiB    int   `name:"set-cache-mib" help:"MiB of recently written and read items each storage node keeps in memory in front of its store (0: none)." default:"32"`
	MinFreeDiskMiB int64 `name:"min-free-disk-mib" help:"MiB a storage node keeps free on its data directory's file system: below it, new values are refused (deletes are taken) rather than the disk filling up (0: no reserve)." default:"256"`
}

// Validate is called by kong once the flags are parsed.
func (f storeFlags) Validate() error {
	if f.SetCacheMiB < 0 || f.SetCacheMiB > 1<<20 {
		return fmt.Errorf("--set-cache-mib %d: must be between 0 and 1048576", f.SetCacheMiB)
	}
	if f.MinFreeDiskMiB < 0 || f.MinFreeDiskMiB > 1<<30 {
		return fmt.Errorf("--min-free-disk-mib %d: must be between 0 and 1073741824", f.MinFreeDiskMiB)
	}
	return nil
}

func (f storeFlags) apply(cfg *storagenode.Config) {
	cfg.Engine.CacheSize = int64(f.SetCacheMiB) << 20
	cfg.MinFreeDisk = f.MinFreeDiskMiB << 20
}
