package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/loadgen"
)

func TestSiblingHint(t *testing.T) {
	for _, tc := range []struct {
		name              string
		zipf              bool
		keys              int // 0: the default, many keys a client
		writes, resolved  int
		wantHint, wantPct string
	}{
		{"no writes", false, 0, 0, 0, "", ""},
		{"a few races", false, 0, 1000, 99, "", ""},
		{"a tenth", false, 0, 1000, 100, `table "t1"`, "10%"},
		{"an earlier run's keys", false, 0, 40000, 23000, "a new --table", "57%"},
		{"hot keys race by design", true, 0, 40000, 23000, "", ""},
		{"few keys for the clients", false, 100, 40000, 23000, "64 clients on 100 keys often write one key at once", "57%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadgen.DefaultConfig()
			cfg.Zipf, cfg.Table = tc.zipf, "t1"
			if tc.keys > 0 {
				cfg.Keys = tc.keys
			}
			r := &loadgen.Report{Config: cfg, Resolved: tc.resolved}
			r.Writes.Ops = tc.writes
			got := siblingHint(r)
			if tc.wantHint == "" {
				if got != "" {
					t.Fatalf("hint %q, want none", got)
				}
				return
			}
			if !strings.Contains(got, tc.wantHint) || !strings.HasPrefix(got, tc.wantPct+" ") {
				t.Fatalf("hint %q, want %s of the writes and %q", got, tc.wantPct, tc.wantHint)
			}
		})
	}
}

// A bench with a bad flag is refused before it announces a preload, opens
// its profile or reaches the gateway.
func TestBenchRefusesBadFlagsFirst(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "cpu.pprof")
	kctx, c, err := parseCLI(t, "bench", "--gateway", "http://127.0.0.1:1", "--api-key", "x",
		"--read-ratio", "2", "--cpu-profile", profile, "--log-level", "warn")
	if err == nil {
		err = kctx.Run(&runEnv{ctx: context.Background(), log: slog.New(slog.DiscardHandler)}, &c.Admin)
	}
	if err == nil || !strings.Contains(err.Error(), "read ratio 2: must be between 0 and 1") {
		t.Fatalf("err = %v; want the read ratio refused", err)
	}
	if _, err := os.Stat(profile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused bench left %s behind (stat: %v)", profile, err)
	}
}

// `admin limits` without a limit says which flags set one, before it
// reaches a gateway.
func TestAdminLimitsNeedsALimit(t *testing.T) {
	kctx, c, err := parseCLI(t, "admin", "--gateway", "http://127.0.0.1:1", "--admin-key", "x", "limits", "--log-level", "warn")
	if err == nil {
		err = kctx.Run(&runEnv{ctx: context.Background(), log: slog.New(slog.DiscardHandler)}, &c.Admin)
	}
	if err == nil || !strings.Contains(err.Error(), "no limit given: set --transfer-bytes, --hints or --aae") {
		t.Fatalf("err = %v; want the flags named", err)
	}
}

// Outside a terminal each redraw of a progress bar would be a line of the
// log; there a run reports every 10 s instead.
func TestBenchProgressOutsideATerminal(t *testing.T) {
	var out strings.Builder
	progress, finish := benchProgress(&out, false, 30*time.Second)
	for s := 1; s <= 30; s++ {
		progress(time.Duration(s)*time.Second, int64(100*s), int64(50*s), 0)
	}
	finish()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || strings.ContainsRune(out.String(), '\r') {
		t.Fatalf("want 3 plain lines, got %q", out.String())
	}
	if want := "10s of 30s: reads     100/s  writes      50/s  errors 0"; lines[0] != want {
		t.Fatalf("first line %q, want %q", lines[0], want)
	}
}
