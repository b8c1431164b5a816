package loadgen_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
	"github.com/ringtable/ringtable/loadgen"
)

func TestRunMixedLoad(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	cfg := loadgen.DefaultConfig()
	cfg.Concurrency, cfg.Keys, cfg.Duration, cfg.Preload = 8, 200, 2*time.Second, true
	rep, err := loadgen.Run(context.Background(), c.Client(0), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reads.Ops == 0 || rep.Writes.Ops == 0 || rep.Reads.Errors+rep.Writes.Errors != 0 || rep.NotFound != 0 {
		t.Fatalf("report: %+v", rep)
	}
	if rep.Reads.P50 <= 0 || rep.Reads.P99 < rep.Reads.P50 || rep.Writes.Max < rep.Writes.P999 {
		t.Fatalf("percentiles out of order: %+v", rep)
	}
	t.Logf("reads %.0f/s p99 %v, writes %.0f/s p99 %v", rep.Reads.Rate, rep.Reads.P99, rep.Writes.Rate, rep.Writes.P99)
}

// Concurrent writers of one hot key leave siblings; in a table that
// allows only 4, writes are refused with too_many_siblings, and the load
// generator then reads and resolves them, as an application would, so
// (almost) no write fails: with 8 writers racing on one key, a resolving
// write can still lose five times in a row.
func TestHotKeyResolvesSiblings(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	if _, err := c.Client(0).CreateTable(context.Background(), client.Table{Name: "hot", PartitionKey: "k", MaxSiblings: 4, SiblingWarn: 4}); err != nil {
		t.Fatal(err)
	}
	cfg := loadgen.DefaultConfig()
	cfg.Table, cfg.Concurrency, cfg.Keys, cfg.ReadRatio, cfg.Duration = "hot", 8, 1, 0, 3*time.Second
	rep, err := loadgen.Run(context.Background(), c.Client(0), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Writes.Ops == 0 || rep.Resolved == 0 || rep.Writes.Errors*20 > rep.Writes.Ops {
		t.Fatalf("report: %+v errors %v", rep, rep.Errors)
	}
	t.Logf("%d writes to one key from 8 writers, %d of them resolved siblings first", rep.Writes.Ops, rep.Resolved)
}

// Writers racing on one hot key of a table with the default sibling
// maximum (100): each write's answer says whether the item has siblings,
// and the next write of the key reads it and resolves them, so the item
// holds about as many siblings as there are writers instead of a pile
// that grows until the maximum refuses writes.
func TestHotKeySiblingsStayFew(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	cfg := loadgen.DefaultConfig()
	cfg.Table, cfg.Concurrency, cfg.Keys, cfg.ReadRatio, cfg.Duration = "hot", 8, 1, 0, 3*time.Second
	rep, err := loadgen.Run(context.Background(), c.Client(0), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Writes.Ops == 0 || rep.Writes.Errors != 0 || rep.Resolved == 0 {
		t.Fatalf("report: %+v errors %v", rep, rep.Errors)
	}
	// Racing writers do leave siblings (the answers said so), and they
	// stay of the order of the writers.
	if rep.MaxSiblings < 2 || rep.MaxSiblings > 2*cfg.Concurrency {
		t.Fatalf("writes reported at most %d siblings with %d writers", rep.MaxSiblings, cfg.Concurrency)
	}
	it, err := c.Client(0).Get(context.Background(), "hot", client.Key{PK: "key0"}, client.Options{R: 3})
	if err != nil || len(it.Items) > 2*cfg.Concurrency {
		t.Fatalf("after the run: %v siblings, %v", len(it.Items), err)
	}
	t.Logf("%d writes to one key from %d writers: %d resolved siblings first, at most %d siblings, %d at the end",
		rep.Writes.Ops, cfg.Concurrency, rep.Resolved, rep.MaxSiblings, len(it.Items))
}

func TestConfigValidate(t *testing.T) {
	bad := []func(*loadgen.Config){
		func(c *loadgen.Config) { c.Concurrency = 0 },
		func(c *loadgen.Config) { c.Keys = 0 },
		func(c *loadgen.Config) { c.ValueSize = 1 },
		func(c *loadgen.Config) { c.ReadRatio = 1.5 },
		func(c *loadgen.Config) { c.Duration = 0 },
		func(c *loadgen.Config) { c.Table = "" },
	}
	for i, f := range bad {
		cfg := loadgen.DefaultConfig()
		f(&cfg)
		if cfg.Validate() == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
	if err := loadgen.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

// noRetries is a round timeout no write of these tests reaches, even on a
// machine the whole suite loads: a write whose stamper does not answer
// within a round is stamped again by another replica, and if the first
// stamp reaches the next write's stamper only after that write, it stays
// a sibling of it. The tests below count the versions one writer leaves,
// which that would add to.
const noRetries = 30 * time.Second

// A second run's preload on the same table meets every key written by the
// first: a blind write would make it a sibling of the first run's
// version, and reads would then carry both. The preload resolves them, so
// each key holds one version after any number of runs.
func TestPreloadAgainLeavesOneVersion(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{RoundTimeout: noRetries})
	cfg := loadgen.DefaultConfig()
	cfg.Table, cfg.Concurrency, cfg.Keys, cfg.ReadRatio, cfg.Duration, cfg.Preload = "again", 4, 50, 1, 200*time.Millisecond, true
	for run, want := range []int{0, cfg.Keys, cfg.Keys} {
		rep, err := loadgen.Run(context.Background(), c.Client(0), cfg, nil)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if rep.PreloadResolved != want {
			t.Fatalf("run %d: the preload resolved %d keys, want %d", run, rep.PreloadResolved, want)
		}
	}
	for k := range cfg.Keys {
		it, err := c.Client(0).Get(context.Background(), "again", client.Key{PK: fmt.Sprintf("key%d", k)}, client.Options{R: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(it.Items) != 1 {
			t.Fatalf("key%d holds %d versions after three preloads", k, len(it.Items))
		}
	}
}

// A write-only run has no preload: the first write of each key carries no
// context. On a table an earlier run wrote, that write meets the earlier
// run's version; it resolves it at once, so no write's answer is left
// with a sibling (one writer: nothing races) and every key ends with one
// version, whether or not the run wrote it again.
func TestWriteOnlyRunAgainResolvesAtFirstWrite(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{RoundTimeout: noRetries})
	cfg := loadgen.DefaultConfig()
	cfg.Table, cfg.Concurrency, cfg.Keys, cfg.ReadRatio, cfg.Duration = "again", 1, 20, 0, 500*time.Millisecond
	for run := range 2 {
		rep, err := loadgen.Run(context.Background(), c.Client(0), cfg, nil)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if rep.Writes.Ops < cfg.Keys || rep.Writes.Errors != 0 {
			t.Fatalf("run %d: %+v", run, rep.Writes)
		}
		if rep.MaxSiblings != 1 {
			t.Fatalf("run %d: a write left %d siblings", run, rep.MaxSiblings)
		}
		if (run == 0) != (rep.Resolved == 0) {
			t.Fatalf("run %d resolved %d writes", run, rep.Resolved)
		}
	}
	for k := range cfg.Keys {
		it, err := c.Client(0).Get(context.Background(), "again", client.Key{PK: fmt.Sprintf("key%d", k)}, client.Options{R: 3})
		if err != nil && !client.IsStatus(err, http.StatusNotFound) {
			t.Fatal(err)
		}
		if err == nil && len(it.Items) != 1 {
			t.Fatalf("key%d holds %d versions after two runs", k, len(it.Items))
		}
	}
}

// A tenant over its request rate is told how long to wait; each client
// waits that long rather than asking again at once, so a run measures the
// quota instead of piling up refusals (asking at once, 4 clients for 2 s
// are refused tens of thousands of times; waiting, about the rate's
// worth).
func TestRateLimitedClientsWaitAsTold(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	if _, err := c.Admin(0).SetQuotas(ctx, c.TenantID, client.Quotas{RequestsPerSecond: 20, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := loadgen.DefaultConfig()
	cfg.Concurrency, cfg.Keys, cfg.Duration, cfg.Preload = 4, 50, 2*time.Second, false
	rep, err := loadgen.Run(ctx, c.Client(0), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for k, v := range rep.Errors {
		if k != "read: 429 rate_limited" && k != "write: 429 rate_limited" {
			t.Errorf("errors %s: %d", k, v)
		}
		refused += v
	}
	done := rep.Reads.Ops + rep.Writes.Ops
	if done == 0 || refused == 0 || refused > 1000 {
		t.Fatalf("%d requests done, %d refused; want some of each and refusals bounded by the waits", done, refused)
	}
	t.Logf("%d requests done, %d refused", done, refused)
}
