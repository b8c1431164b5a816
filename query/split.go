package query

import "strings"

// Split cuts src into complete ';'-terminated statements and the unfinished
// tail, for a shell reading multi-line input. A ';' inside a string, a
// quoted name, a JSON object or a comment does not end a statement. Each
// statement is returned without its ';' and trimmed of surrounding
// whitespace; statements that hold only comments are dropped. rest is the
// text after the last terminating ';', unchanged.
//
// Split never fails: lexical errors are left for Parse to report with a
// position. An unterminated string or JSON object makes everything from the
// statement's start part of rest, since more input may close it.
func Split(src string) (stmts []string, rest string) {
	start, hasToken := 0, false
	for i := 0; i < len(src); {
		kind, end, incomplete := scanSpan(src, i)
		if incomplete {
			break
		}
		switch kind {
		case spanSpace, spanComment:
		case spanSemi:
			if hasToken {
				stmts = append(stmts, strings.TrimSpace(src[start:i]))
			}
			start, hasToken = end, false
		default:
			hasToken = true
		}
		i = end
	}
	return stmts, src[start:]
}

// Complete reports whether src holds at least one complete statement and
// nothing after the last one but whitespace and comments: the point at which
// a shell stops prompting for more lines.
func Complete(src string) bool {
	stmts, rest := Split(src)
	return len(stmts) > 0 && blank(rest)
}

// blank reports whether s is only whitespace and complete comments.
func blank(s string) bool {
	for i := 0; i < len(s); {
		kind, end, _ := scanSpan(s, i)
		if kind != spanSpace && kind != spanComment {
			return false
		}
		i = end
	}
	return true
}
