package shell

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/query"
)

// plainStyle draws tables as psql and cqlsh do, with ASCII only and no
// escape codes, so that output is the same on a terminal and in a file.
var plainStyle = func() table.Style {
	st := table.StyleDefault
	st.Name = "ringtable"
	st.Format.Header = text.FormatDefault
	st.Format.Footer = text.FormatDefault
	st.Options = table.Options{SeparateColumns: true, SeparateHeader: true}
	return st
}()

// grid is a result laid out as columns and rows of display text, printed
// in the session's format.
type grid struct {
	header []string
	rows   [][]string
}

func (g *grid) add(cells ...string) { g.rows = append(g.rows, cells) }

// writeTable prints g as aligned columns.
func writeTable(w io.Writer, g *grid) {
	t := table.NewWriter()
	t.SetStyle(plainStyle)
	t.AppendHeader(toRow(g.header))
	for _, r := range g.rows {
		t.AppendRow(toRow(r))
	}
	lines := strings.Split(t.Render(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

func toRow(cells []string) table.Row {
	r := make(table.Row, len(cells))
	for i, c := range cells {
		r[i] = c
	}
	return r
}

// writeExpanded prints g one field per line, a block per row, like
// psql's \x.
func writeExpanded(w io.Writer, g *grid, first int) {
	width := 0
	for _, h := range g.header {
		width = max(width, text.StringWidth(h))
	}
	for i, r := range g.rows {
		fmt.Fprintf(w, "-[ RECORD %d ]%s\n", first+i, strings.Repeat("-", max(width+2, 12)))
		for j, h := range g.header {
			if j < len(r) {
				fmt.Fprintf(w, "%s%s | %s\n", h, strings.Repeat(" ", width-text.StringWidth(h)), r[j])
			}
		}
	}
}

// writeCSV prints g as RFC 4180 CSV with a header line.
func writeCSV(w io.Writer, g *grid) {
	cw := csv.NewWriter(w)
	_ = cw.Write(g.header)
	for _, r := range g.rows {
		_ = cw.Write(r)
	}
	cw.Flush()
}

// writeJSONLine prints v as one line of JSON.
func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(w, "{\"error\":%q}\n", err.Error())
		return
	}
	fmt.Fprintf(w, "%s\n", b)
}

// writeGrid prints g in the session's format; json is handled by callers,
// which know the objects behind the cells.
func (s *Shell) writeGrid(g *grid, first int) {
	switch {
	case s.format == FormatCSV:
		writeCSV(s.out(), g)
	case s.expand:
		writeExpanded(s.out(), g, first)
	default:
		writeTable(s.out(), g)
	}
}

// show prints a result that is not rows.
func (s *Shell) show(stmt query.Statement, res client.Result) {
	switch res.Kind {
	case client.KindTables:
		s.showTables(res.Tables)
	case client.KindTable:
		if res.Table != nil {
			s.showDescribe(*res.Table)
		}
	default:
		s.showOK(stmt, res)
	}
	s.showTrace(res.Trace)
}

func (s *Shell) showOK(stmt query.Statement, res client.Result) {
	msg := res.Message
	if msg == "" {
		msg = "OK"
	}
	if s.format == FormatJSON {
		writeJSONLine(s.out(), struct {
			Kind     string `json:"kind"`
			Message  string `json:"message"`
			Affected int    `json:"affected,omitempty"`
			Context  string `json:"context,omitempty"`
			Siblings int    `json:"siblings,omitempty"`
		}{res.Kind, msg, res.Affected, res.Context, res.Siblings})
		return
	}
	if k, ok := writtenKey(stmt); ok && res.Siblings > 1 {
		// The write met versions it does not supersede: say so now, not
		// at the next read.
		msg += fmt.Sprintf(" (%s has %d siblings now: versions this session had not read. GET it, then PUT the merged item)", k, res.Siblings)
	}
	s.notef("%s", msg)
}

// writtenKey is the item a PUT or DELETE wrote.
func writtenKey(stmt query.Statement) (itemKey, bool) {
	switch q := stmt.(type) {
	case *query.Put:
		return keyOf(q.Table, q.Key), true
	case *query.Delete:
		return keyOf(q.Table, q.Key), true
	}
	return itemKey{}, false
}

func (s *Shell) showTables(ts []client.Table) {
	if s.format == FormatJSON {
		for _, t := range ts {
			writeJSONLine(s.out(), t)
		}
		return
	}
	g := &grid{header: []string{"name", "partition key", "sort key", "n", "r", "w", "conflict", "ttl"}}
	for _, t := range ts {
		g.add(t.Name, t.PartitionKey, t.SortKey, itoa(t.N), itoa(t.R), itoa(t.W), t.Conflict, ttlText(t.TTL))
	}
	s.writeGrid(g, 1)
	if s.format == FormatTable {
		s.printf("(%s)\n", plural(len(ts), "table"))
	}
}

// showDescribe prints a table as the CREATE TABLE statement that makes it
// (as cqlsh's DESCRIBE does), then when it was created.
func (s *Shell) showDescribe(t client.Table) {
	switch {
	case s.format == FormatJSON:
		writeJSONLine(s.out(), t)
		return
	case s.format == FormatCSV || s.expand:
		g := &grid{header: []string{"name", "partition_key", "sort_key", "n", "r", "w", "conflict", "ttl", "max_siblings", "sibling_warn", "created"}}
		g.add(t.Name, t.PartitionKey, t.SortKey, itoa(t.N), itoa(t.R), itoa(t.W), t.Conflict, ttlText(t.TTL), itoa(t.MaxSiblings), itoa(t.SiblingWarn), timeText(t.Created))
		s.writeGrid(g, 1)
		return
	}
	ct := &query.CreateTable{Table: t.Name, PartitionKey: t.PartitionKey, SortKey: t.SortKey, N: t.N, R: t.R, W: t.W,
		Conflict: query.Conflict(t.Conflict), TTL: time.Duration(t.TTL) * time.Second, Strict: t.Strict,
		MaxSiblings: t.MaxSiblings, SiblingWarn: t.SiblingWarn}
	s.printf("%s;\n", ct)
	if !t.Created.IsZero() {
		s.printf("-- created %s\n", timeText(t.Created))
	}
}

// cell renders one JSON value for a table cell: strings bare, everything
// else as compact JSON; newlines and tabs are escaped to keep rows on one
// line.
func cell(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	var str string
	if v[0] == '"' && json.Unmarshal(v, &str) == nil {
		return printable(str)
	}
	var b bytes.Buffer
	if json.Compact(&b, v) == nil {
		return printable(b.String()) // JSON may hold DEL and C1 controls as they are
	}
	return printable(string(v))
}

// printable shows text from the data so that it cannot act on the
// terminal (an escape sequence in a value could retitle the window, move
// the cursor or clear the screen): control characters become escapes, and
// newlines and tabs too, to keep a row on one line.
func printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isControl reports the C0 controls, DEL and the C1 controls.
func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func ttlText(secs int64) string {
	if secs == 0 {
		return ""
	}
	return (time.Duration(secs) * time.Second).String()
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
