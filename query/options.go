package query

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Option names each clause accepts. Unknown names are rejected with this
// list, so a typo never silently falls back to a default.
var (
	createOptions      = []string{"n", "r", "w", "conflict", "ttl", "strict", "max_siblings", "sibling_warn"}
	readOptions        = []string{"r"}
	writeOptions       = []string{"w"}
	consistencyOptions = []string{"r", "w"}
)

// collectOptions indexes opts by lower-cased name, rejecting unknown and
// repeated names. what names the clause in messages ("WITH", "CONSISTENCY").
func collectOptions(opts []*optionAST, allowed []string, what string) (map[string]*optionAST, *Error) {
	m := make(map[string]*optionAST, len(opts))
	for _, o := range opts {
		name := strings.ToLower(o.Name)
		if !slices.Contains(allowed, name) {
			return nil, errorf(fromLexerPos(o.Pos), "unknown %s option %q; allowed: %s",
				what, o.Name, strings.Join(allowed, ", "))
		}
		if _, dup := m[name]; dup {
			return nil, errorf(fromLexerPos(o.Pos), "option %s is given twice", name)
		}
		m[name] = o
	}
	return m, nil
}

// intOption reads an integer option in [lo, hi]; absent options yield def.
func intOption(m map[string]*optionAST, name string, lo, hi, def int) (int, *Error) {
	o := m[name]
	if o == nil {
		return def, nil
	}
	v := o.Value
	if v.Int == "" {
		return 0, errorf(fromLexerPos(v.Pos), "option %s must be an integer, not %s", name, describeValue(v))
	}
	return parseInt(v.Int, fromLexerPos(v.Pos), name, lo, hi)
}

// wordOption reads an option whose value is one of choices, written as a
// string or a bare word, case-insensitively; absent options yield "".
func wordOption(m map[string]*optionAST, name string, choices ...string) (string, *Error) {
	o := m[name]
	if o == nil {
		return "", nil
	}
	v := o.Value
	s := v.Word
	if v.Str != "" {
		s = unquote(v.Str)
	}
	for _, c := range choices {
		if v.Int == "" && strings.EqualFold(s, c) {
			return c, nil
		}
	}
	return "", errorf(fromLexerPos(v.Pos), "option %s must be %s, not %s",
		name, quoteList(choices), describeValue(v))
}

func describeValue(v *valueAST) string {
	switch {
	case v.Int != "":
		return v.Int
	case v.Str != "":
		return "string " + truncate(v.Str)
	}
	return truncate("'" + v.Word + "'")
}

// quoteList renders 'a' or 'b' (or 'a', 'b' or 'c').
func quoteList(choices []string) string {
	q := make([]string, len(choices))
	for i, c := range choices {
		q[i] = quoteString(c)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// parseInt converts an integer token and checks it is in [lo, hi].
func parseInt(raw string, pos Position, what string, lo, hi int) (int, *Error) {
	n, err := strconv.Atoi(raw)
	if err != nil || n > hi {
		return 0, errorf(pos, "%s must be at most %d, got %s", what, hi, truncate(raw))
	}
	if n < lo {
		return 0, errorf(pos, "%s must be at least %d, got %d", what, lo, n)
	}
	return n, nil
}

// maxTTLSeconds is MaxTTL in the unit statements use.
const maxTTLSeconds = int(MaxTTL / time.Second)

// createOptionsFrom checks CREATE TABLE's WITH clause into s, resolving
// defaults. r and w are checked against n (given or default) here, because
// a table with r or w above n could never answer.
func createOptionsFrom(s *CreateTable, opts []*optionAST) *Error {
	m, err := collectOptions(opts, createOptions, "WITH")
	if err != nil {
		return err
	}
	if s.N, err = intOption(m, "n", 1, MaxN, DefaultN); err != nil {
		return err
	}
	for _, rw := range []struct {
		name string
		dst  *int
	}{{"r", &s.R}, {"w", &s.W}} {
		if *rw.dst, err = intOption(m, rw.name, 1, MaxN, DefaultQuorum(s.N)); err != nil {
			return err
		}
		if *rw.dst > s.N {
			return errorf(fromLexerPos(m[rw.name].Value.Pos), "%s = %d exceeds n = %d%s: r and w must be between 1 and n",
				rw.name, *rw.dst, s.N, defaultNote(m["n"] == nil))
		}
	}
	conflict, err := wordOption(m, "conflict", string(ConflictSiblings), string(ConflictLWW))
	if err != nil {
		return err
	}
	s.Conflict = Conflict(conflict)
	if s.Conflict == "" {
		s.Conflict = ConflictSiblings
	}
	ttl, err := intOption(m, "ttl", 0, maxTTLSeconds, 0)
	if err != nil {
		return err
	}
	s.TTL = time.Duration(ttl) * time.Second
	strict, err := wordOption(m, "strict", "true", "false")
	if err != nil {
		return err
	}
	s.Strict = strict == "true"
	if s.MaxSiblings, err = intOption(m, "max_siblings", 1, MaxSiblingsLimit, 0); err != nil {
		return err
	}
	if s.SiblingWarn, err = intOption(m, "sibling_warn", 1, MaxSiblingsLimit, 0); err != nil {
		return err
	}
	if s.MaxSiblings > 0 && s.SiblingWarn > s.MaxSiblings {
		return errorf(fromLexerPos(m["sibling_warn"].Value.Pos), "sibling_warn = %d exceeds max_siblings = %d: a write warns of siblings at or below the most an item may have",
			s.SiblingWarn, s.MaxSiblings)
	}
	return nil
}

func defaultNote(defaulted bool) string {
	if defaulted {
		return fmt.Sprintf(" (n defaults to %d)", DefaultN)
	}
	return ""
}

// requestOption reads the one per-request override a statement allows (r
// for reads, w for writes). The table's n is unknown here, so the range is
// 1..MaxN and the gateway checks the rest.
func requestOption(opts []*optionAST, name string) (int, *Error) {
	allowed := readOptions
	if name == "w" {
		allowed = writeOptions
	}
	m, err := collectOptions(opts, allowed, "WITH")
	if err != nil {
		if name == "w" && slices.ContainsFunc(opts, func(o *optionAST) bool { return strings.EqualFold(o.Name, "ttl") }) {
			// CREATE TABLE's ttl is an option; an item's is a clause.
			err.Msg += " (a PUT's time to live is its TTL clause: PUT INTO t KEY ('k') VALUE {...} TTL 30)"
		}
		return 0, err
	}
	return intOption(m, name, 1, MaxN, 0)
}
