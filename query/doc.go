// Package query parses ringtable's SQL-like statement language and checks it
// into typed, validated statements.
//
// The gateway executes the statements Parse returns; the shell uses the same
// package to split multi-line input (Split, Complete), to offer tab completion
// (Keywords) and to check syntax before sending anything. Both therefore agree
// on one grammar, including the shell-only statements (CONSISTENCY, TRACING,
// WATCH, COPY) that the gateway refuses (see ShellOnly).
//
// Contract:
//
//   - The package is pure: no I/O, no network, no goroutines, no clock. It may
//     be called concurrently from any number of goroutines.
//   - Parse and ParseOne never panic, whatever the input. Every error they
//     return is an *Error whose position (byte offset, line and column, both
//     1-based, columns counted in characters) is relative to the whole input,
//     also for the Nth statement of a multi-statement input.
//   - A statement that parses has passed every check that needs no knowledge
//     of the cluster: names, key and item sizes, option ranges. Checks that
//     need the table's schema (is "ts" the sort key?) are left to the caller;
//     see (*Select).Bind.
//   - String on any statement renders canonical text that parses back to an
//     equal statement. Defaults that the parser resolves (n, r, w, conflict of
//     CREATE TABLE) are spelled out.
//
// The limits in the design document (names, keys, items, statements) are
// exported as constants, with ValidateName, ValidateKey and ValidateItem, so
// the gateway's HTTP item API enforces exactly the same rules. MaxTokens
// adds one of the parser's own, which keeps the cost of parsing a maximal
// input small; MaxItemDepth one that keeps every item readable by common
// JSON decoders once an answer or a change event wraps it.
//
// Usage:
//
//	stmts, err := query.Parse(body)
//	if err != nil {
//		var qe *query.Error
//		errors.As(err, &qe) // qe.Pos.Line, qe.Pos.Column, qe.Msg
//	}
//	for _, s := range stmts {
//		switch s := s.(type) {
//		case *query.Get:
//			// s.Table, s.Key.Partition, s.R (0: table default)
//		}
//	}
//
// Keywords are case-insensitive and reserved; double quotes make a keyword
// usable as a name ("key"). Strings use single quotes; a quote inside a
// string is written twice, as in SQL.
// "--" starts a comment to the end of the line, so a name may contain single
// hyphens (my-table) but never two in a row.
package query
