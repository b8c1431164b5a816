package query

import (
	"slices"
	"strings"
)

// keywords are reserved: a name that spells one must be double-quoted. A test
// checks this list against the literals in the grammar, both ways.
var keywords = []string{
	"ALLOW", "AND", "ASC", "BEGINS", "BETWEEN", "BY", "CONSISTENCY", "CONTEXT",
	"COPY", "CREATE", "DELETE", "DESC", "DESCRIBE", "DROP", "EXISTS", "FROM",
	"GET", "IF", "INTO", "KEY", "LIMIT", "NOT", "OFF", "ON", "ORDER",
	"PARTITION", "PUT", "SCAN", "SELECT", "SHOW", "SORT", "TABLE", "TABLES",
	"TO", "TRACING", "TTL", "VALUE", "WATCH", "WHERE", "WITH",
}

var keywordSet = func() map[string]bool {
	m := make(map[string]bool, len(keywords))
	for _, k := range keywords {
		m[k] = true
	}
	return m
}()

func isKeyword(word string) bool {
	// Keywords are short; skip the allocation in ToUpper for long names.
	return len(word) <= len("CONSISTENCY") && keywordSet[strings.ToUpper(word)]
}

// Keywords returns the reserved words in upper case, sorted, for tab
// completion. The caller owns the returned slice.
func Keywords() []string { return slices.Clone(keywords) }
