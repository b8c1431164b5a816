package shell

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/query"
)

// rowsView collects the rows of a GET or SELECT (all pages in a script,
// one page at a time interactively) and prints them: one row per version,
// siblings numbered i/n, followed by how to resolve them.
type rowsView struct {
	s         *Shell
	table     string
	pkName    string
	skName    string
	schemaSK  bool     // the table has a sort key
	projected []string // SELECT's columns as the gateway names them; nil for *
	rows      []client.Row
	printed   int // rows printed by earlier flushes
	hinted    int // sibling hints printed
	moreHints int // sibling hints left out
}

// maxSiblingHints bounds the resolve hints printed after one result.
const maxSiblingHints = 5

func newRowsView(s *Shell, table string, schema client.Table, ok bool, projected []string) *rowsView {
	v := &rowsView{s: s, table: table, pkName: "pk", skName: "sk", projected: projected}
	if ok {
		v.pkName = schema.PartitionKey
		if schema.SortKey != "" {
			v.skName, v.schemaSK = schema.SortKey, true
		}
	}
	return v
}

func (v *rowsView) add(rows []client.Row) { v.rows = append(v.rows, rows...) }

// flush prints the rows collected so far; last adds the row count.
func (v *rowsView) flush(last bool) {
	s := v.s
	if len(v.rows) > 0 {
		switch s.format {
		case FormatJSON:
			for _, r := range v.rows {
				writeJSONLine(s.out(), r)
			}
		default:
			s.writeGrid(v.grid(), v.printed+1)
		}
	}
	v.printed += len(v.rows)
	if last && s.format == FormatTable {
		s.printf("(%s)\n", plural(v.printed, "row"))
	}
	v.hints()
	v.rows = v.rows[:0]
	if last && v.moreHints > 0 {
		s.notef("(and %s with siblings)", plural(v.moreHints, "more item"))
	}
}

// grid lays the rows out: key columns, the sibling column when an item
// has more than one version, then the item's attributes (the projection's
// columns, or every top-level attribute in order of first appearance).
func (v *rowsView) grid() *grid {
	hasSK, hasSiblings := v.schemaSK, false
	for _, r := range v.rows {
		hasSK = hasSK || r.SK != ""
		hasSiblings = hasSiblings || r.Siblings > 1
	}
	values := make([]orderedObject, len(v.rows))
	attrs := slices.Clone(v.projected)
	seen := map[string]bool{}
	for i, r := range v.rows {
		values[i] = decodeObject(r.Value)
		if v.projected != nil {
			continue
		}
		for _, f := range values[i] {
			if !seen[f.name] {
				seen[f.name] = true
				attrs = append(attrs, f.name)
			}
		}
	}
	attrs = slices.DeleteFunc(attrs, func(a string) bool { return v.keyAttribute(a, values) })
	g := &grid{header: []string{v.pkName}}
	if hasSK {
		g.header = append(g.header, v.skName)
	}
	if hasSiblings {
		g.header = append(g.header, "sibling")
	}
	for _, a := range attrs {
		g.header = append(g.header, printable(a))
	}
	expanded := v.s.expand && v.s.format == FormatTable
	if expanded {
		g.header = append(g.header, "modified", "context")
	}
	for i, r := range v.rows {
		cells := []string{printable(r.PK)}
		if hasSK {
			cells = append(cells, printable(r.SK))
		}
		if hasSiblings {
			sib := fmt.Sprintf("%d/%d", r.Sibling, r.Siblings)
			if r.Deleted {
				sib += " (deleted)"
			}
			cells = append(cells, sib)
		}
		for _, a := range attrs {
			cells = append(cells, cell(values[i].lookup(a)))
		}
		if expanded {
			cells = append(cells, timeText(r.Modified), r.Context)
		}
		g.add(cells...)
	}
	return g
}

// keyAttribute reports whether the attribute a only repeats a key column:
// it is named like one, and every row that has it holds that row's key.
// The gateway refuses items whose key attributes say otherwise, but items
// stored before it did may, and then the column stays.
func (v *rowsView) keyAttribute(a string, values []orderedObject) bool {
	if a != v.pkName && (!v.schemaSK || a != v.skName) {
		return false
	}
	for i, r := range v.rows {
		raw := values[i].lookup(a)
		if raw == nil {
			continue
		}
		key := r.PK
		if a != v.pkName {
			key = r.SK
		}
		var s string
		if json.Unmarshal(raw, &s) != nil || s != key {
			return false
		}
	}
	return true
}

// hints tells how to resolve each item with siblings: PUT the merged item
// with the context of this read, which the shell will also send by itself.
func (v *rowsView) hints() {
	done := map[itemKey]bool{}
	for _, r := range v.rows {
		k := itemKey{v.table, r.PK, r.SK}
		if r.Siblings < 2 || r.Sibling != 1 || done[k] {
			continue
		}
		done[k] = true
		if v.hinted == maxSiblingHints {
			v.moreHints++
			continue
		}
		v.hinted++
		put := &query.Put{Table: v.table, Key: query.Key{Partition: r.PK, Sort: r.SK}, Value: json.RawMessage("{...}"), Context: r.Context}
		v.s.notef("%s has %d siblings. To resolve them, PUT the merged item; the shell sends this read's context for you:\n  %s", k, r.Siblings, printable(put.String()))
	}
}

// orderedObject is a JSON object's members in their written order.
type orderedObject []member

type member struct {
	name  string
	value json.RawMessage
}

// decodeObject splits a JSON object into its members, keeping their order
// (encoding/json maps would sort them). Anything else yields nothing.
func decodeObject(raw json.RawMessage) orderedObject {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out orderedObject
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return out
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return out
		}
		out = append(out, member{name, v})
	}
	return out
}

// lookup finds an attribute by name; a dotted path ("b.c") that is not a
// member itself is followed into nested objects.
func (o orderedObject) lookup(name string) json.RawMessage {
	for _, m := range o {
		if m.name == name {
			return m.value
		}
	}
	head, rest, ok := strings.Cut(name, ".")
	if !ok {
		return nil
	}
	for _, m := range o {
		if m.name == head {
			return decodeObject(m.value).lookup(rest)
		}
	}
	return nil
}
