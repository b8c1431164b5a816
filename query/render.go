package query

import (
	"strings"
)

// Canonical rendering helpers: String on a statement must produce text that
// lexes back to the same values, so quoting follows the lexer exactly.

// quoteString renders s as a single-quoted string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent renders a name bare when the lexer would read it back as the
// same identifier, and double-quoted otherwise.
func quoteIdent(s string) string {
	if isBareIdent(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// isBareIdent reports whether s lexes as one non-keyword word.
func isBareIdent(s string) bool {
	if s == "" || !isLetter(s[0]) || isKeyword(s) || strings.Contains(s, "--") {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordByte(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// unquote undoes quoteString or quoteIdent on raw token text.
func unquote(raw string) string {
	if len(raw) < 2 || (raw[0] != '\'' && raw[0] != '"') {
		return raw
	}
	q := raw[:1]
	return strings.ReplaceAll(raw[1:len(raw)-1], q+q, q)
}

// Path is a dotted attribute path in a projection, e.g. ["b", "c"] for b.c.
type Path []string

// String renders the path with each segment quoted as needed.
func (p Path) String() string {
	parts := make([]string, len(p))
	for i, s := range p {
		parts[i] = quoteIdent(s)
	}
	return strings.Join(parts, ".")
}
