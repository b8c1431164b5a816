// Package shell is ringtable's interactive client: a readline REPL (and a
// script runner for -e, -f and piped input) that sends statements to a
// gateway and formats the results, in the spirit of cqlsh and psql.
//
// The shell runs the shell-level statements itself (CONSISTENCY, TRACING,
// WATCH, COPY; see query.ShellOnly) and meta commands (\format, \expand,
// \timing, \help, \tables, \describe, \quit); every other statement is sent
// as text to POST /v1/query, one statement per request.
//
// Contract:
//
//   - The shell talks to the system only through an Evaluator. The real one,
//     Remote, wraps gateway/client and the gateway's public HTTP API (the
//     SSE change feed for WATCH). The package must never talk to NATS,
//     import messaging, storagenode or gateway internals, or read Badger.
//   - The REPL depends on io.Reader and io.Writer only (readline is used when
//     Config.Interactive says the input is the terminal), so tests feed it
//     scripts without a TTY.
//   - Causal contexts: the shell remembers the last context it saw for each
//     (table, key) in the session and sends it with a later PUT or DELETE of
//     that key that has no CONTEXT clause, saying so. Users therefore do not
//     create siblings by accident; an explicit CONTEXT always wins.
//   - A Shell is used by one goroutine (its Run loop); only the completer,
//     which readline calls from its own goroutine, shares state, under a
//     mutex.
//
// Usage:
//
//	sh, err := shell.New(cfg, shell.NewRemote(url, apiKey))
//	err = sh.Run(ctx) // shell.ErrFailed when a statement failed
package shell
