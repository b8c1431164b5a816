package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Position locates a character in the text handed to Parse. Offset is in
// bytes from 0; Line and Column start at 1 and Column counts characters
// (runes), which is what an editor or terminal shows.
type Position struct {
	Offset, Line, Column int
}

// String renders "line L, column C".
func (p Position) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Column) }

// advance returns the position just after text, which starts at p.
func (p Position) advance(text string) Position {
	p.Offset += len(text)
	if nl := strings.LastIndexByte(text, '\n'); nl >= 0 {
		p.Line += strings.Count(text, "\n")
		p.Column = 1 + utf8.RuneCountInString(text[nl+1:])
	} else {
		p.Column += utf8.RuneCountInString(text)
	}
	return p
}

// startPos is where every input begins.
var startPos = Position{Offset: 0, Line: 1, Column: 1}

// Error is the only error type Parse and ParseOne return: a syntax or
// validation error at a position in the input. ValidateName, ValidateKey and
// ValidateItem return it too; Pos.Line is 0 when there is no source text.
type Error struct {
	Pos Position
	// Msg says what was wrong, e.g. "expected KEY but found 'VALUES'".
	Msg string
	// Expected lists what the grammar would have accepted at Pos, for syntax
	// errors only (tab completion and tests use it).
	Expected []string
	// TooLarge marks an input over a size limit, which HTTP tells apart
	// from other bad input (413, not 400).
	TooLarge bool
}

// Error renders "line 1, column 17: expected KEY but found 'VALUES'".
func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// errorf builds an *Error at pos.
func errorf(pos Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// at places a position-less error (from checkName, checkKey) at pos.
func (e *Error) at(pos Position) *Error {
	e.Pos = pos
	return e
}

// expectedMsg renders "expected A, B or C but found X".
func expectedMsg(expected []string, found string) string {
	var b strings.Builder
	b.WriteString("expected ")
	for i, e := range expected {
		switch {
		case i == 0:
		case i == len(expected)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(e)
	}
	b.WriteString(" but found ")
	b.WriteString(found)
	return b.String()
}

// truncate shortens long token text in messages; a 2 KiB key quoted back at
// the user helps nobody.
func truncate(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit-3 {
			return s[:i] + "..."
		}
		n++
	}
	return s
}
