package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/chzyer/readline"

	"github.com/ringtable/ringtable/shell"
)

type shellCmd struct {
	Gateway         string `help:"Gateway URL." default:"http://127.0.0.1:8080" env:"RINGTABLE_GATEWAY"`
	APIKey          string `name:"api-key" help:"Tenant API key (default: ./ringtable-data/dev.key)." env:"RINGTABLE_API_KEY"`
	Execute         string `short:"e" name:"execute" placeholder:"STATEMENTS" help:"Run these statements (and meta commands, one per line) and exit."`
	File            string `short:"f" name:"file" type:"existingfile" placeholder:"FILE" help:"Run the statements in FILE and exit."`
	ContinueOnError bool   `name:"continue-on-error" help:"In a script, go on after a failed statement (the exit status is still 1)."`
	Echo            bool   `help:"In a script, print each input line before its output."`
	Format          string `help:"Initial output format." enum:"table,json,csv" default:"table"`
	History         string `help:"History file (empty: no history)." default:"~/.ringtable_history" env:"RINGTABLE_HISTORY"`
}

func (c *shellCmd) Run(env *runEnv) error {
	if c.Execute != "" && c.File != "" {
		return errors.New("shell: give -e or -f, not both")
	}
	key, err := resolveKey(c.APIKey, filepath.Join(defaultDataDir, "dev.key"), "API key")
	if err != nil {
		return err
	}
	cfg := shell.DefaultConfig()
	cfg.Format = shell.Format(c.Format)
	cfg.ContinueOnError = c.ContinueOnError
	cfg.Echo = c.Echo
	cfg.Progress = readline.IsTerminal(int(os.Stderr.Fd()))
	switch {
	case c.Execute != "":
		cfg.In, cfg.Source = strings.NewReader(c.Execute), "-e"
	case c.File != "":
		f, err := os.Open(c.File)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.In, cfg.Source = f, c.File
	default:
		cfg.Interactive = readline.IsTerminal(int(os.Stdin.Fd())) && readline.IsTerminal(int(os.Stdout.Fd()))
		if cfg.Interactive {
			cfg.HistoryFile = expandHome(c.History)
		}
	}

	// Ctrl-C cancels the running statement, not the shell: main's context
	// ends on the first SIGINT, so the shell runs without it and stops on
	// SIGTERM only.
	ctx, stop := signal.NotifyContext(context.WithoutCancel(env.ctx), syscall.SIGTERM)
	defer stop()
	intr := make(chan os.Signal, 1)
	signal.Notify(intr, os.Interrupt)
	defer signal.Stop(intr)
	cfg.Interrupts = intr

	sh, err := shell.New(cfg, shell.NewRemote(c.Gateway, key))
	if err != nil {
		return err
	}
	err = sh.Run(ctx)
	if errors.Is(err, shell.ErrFailed) || errors.Is(err, shell.ErrInterrupted) {
		os.Exit(1) // the failure has been printed
	}
	return err
}

// expandHome resolves a leading ~/ in a path.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
		return ""
	}
	return p
}
