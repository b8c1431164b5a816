package shell

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"testing"
)

// TestMain doubles as the shell's main for the pseudo-terminal test: run
// with RINGTABLE_SHELL_PTY_CHILD=1, the test binary is an interactive
// shell on its terminal, wired as cmd/ringtable wires it.
func TestMain(m *testing.M) {
	if os.Getenv("RINGTABLE_SHELL_PTY_CHILD") == "1" {
		os.Exit(ptyChild())
	}
	os.Exit(m.Run())
}

func ptyChild() int {
	cfg := DefaultConfig()
	cfg.Interactive = true
	cfg.HistoryFile = os.Getenv("RINGTABLE_HISTORY")
	intr := make(chan os.Signal, 1)
	signal.Notify(intr, os.Interrupt)
	cfg.Interrupts = intr
	sh, err := New(cfg, NewRemote(os.Getenv("RINGTABLE_GATEWAY"), os.Getenv("RINGTABLE_API_KEY")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := sh.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
