package main

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
)

func TestProcsFor(t *testing.T) {
	for _, tc := range []struct {
		name          string
		flag, current int
		env           string
		want          int
		set           bool
	}{
		{"default doubles the runtime's choice", 0, 2, "", 4, true},
		{"one core", 0, 1, "", 2, true},
		{"the environment wins over the default", 0, 3, "3", 3, false},
		{"the flag wins over the environment", 6, 3, "3", 6, true},
		{"the flag as it already is", 4, 4, "", 4, false},
		{"the flag below the cores", 1, 2, "", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, set := procsFor(tc.flag, tc.env, tc.current)
			if n != tc.want || set != tc.set {
				t.Fatalf("procsFor(%d, %q, %d) = %d, %v; want %d, %v", tc.flag, tc.env, tc.current, n, set, tc.want, tc.set)
			}
		})
	}
}

// Bad values are refused before anything starts, and the flag group does
// not hide the cache flags' own check (kong finds a command's Validate
// through its embedded groups, and two such methods would hide both).
func TestServerFlagsRefuseBadValues(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := busy.Addr().String()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dev", "--procs=-1"}, "--procs -1: must be between 0 and 4096"},
		{[]string{"node", "--id", "n1", "--data-dir", "x", "--procs=5000"}, "--procs 5000: must be between 0 and 4096"},
		{[]string{"dev", "--set-cache-mib=-1"}, "--set-cache-mib -1"},
		{[]string{"node", "--id", "n1", "--data-dir", "x", "--set-cache-mib=-1"}, "--set-cache-mib -1"},
		{[]string{"dev", "--min-free-disk-mib=-5"}, "--min-free-disk-mib -5: must be between 0 and 1073741824"},
		{[]string{"node", "--id", "n1", "--data-dir", "x", "--min-free-disk-mib=-5"}, "--min-free-disk-mib -5"},
		// Refused before waiting for a NATS server that is not there.
		{[]string{"node", "--id", "bad.id", "--data-dir", "x", "--nats-url", "nats://127.0.0.1:1"}, `node ID "bad.id" must be 1-64 of [A-Za-z0-9_-]`},
		{[]string{"gateway", "--nats-url", "nats://127.0.0.1:1", "--http", "127.0.0.1:0", "--speculate-quantile", "1.5"}, "SpeculateQuantile 1.5"},
		{[]string{"gateway", "--nats-url", "nats://127.0.0.1:1", "--http", taken}, "listen: listen tcp " + taken},
		{[]string{"gateway", "--nats-url", "nats://127.0.0.1:1", "--http", "127.0.0.1:0", "--max-feeds", "0"}, "MaxFeedsPerTenant must be positive"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			args := slices.Concat(tc.args, []string{"--log-level", "warn"})
			if tc.args[0] == "dev" {
				args = append(args, "--data-dir", dir)
			}
			kctx, c, err := parseCLI(t, args...)
			if err == nil {
				ctx, cancel := context.WithCancel(context.Background())
				cancel() // were anything to start, it stops at once
				err = kctx.Run(&runEnv{ctx: ctx, log: slog.New(slog.DiscardHandler)}, &c.Admin)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want one containing %q", err, tc.want)
			}
		})
	}
}
