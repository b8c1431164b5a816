package query

import (
	"slices"
	"strconv"
	"strings"
)

// Participle reports a syntax error with the rest of the grammar sequence it
// could not match, as EBNF text ("KEY" "(" StringAST ...). Users need the
// tokens that could have come next ("expected KEY"), so this file computes
// the FIRST set of that EBNF, resolving production names through the whole
// grammar's EBNF (parser.String()). Participle's EBNF output is regular:
// literals are Go-quoted, token types are <lower>, productions are Names,
// groups are parenthesised and suffixed with ?, *, + or !. If a participle
// upgrade changed that, messages would lose their "expected" part and the
// golden tests would say so.

type firstSet struct {
	terms    []string // display names, in grammar order, no duplicates
	nullable bool
}

func (f *firstSet) add(terms []string) {
	for _, t := range terms {
		if !slices.Contains(f.terms, t) {
			f.terms = append(f.terms, t)
		}
	}
}

// ebnfGrammar holds the productions of the participle grammar.
type ebnfGrammar struct {
	prods map[string][]string // production name → tokenised right-hand side; read-only
}

// maxDepth guards against a recursive grammar; today's is not recursive.
const maxDepth = 32

// grammar is computed once from the built parser.
var grammar = newEBNFGrammar(parser.String())

func newEBNFGrammar(text string) *ebnfGrammar {
	g := &ebnfGrammar{prods: map[string][]string{}}
	for _, line := range strings.Split(text, "\n") {
		name, rhs, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		g.prods[name] = tokeniseEBNF(strings.TrimSuffix(rhs, " ."))
	}
	return g
}

// expected returns the display names of what may start the EBNF text.
func (g *ebnfGrammar) expected(text string) []string {
	f, _ := g.expr(tokeniseEBNF(text), 0, 0)
	return f.terms
}

func tokeniseEBNF(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(s))
			toks = append(toks, s[i:j])
			i = j
		case c == '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return append(toks, s[i:])
			}
			toks = append(toks, s[i:i+j+1])
			i += j + 1
		case isLetter(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			toks = append(toks, s[i:i+1])
			i++
		}
	}
	return toks
}

// expr parses alternatives: seq ("|" seq)*.
func (g *ebnfGrammar) expr(toks []string, i, depth int) (firstSet, int) {
	f, i := g.seq(toks, i, depth)
	for i < len(toks) && toks[i] == "|" {
		alt, next := g.seq(toks, i+1, depth)
		f.add(alt.terms)
		f.nullable = f.nullable || alt.nullable
		i = next
	}
	return f, i
}

// seq parses terms until "|" or ")"; its FIRST set stops growing at the
// first term that cannot be empty.
func (g *ebnfGrammar) seq(toks []string, i, depth int) (firstSet, int) {
	f := firstSet{nullable: true}
	for i < len(toks) && toks[i] != "|" && toks[i] != ")" {
		var t firstSet
		t, i = g.term(toks, i, depth)
		if f.nullable {
			f.add(t.terms)
			f.nullable = t.nullable
		}
	}
	return f, i
}

func (g *ebnfGrammar) term(toks []string, i, depth int) (firstSet, int) {
	var f firstSet
	switch tok := toks[i]; {
	case tok == "(":
		f, i = g.expr(toks, i+1, depth)
		if i < len(toks) && toks[i] == ")" {
			i++
		}
	case strings.HasPrefix(tok, `"`):
		f.add([]string{displayLiteral(tok)})
		i++
	case strings.HasPrefix(tok, "<"):
		f.add([]string{displayTokenType(tok)})
		i++
	case prodNames[tok] != "":
		f.add([]string{prodNames[tok]})
		i++
	case isLetter(tok[0]):
		f = g.production(tok, depth+1)
		i++
	default:
		i++ // stray punctuation: nothing to expect
		f.nullable = true
	}
	if i < len(toks) {
		switch toks[i] {
		case "?", "*":
			f.nullable = true
			i++
		case "+", "!":
			i++
		}
	}
	return f, i
}

func (g *ebnfGrammar) production(name string, depth int) firstSet {
	rhs, ok := g.prods[name]
	if !ok || depth > maxDepth {
		return firstSet{}
	}
	f, _ := g.expr(rhs, 0, depth)
	return f
}

// displayLiteral renders a grammar literal: keywords bare, punctuation quoted.
func displayLiteral(quoted string) string {
	s, err := strconv.Unquote(quoted)
	if err != nil {
		return quoted
	}
	if s != "" && isLetter(s[0]) {
		if p, ok := phrases[strings.ToUpper(s)]; ok {
			return p
		}
		return strings.ToUpper(s)
	}
	return "'" + s + "'"
}

// prodNames stands in for productions whose first tokens say less than
// their name: "expected option name" rather than "identifier or TTL".
var prodNames = map[string]string{
	"OptionAST": "option name",
}

// phrases completes keywords that only ever come in pairs.
var phrases = map[string]string{"BEGINS": "BEGINS WITH"}

var tokenTypeNames = map[string]string{
	"<ident>":   "identifier",
	"<qident>":  "identifier",
	"<keyword>": "keyword",
	"<string>":  "string",
	"<int>":     "integer",
	"<json>":    "JSON object",
}

func displayTokenType(ref string) string {
	if n, ok := tokenTypeNames[ref]; ok {
		return n
	}
	return strings.Trim(ref, "<>")
}
