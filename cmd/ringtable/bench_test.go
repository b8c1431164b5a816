package main

import (
	"strings"
	"testing"

	"github.com/ringtable/ringtable/loadgen"
)

func TestSiblingHint(t *testing.T) {
	for _, tc := range []struct {
		name              string
		zipf              bool
		writes, resolved  int
		wantHint, wantPct string
	}{
		{"no writes", false, 0, 0, "", ""},
		{"a few races", false, 1000, 99, "", ""},
		{"a tenth", false, 1000, 100, "table", "10%"},
		{"an earlier run's keys", false, 40000, 23000, "a new --table", "57%"},
		{"hot keys race by design", true, 40000, 23000, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadgen.DefaultConfig()
			cfg.Zipf, cfg.Table = tc.zipf, "t1"
			r := &loadgen.Report{Config: cfg, Resolved: tc.resolved}
			r.Writes.Ops = tc.writes
			got := siblingHint(r)
			if tc.wantHint == "" {
				if got != "" {
					t.Fatalf("hint %q, want none", got)
				}
				return
			}
			if !strings.Contains(got, tc.wantHint) || !strings.HasPrefix(got, tc.wantPct+" ") || !strings.Contains(got, `"t1"`) {
				t.Fatalf("hint %q, want %s of the writes, table \"t1\" and %q", got, tc.wantPct, tc.wantHint)
			}
		})
	}
}
