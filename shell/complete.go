package shell

import (
	"errors"
	"slices"
	"strings"
	"unicode"

	"github.com/ringtable/ringtable/query"
)

// completer is readline's tab completion. readline calls it from its own
// goroutine, so it reads the session only through the mutex-guarded
// table list and pending text.
type completer struct{ s *Shell }

// Do returns the candidates' remainders after the word being completed
// and that word's length, as readline wants them.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	c.s.mu.Lock()
	pending := c.s.mu.pending
	c.s.mu.Unlock()
	word, cands := complete(pending, string(line[:pos]), c.s.tableNames())
	out := make([][]rune, 0, len(cands))
	for _, cand := range cands {
		out = append(out, []rune(cand[len(word):]))
	}
	return out, len([]rune(word))
}

// tableWords are the keywords a table name follows.
var tableWords = []string{"FROM", "INTO", "TABLE", "DESCRIBE", "WATCH", "COPY", "EXISTS"}

// complete returns the word before the cursor and the completions of it,
// given the unfinished statement typed on earlier lines (pending) and the
// current line up to the cursor (before). A single candidate ends with a
// space, so typing goes on.
func complete(pending, before string, tables []string) (string, []string) {
	word := before[len(strings.TrimRightFunc(before, isWordRune)):]
	head := before[:len(before)-len(word)]
	var cands []string
	switch {
	case isBlank(pending) && strings.HasPrefix(strings.TrimLeft(before, " "), `\`):
		word, cands = completeMeta(strings.TrimLeft(before, " "), tables)
	default:
		cands = completeStatement(pending+head, word, tables)
	}
	cands = filterPrefix(cands, word)
	if len(cands) == 1 {
		cands[0] += " "
	}
	return word, cands
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '\\' || r == '?'
}

// completeMeta completes a meta command's name or its argument.
func completeMeta(line string, tables []string) (string, []string) {
	name, arg, hasArg := strings.Cut(line, " ")
	if !hasArg {
		return name, metaNames()
	}
	arg = strings.TrimLeft(arg, " ")
	if strings.Contains(arg, " ") {
		return arg, nil
	}
	m := findMeta(name)
	if m == nil {
		return arg, nil
	}
	switch m.names[0] {
	case `\format`:
		return arg, []string{"table", "json", "csv"}
	case `\expand`, `\timing`:
		return arg, []string{"on", "off"}
	case `\describe`:
		return arg, tables
	case `\consistency`:
		return arg, []string{"default"}
	case `\help`:
		var topics []string
		for t := range statementTopics {
			topics = append(topics, t)
		}
		slices.Sort(topics)
		return arg, caseLike(topics, arg)
	}
	return arg, nil
}

// completeStatement completes a word of a statement: table names after
// FROM, INTO, TABLE…; otherwise the keywords the grammar accepts there
// (from the parser's "expected" list), or every keyword when it cannot
// tell. Keyword candidates take the case of the word typed.
func completeStatement(text, word string, tables []string) []string {
	_, cur := query.Split(text)
	fields := strings.Fields(cur)
	if len(fields) > 0 {
		prev := strings.ToUpper(fields[len(fields)-1])
		isCopy := strings.EqualFold(fields[0], "COPY")
		switch {
		case isCopy && (prev == "TO" || prev == "FROM"):
			return nil // a file name
		case slices.Contains(tableWords, prev):
			return tables
		}
	}
	_, err := query.Parse(cur)
	var qe *query.Error
	if errors.As(err, &qe) && len(qe.Expected) > 0 && qe.Pos.Offset >= len(strings.TrimRightFunc(cur, unicode.IsSpace)) {
		var kws []string
		for _, e := range qe.Expected {
			if isKeywordText(e) {
				kws = append(kws, e)
			}
		}
		return caseLike(kws, word) // empty when a name, string or '(' comes next
	}
	return caseLike(query.Keywords(), word)
}

// isKeywordText reports whether an "expected" entry is keywords (KEY,
// BEGINS WITH) rather than a token class (identifier, string, '(').
func isKeywordText(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r == ' ') {
			return false
		}
	}
	return s != ""
}

// caseLike rewrites the keywords that match word case-insensitively as
// word followed by the rest of the keyword, in lower case when the word's
// last letter is lower case; the others are dropped.
func caseLike(kws []string, word string) []string {
	lower := false
	for _, r := range word {
		if unicode.IsLetter(r) {
			lower = unicode.IsLower(r)
		}
	}
	out := make([]string, 0, len(kws))
	for _, k := range kws {
		if len(k) < len(word) || !strings.EqualFold(k[:len(word)], word) {
			continue
		}
		rest := k[len(word):]
		if lower {
			rest = strings.ToLower(rest)
		}
		out = append(out, word+rest)
	}
	return out
}

// filterPrefix keeps the candidates that start with word, exactly (the
// completion is appended to what was typed), without duplicates.
func filterPrefix(cands []string, word string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, word) && len(c) > 0 && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
