package shell

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden with the current output")

// TestGoldenScripts runs each testdata/*.rtql with -f semantics (echoing
// the script, going on after errors) against a real in-process cluster,
// each as its own tenant, and compares the transcript with NAME.golden.
// In scripts, $TMP is a fresh directory and $TESTDATA the testdata
// directory. Contexts, timestamps and the directory are masked.
func TestGoldenScripts(t *testing.T) {
	scripts, err := filepath.Glob("testdata/*.rtql")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	c := testcluster.New(t, testcluster.Options{})
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".rtql")
		t.Run(name, func(t *testing.T) {
			_, key := c.NewTenant("golden-" + name)
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			text := strings.NewReplacer("$TMP", tmp, "$TESTDATA", testdata).Replace(string(src))
			var out syncBuffer
			cfg := DefaultConfig()
			cfg.In, cfg.Out, cfg.Err = strings.NewReader(text), &out, &out
			cfg.Source, cfg.Echo, cfg.ContinueOnError = filepath.Base(script), true, true
			sh, err := New(cfg, NewRemote(c.Gateways[0].URL, key))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			runErr := sh.Run(ctx)
			got := mask(out.String(), tmp, testdata)
			if runErr != nil {
				got += "-- Run: " + runErr.Error() + "\n"
			}
			golden := strings.TrimSuffix(script, ".rtql") + ".golden"
			if *rewrite {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -rewrite to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (rerun with -rewrite to accept):\n%s", golden, diff(string(want), got))
			}
		})
	}
}

var masks = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`CONTEXT '[^']*'`), `CONTEXT '<ctx>'`},
	{regexp.MustCompile(`"context":"[^"]*"`), `"context":"<ctx>"`},
	{regexp.MustCompile(`(?m)^(context +\| ).*$`), `$1<ctx>`},
	{regexp.MustCompile(`"id":"[^"]*"`), `"id":"<id>"`},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), `<time>`},
}

// mask makes a transcript deterministic.
func mask(s, tmp, testdata string) string {
	s = strings.NewReplacer(tmp, "$TMP", testdata, "$TESTDATA").Replace(s)
	for _, m := range masks {
		s = m.re.ReplaceAllString(s, m.repl)
	}
	return s
}

// diff shows the first differing lines.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			lo := max(0, i-3)
			return fmt.Sprintf("line %d:\n--- want\n%s\n+++ got\n%s", i+1, strings.Join(w[lo:min(len(w), i+4)], "\n"), strings.Join(g[lo:min(len(g), i+4)], "\n"))
		}
	}
	return ""
}

// TestCopyRoundTripFile checks the exported file itself (its line order
// follows the ring, so the golden transcript only shows counts).
func TestCopyRoundTripFile(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	file := filepath.Join(t.TempDir(), "t.jsonl")
	script := `CREATE TABLE t (id PARTITION KEY);
PUT INTO t KEY ('a') VALUE {"n": 1};
PUT INTO t KEY ('b') VALUE {"n": 2};
\forget
PUT INTO t KEY ('b') VALUE {"n": 3};
COPY t TO '` + file + `';`
	out, err := runScript(t, NewRemote(c.Gateways[0].URL, c.TenantKey), script)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	slices.Sort(lines)
	want := []string{
		`{"pk":"a","value":{"n":1}}`,
		`{"pk":"b","value":{"n":2},"sibling":1,"siblings":2}`,
		`{"pk":"b","value":{"n":3},"sibling":2,"siblings":2}`,
	}
	// Which sibling is numbered 1 is the gateway's choice.
	alt := []string{want[0], `{"pk":"b","value":{"n":2},"sibling":2,"siblings":2}`, `{"pk":"b","value":{"n":3},"sibling":1,"siblings":2}`}
	slices.Sort(alt)
	if !slices.Equal(lines, want) && !slices.Equal(lines, alt) {
		t.Errorf("exported:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.Contains(out, "Exported 2 items (3 versions) to "+file) {
		t.Errorf("output:\n%s", out)
	}
}

// A tenant whose request rate is below what an import sends still gets
// its whole file in, each line once: the statements of a batch the rate
// stopped are sent again when the gateway says, from where it stopped. A
// rate-limited export gets it out.
func TestCopyFromWaitsOutTheRateLimit(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	// Each statement of a batch counts: the gateway stops a batch where
	// the rate runs out, and the import sends the rest when it says.
	nk, err := c.Admin(0).CreateTenant(ctx, "slow", client.Quotas{RequestsPerSecond: 150, Burst: 2})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 450 { // 5 batches of at most 100, each stopped many times
		lines = append(lines, fmt.Sprintf(`{"pk":"k%d","value":{"i":%d}}`, i, i))
	}
	file := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	remote := NewRemote(c.Gateways[0].URL, nk.APIKey)
	out, err := runScript(t, remote, "CREATE TABLE t (id PARTITION KEY);\nCOPY t FROM '"+file+"';")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "Imported 450 rows from "+file+" into t.") {
		t.Errorf("output:\n%s", out)
	}
	// An export takes a token per ring partition: 256 at 200 a second.
	if _, err := c.Admin(0).SetQuotas(ctx, nk.Tenant.ID, client.Quotas{RequestsPerSecond: 200, Burst: 2}); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(t.TempDir(), "out.jsonl")
	// 450 items of one version each: no statement ran twice.
	if out, err := runScript(t, remote, "COPY t TO '"+back+"';"); err != nil || !strings.Contains(out, "Exported 450 items to "+back+".") {
		t.Errorf("export: %v\n%s", err, out)
	}
	if _, err := c.Admin(0).SetQuotas(ctx, nk.Tenant.ID, client.Quotas{RequestsPerSecond: 1000, Burst: 1000}); err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"k0", "k99", "k100", "k449"} {
		var err error
		testcluster.WaitFor(t, 5*time.Second, pk+" read after the import", func() bool {
			_, err = c.ClientWithKey(0, nk.APIKey).Get(ctx, "t", client.Key{PK: pk}, client.Options{})
			return !client.IsStatus(err, 429) // the raised quota reaches the gateway's cache
		})
		if err != nil {
			t.Errorf("%s after the import: %v", pk, err)
		}
	}
}

