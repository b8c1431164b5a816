package query

import (
	"errors"
	"io"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The lexer is hand-written rather than participle's regexp lexer because a
// JSON object literal must become one token (balanced braces, JSON string
// escapes), and because Split needs the same scanner to tolerate unfinished
// input. The raw scanner (scanSpan) classifies spans without judging them;
// lex turns spans into participle tokens and reports lexical errors.

// spanKind classifies a span of source text.
type spanKind int

const (
	spanSpace spanKind = iota
	spanComment
	spanWord   // identifier or keyword
	spanQIdent // "quoted identifier"
	spanString // 'string'
	spanNumber // digits, possibly followed by letters (an error lex reports)
	spanJSON   // {...}
	spanSemi
	spanPunct // anything else: one operator or one character
)

// scanSpan returns the kind and end of the span that starts at src[i].
// incomplete is true when a string, quoted identifier or JSON object runs to
// the end of src; end is then len(src).
func scanSpan(src string, i int) (kind spanKind, end int, incomplete bool) {
	c := src[i]
	switch {
	case c == '-' && i+1 < len(src) && src[i+1] == '-':
		for end = i; end < len(src) && src[end] != '\n'; end++ {
		}
		return spanComment, end, false
	case isLetter(c):
		end = i + 1
		// A hyphen belongs to the word unless it starts a "--" comment.
		for end < len(src) && (isWordByte(src[end]) || src[end] == '-' && (end+1 >= len(src) || src[end+1] != '-')) {
			end++
		}
		return spanWord, end, false
	case isDigit(c):
		for end = i; end < len(src) && isWordByte(src[end]); end++ {
		}
		return spanNumber, end, false
	case c == '\'' || c == '"':
		end, incomplete = scanQuoted(src, i)
		if c == '"' {
			return spanQIdent, end, incomplete
		}
		return spanString, end, incomplete
	case c == '{':
		end, incomplete = scanJSON(src, i)
		return spanJSON, end, incomplete
	case c == ';':
		return spanSemi, i + 1, false
	case (c == '<' || c == '>') && i+1 < len(src) && src[i+1] == '=':
		return spanPunct, i + 2, false
	}
	r, size := utf8.DecodeRuneInString(src[i:])
	if isSpace(r) {
		for end = i + size; end < len(src); end += size {
			if r, size = utf8.DecodeRuneInString(src[end:]); !isSpace(r) {
				break
			}
		}
		return spanSpace, end, false
	}
	return spanPunct, i + size, false
}

// isSpace is white space, and the byte order mark that editors put at the
// start of a file of statements.
func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }

// scanQuoted scans a literal opened by src[i] and closed by the same quote,
// where a doubled quote stands for one (SQL style).
func scanQuoted(src string, i int) (end int, incomplete bool) {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		if src[j] != q {
			continue
		}
		if j+1 < len(src) && src[j+1] == q {
			j++
			continue
		}
		return j + 1, false
	}
	return len(src), true
}

// scanJSON finds the brace that closes the object opened at src[i]. Only
// braces count: brackets and everything else are left to encoding/json,
// which reports mistakes with a precise offset.
func scanJSON(src string, i int) (end int, incomplete bool) {
	depth := 0
	for j := i; j < len(src); j++ {
		switch src[j] {
		case '"':
			for j++; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' {
					j++
				}
			}
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return j + 1, false
			}
		}
	}
	return len(src), true
}

// Token types, shared with participle through lexDef.Symbols.
const (
	tokKeyword lexer.TokenType = iota + 1
	tokIdent
	tokQIdent
	tokString
	tokInt
	tokJSON
	tokPunct
	tokSemi // never reaches participle: Parse splits on it first
)

// lexDef tells participle the token types. Parse always hands participle a
// ready token slice (ParseFromLexer), so Lex is never used.
type lexDef struct{}

// Symbols builds the map on each call: the package-level parser is
// initialised through this method, before any package-level map would be.
func (lexDef) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":     lexer.EOF,
		"Keyword": tokKeyword,
		"Ident":   tokIdent,
		"QIdent":  tokQIdent,
		"String":  tokString,
		"Int":     tokInt,
		"JSON":    tokJSON,
		"Punct":   tokPunct,
	}
}

func (lexDef) Lex(string, io.Reader) (lexer.Lexer, error) {
	return nil, errors.New("query: tokens come from query.lex, not from a reader")
}

// sliceLexer replays lexed tokens to participle.
type sliceLexer struct {
	toks []lexer.Token
	i    int
}

func (l *sliceLexer) Next() (lexer.Token, error) {
	t := l.toks[l.i] // the last token is EOF and is never passed
	if l.i < len(l.toks)-1 {
		l.i++
	}
	return t, nil
}

// lex splits src into tokens, dropping whitespace and comments and keeping
// ';' as tokSemi. Token values are the source text, quotes included, so no
// string can ever equal a keyword literal in the grammar.
func lex(src string) ([]lexer.Token, *Error) {
	if err := checkUTF8(src); err != nil {
		return nil, err
	}
	var toks []lexer.Token
	pos := startPos
	for i := 0; i < len(src); {
		kind, end, incomplete := scanSpan(src, i)
		text := src[i:end]
		if incomplete {
			return nil, errorf(pos, "%s", unterminated[kind])
		}
		t := lexer.Token{Value: text, Pos: toLexerPos(pos)}
		pos, i = pos.advance(text), end
		switch kind {
		case spanSpace, spanComment:
			continue
		case spanWord:
			t.Type = tokIdent
			if isKeyword(text) {
				t.Type = tokKeyword
			}
		case spanQIdent:
			t.Type = tokQIdent
		case spanString:
			t.Type = tokString
		case spanNumber:
			for j := 0; j < len(text); j++ {
				if !isDigit(text[j]) {
					return nil, errorf(fromLexerPos(t.Pos), "invalid number %q: numbers are non-negative integers", text)
				}
			}
			t.Type = tokInt
		case spanJSON:
			t.Type = tokJSON
		case spanSemi:
			t.Type = tokSemi
		case spanPunct:
			if r, _ := utf8.DecodeRuneInString(text); unicode.IsControl(r) {
				return nil, errorf(fromLexerPos(t.Pos), "unexpected control character %U", r)
			}
			t.Type = tokPunct
		}
		toks = append(toks, t)
	}
	toks = append(toks, lexer.Token{Type: lexer.EOF, Pos: toLexerPos(pos)})
	return toks, nil
}

var unterminated = map[spanKind]string{
	spanString: "unterminated string: a ' opened here is never closed (write '' for a quote inside a string)",
	spanQIdent: "unterminated quoted identifier: a \" opened here is never closed",
	spanJSON:   "unterminated JSON object: the { opened here is never closed",
}

// checkUTF8 rejects invalid UTF-8 up front so that columns, quoting and JSON
// all see well-formed text.
func checkUTF8(src string) *Error {
	if utf8.ValidString(src) {
		return nil
	}
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && size == 1 {
			return errorf(startPos.advance(src[:i]), "invalid UTF-8 byte 0x%02x", src[i])
		}
		i += size
	}
	return nil
}

func toLexerPos(p Position) lexer.Position {
	return lexer.Position{Offset: p.Offset, Line: p.Line, Column: p.Column}
}

func fromLexerPos(p lexer.Position) Position {
	return Position{Offset: p.Offset, Line: p.Line, Column: p.Column}
}
