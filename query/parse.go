package query

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parse parses one or more ';'-separated statements (a trailing ';' is
// optional; empty statements between semicolons are skipped). It returns
// the first error, always as an *Error positioned in src.
func Parse(src string) ([]Statement, error) {
	stmts, err := parse(src)
	if err != nil {
		return nil, err
	}
	return stmts, nil
}

// ParseOne parses exactly one statement, with or without a trailing ';'.
func ParseOne(src string) (Statement, error) {
	stmts, err := parse(src)
	if err != nil {
		return nil, err
	}
	if len(stmts) > 1 {
		return nil, errorf(stmts[1].Pos(), "expected a single statement, but another one starts here")
	}
	return stmts[0], nil
}

func parse(src string) ([]Statement, *Error) {
	if len(src) > MaxStatementSize {
		return nil, errorf(startPos, "input is %d bytes; the limit for a statement is %d bytes (1 MiB)", len(src), MaxStatementSize)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	// Statements are split on ';' tokens before participle sees them: the
	// lexer has already swallowed every ';' inside strings, names and JSON,
	// and positions stay relative to the whole input.
	var stmts []Statement
	start := 0
	for i, t := range toks {
		if t.Type != tokSemi && t.Type != lexer.EOF {
			if i-start == MaxTokens {
				return nil, errorf(fromLexerPos(t.Pos), "statement has more than %d tokens; the limit keeps parsing cheap", MaxTokens)
			}
			continue
		}
		if i > start {
			s, err := parseStatement(segment(toks[start:i], t))
			if err != nil {
				return nil, err
			}
			stmts = append(stmts, s)
		}
		start = i + 1
	}
	if len(stmts) == 0 {
		end := toks[len(toks)-1]
		expected := grammar.expected("StmtAST")
		return nil, &Error{Pos: fromLexerPos(end.Pos), Msg: expectedMsg(expected, "end of input"), Expected: expected}
	}
	return stmts, nil
}

// segment copies one statement's tokens and ends them with an EOF token:
// at the ';' when there is one (so "found ';'" points at it), otherwise just
// after the last token rather than after trailing blank lines.
func segment(toks []lexer.Token, term lexer.Token) []lexer.Token {
	seg := make([]lexer.Token, len(toks), len(toks)+1)
	copy(seg, toks)
	eof := lexer.Token{Type: lexer.EOF, Pos: term.Pos}
	if term.Type == tokSemi {
		eof.Value = ";"
	} else {
		last := toks[len(toks)-1]
		eof.Pos = toLexerPos(fromLexerPos(last.Pos).advance(last.Value))
	}
	return append(seg, eof)
}

func parseStatement(toks []lexer.Token) (Statement, *Error) {
	pl, err := lexer.Upgrade(&sliceLexer{toks: toks})
	if err != nil {
		return nil, errorf(fromLexerPos(toks[0].Pos), "%v", err) // sliceLexer never fails
	}
	ast, err := parser.ParseFromLexer(pl)
	if err != nil {
		return nil, syntaxError(err, toks)
	}
	return build(ast)
}

// sqlWrites are other languages' writes, which PUT does here.
var sqlWrites = map[string]bool{"INSERT": true, "UPDATE": true, "UPSERT": true, "REPLACE": true}

// sqlAggregates are functions other shells take in a SELECT's list.
var sqlAggregates = map[string]bool{"COUNT": true, "SUM": true, "MIN": true, "MAX": true, "AVG": true}

// syntaxError turns participle's error into an *Error that says what was
// expected, in the user's terms.
func syntaxError(err error, toks []lexer.Token) *Error {
	first := toks[0]
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		var expected []string
		if text, ok := expectedEBNF(ute); ok {
			expected = grammar.expected(text)
		}
		if len(expected) == 0 {
			// participle names nothing when no statement matched at all, or
			// when a complete statement is followed by more tokens.
			expected = []string{"end of statement"}
			if ute.Unexpected.Pos.Offset == first.Pos.Offset {
				expected = grammar.expected("StmtAST")
			}
		}
		found := describeToken(ute.Unexpected)
		msg := expectedMsg(expected, found)
		// SQL's habits, which users bring from other shells.
		switch tok := ute.Unexpected; {
		case tok.Type == tokQIdent && slices.Contains(expected, "string"):
			msg += ": strings are in single quotes ('…'), double quotes name attributes"
		case tok.Type == tokInt && slices.Contains(expected, "string"):
			msg += ": keys are text, in single quotes ('" + truncate(tok.Value) + "')"
		case tok.Pos.Offset == first.Pos.Offset && sqlWrites[strings.ToUpper(tok.Value)]:
			msg += ": items are written with PUT INTO table KEY ('…') VALUE {…}, which adds or replaces one"
		case tok.Value == "(" && sqlAggregates[strings.ToUpper(tokenBefore(toks, tok).Value)]:
			msg += ": a SELECT lists attributes, not functions such as " + strings.ToUpper(tokenBefore(toks, tok).Value) +
				"; the shell counts the rows it shows"
		}
		return &Error{Pos: fromLexerPos(ute.Unexpected.Pos), Msg: msg, Expected: expected}
	}
	var perr participle.Error
	if errors.As(err, &perr) {
		return &Error{Pos: fromLexerPos(perr.Position()), Msg: perr.Message()}
	}
	return &Error{Pos: fromLexerPos(first.Pos), Msg: err.Error()}
}

// tokenBefore is the token just before tok in toks, or the zero token.
func tokenBefore(toks []lexer.Token, tok lexer.Token) lexer.Token {
	for i := 1; i < len(toks); i++ {
		if toks[i].Pos.Offset == tok.Pos.Offset {
			return toks[i-1]
		}
	}
	return lexer.Token{}
}

// expectedEBNF extracts the EBNF participle put in its message; the field
// that holds it is unexported, the message format is not.
func expectedEBNF(ute *participle.UnexpectedTokenError) (string, bool) {
	if ute.Expect != "" {
		return ute.Expect, true
	}
	prefix := fmt.Sprintf("unexpected token %q (expected ", ute.Unexpected)
	msg := ute.Message()
	if !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, ")") {
		return "", false
	}
	return msg[len(prefix) : len(msg)-1], true
}

// describeToken names a token the way a user would recognise it.
func describeToken(t lexer.Token) string {
	switch t.Type {
	case lexer.EOF:
		if t.Value == ";" {
			return "';'"
		}
		return "end of input"
	case tokString:
		return "string " + truncate(t.Value)
	case tokJSON:
		return "JSON object"
	case tokKeyword:
		return "keyword " + strings.ToUpper(t.Value)
	case tokQIdent:
		return truncate(t.Value)
	}
	return "'" + truncate(t.Value) + "'"
}