// WATCH of a table that another client drops stops, saying why, and the
// script goes on.
func TestWatchStopsWhenTheTableIsDropped(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	if _, err := c.Client(0).CreateTable(ctx, client.Table{Name: "w", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(500 * time.Millisecond) // the WATCH is open
		_, _ = c.Client(0).Put(ctx, "w", client.Key{PK: "a"}, []byte(`{"n":1}`), client.Options{})
		_ = c.Client(0).DropTable(ctx, "w")
		_, _ = c.Client(0).CreateTable(ctx, client.Table{Name: "w", PartitionKey: "id"})
		_, _ = c.Client(0).Put(ctx, "w", client.Key{PK: "b"}, []byte(`{"n":2}`), client.Options{})
	}()
	out, err := runScript(t, NewRemote(c.Gateways[0].URL, c.TenantKey), "WATCH w;\nSHOW TABLES;")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"put     w/a", "Table w was dropped; stopped watching.", "(1 table)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "w/b") {
		t.Errorf("the new table's write shown in the old one's WATCH:\n%s", out)
	}
}

// TestTracingAgainstCluster checks that TRACING ON shows the coordinator's
// round: the events come from the gateway, their timing varies, so only
// their presence is checked.
func TestTracingAgainstCluster(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	out, err := runScript(t, NewRemote(c.Gateways[0].URL, c.TenantKey), `CREATE TABLE t (id PARTITION KEY);
TRACING ON;
PUT INTO t KEY ('a') VALUE {};
GET FROM t KEY ('a');`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"Trace:", "| node |", "round 1: asked ", "; answered "} {
		if strings.Count(out, want) < 2 {
			t.Errorf("output lacks two %q:\n%s", want, out)
		}
	}
	// Feeds may not exist on this gateway yet; when they do not, WATCH
	// must say so rather than fail obscurely.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = NewRemote(c.Gateways[0].URL, c.TenantKey).Watch(ctx, WatchRequest{Table: "t", Event: func(FeedEvent) error { return errors.New("stop") }})
	if err != nil && !errors.Is(err, ErrFeedsUnavailable) && err.Error() != "stop" {
		t.Errorf("Watch on a real gateway: %v", err)
	}
}

// The shell sends the context it last saw for an item with a PUT that has
// none; if another session dropped the table and created it again since,
// the gateway refuses that context as another item's, and the shell
// forgets it and writes as it would have without it.
func TestRememberedContextOfADroppedTable(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var out syncBuffer
	cfg := DefaultConfig()
	cfg.In, cfg.Out, cfg.Err = pr, &out, &out
	sh, err := New(cfg, NewRemote(c.Gateways[0].URL, c.TenantKey))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	fmt.Fprintln(pw, `CREATE TABLE r (id PARTITION KEY); PUT INTO r KEY ('a') VALUE {"v":1}; GET FROM r KEY ('a');`)
	testcluster.WaitFor(t, 30*time.Second, "the shell's read", func() bool { return strings.Contains(out.String(), "(1 row)") })
	cl := c.Client(0)
	if err := cl.DropTable(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateTable(ctx, client.Table{Name: "r", PartitionKey: "id"}); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(pw, `PUT INTO r KEY ('a') VALUE {"v":2};`)
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"(using the context of your last read of r/a)", "(that context is no longer r/a's: its table was created again since; writing without it)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	it, err := cl.Get(ctx, "r", client.Key{PK: "a"}, client.Options{R: 3})
	if err != nil || len(it.Items) != 1 || string(it.Items[0].Value) != `{"v":2}` {
		t.Fatalf("r/a: %+v, %v", it, err)
	}
}
