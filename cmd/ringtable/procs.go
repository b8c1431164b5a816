package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
)

// procsFlags is embedded by the commands that run storage nodes.
//
// A storage node's threads spend much of a write load in system calls
// that block: each node's syncer in fdatasync, its writer appending to
// the redo log, Badger writing tables, the embedded NATS server's stream
// writing change events. Go keeps a processor with a thread blocked in a
// system call until its monitor takes it back, which is likely why, with
// as many processors as cores, runnable goroutines waited while a core
// was idle: in a write-only run of `ringtable dev` on 2 cores, vmstat
// showed about a third of the CPU idle or waiting for I/O. Twice as many
// processors as the runtime's default took a fifth more writes and
// halved the median latency at half that rate (docs/performance.md,
// "Processors").
type procsFlags struct {
	Procs int `name:"procs" help:"Go processors for this process (GOMAXPROCS); 0: twice the runtime's default, unless the GOMAXPROCS environment variable is set." default:"0"`
}

// procsFor returns the processors to run with, given the flag, the
// GOMAXPROCS environment variable and the runtime's current setting; ok
// is false when the runtime's setting stays as it is.
func procsFor(flag int, env string, current int) (n int, ok bool) {
	switch {
	case flag > 0:
		return flag, flag != current
	case env != "":
		return current, false // the operator's choice
	}
	return 2 * current, true
}

// setProcs applies the flag before anything sizes itself by GOMAXPROCS.
// (No Validate method: a second one among a command's embedded flag
// groups would hide the others' from kong.)
func (p procsFlags) setProcs(log *slog.Logger) error {
	if p.Procs < 0 || p.Procs > 4096 {
		return fmt.Errorf("--procs %d: must be between 0 and 4096", p.Procs)
	}
	n, ok := procsFor(p.Procs, os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0))
	if !ok {
		return nil
	}
	prev := runtime.GOMAXPROCS(n)
	log.Info("go processors", "procs", n, "default", prev, "cpus", runtime.NumCPU())
	return nil
}
