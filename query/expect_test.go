package query

import (
	"slices"
	"testing"
)

func TestExpected(t *testing.T) {
	tests := []struct {
		ebnf string
		want []string
	}{
		{`"KEY" "(" StringAST ")"`, []string{"KEY"}},
		{`("IF" "NOT" "EXISTS")? NameAST "("`, []string{"IF", "identifier"}},
		{`"TABLE"? NameAST`, []string{"TABLE", "identifier"}},
		{`(("=" | "<") StringAST) | ("BETWEEN" BetweenAST) | ("BEGINS" "WITH" StringAST)`,
			[]string{"'='", "'<'", "BETWEEN", "BEGINS WITH"}},
		{`OptionAST (","? OptionAST)*`, []string{"option name"}},
		{`ScanAST? OrderAST? ("LIMIT" IntAST)?`, []string{"ALLOW", "ORDER", "LIMIT"}},
		{`ValueAST`, []string{"integer", "string", "identifier"}},
		{`JsonAST`, []string{"JSON object"}},
		{`UnknownAST`, nil},
		{`(((`, nil},
		{`"unterminated`, []string{`"unterminated`}},
	}
	for _, tt := range tests {
		if got := grammar.expected(tt.ebnf); !slices.Equal(got, tt.want) {
			t.Errorf("expected(%s) = %q, want %q", tt.ebnf, got, tt.want)
		}
	}
}
