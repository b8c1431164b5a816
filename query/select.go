package query

import (
	"fmt"
	"strconv"
	"strings"
)

// Op is a sort-key comparison.
type Op int

const (
	OpEq Op = iota
	OpLt
	OpLe
	OpGt
	OpGe
	OpBetween    // Value <= sk <= Value2
	OpBeginsWith // sk starts with Value
)

var opText = [...]string{"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS WITH"}

// String renders the operator as written in a statement.
func (o Op) String() string {
	if o < 0 || int(o) >= len(opText) {
		return "Op(" + strconv.Itoa(int(o)) + ")"
	}
	return opText[o]
}

// Cond is the partition-key equality of a query.
type Cond struct {
	At     Position
	Column string
	Value  string // passed ValidateKey
}

// SortCond is the optional sort-key condition of a query.
type SortCond struct {
	At     Position
	Column string
	Op     Op
	Value  string
	Value2 string // upper bound, for OpBetween only
}

// Select is SELECT: a query within one partition (PK set) or, with
// AllowScan, a paged scan of the whole table (PK nil).
//
// The parser does not know the table's key names: PK and SK hold the columns
// as written (for two equalities, the first is taken as the partition key).
// The gateway calls Bind with the table's schema before running it.
type Select struct {
	At        Position
	Table     string
	Columns   []Path // nil means *
	PK        *Cond
	SK        *SortCond
	OrderBy   string // "" when there is no ORDER BY; else must be the sort key
	OrderAt   Position
	Desc      bool
	Limit     int // 0 means no limit
	AllowScan bool
	R         int // 0 means the table's R
}

// Bind checks the query's columns against the table's partition and sort
// key names (sortKey "" for a table without one). When both conditions are
// equalities written sort key first, it swaps them. Errors are *Error values
// pointing at the offending column.
func (s *Select) Bind(partitionKey, sortKey string) error {
	if s.PK != nil && s.SK != nil && s.SK.Op == OpEq &&
		s.PK.Column == sortKey && s.SK.Column == partitionKey {
		s.PK.Column, s.SK.Column = s.SK.Column, s.PK.Column
		s.PK.Value, s.SK.Value = s.SK.Value, s.PK.Value
		s.PK.At, s.SK.At = s.SK.At, s.PK.At
	}
	if s.PK != nil && s.PK.Column != partitionKey {
		return errorf(s.PK.At, "%s is not the partition key of table %s; a query needs WHERE %s = '...'",
			quoteIdent(s.PK.Column), quoteIdent(s.Table), quoteIdent(partitionKey))
	}
	if s.SK != nil && s.SK.Column != sortKey {
		if sortKey == "" {
			return errorf(s.SK.At, "table %s has no sort key; only WHERE %s = '...' is allowed",
				quoteIdent(s.Table), quoteIdent(partitionKey))
		}
		return errorf(s.SK.At, "%s is not the sort key of table %s (the sort key is %s)",
			quoteIdent(s.SK.Column), quoteIdent(s.Table), quoteIdent(sortKey))
	}
	if s.OrderBy != "" && s.OrderBy != sortKey {
		if sortKey == "" {
			return errorf(s.OrderAt, "table %s has no sort key to ORDER BY", quoteIdent(s.Table))
		}
		return errorf(s.OrderAt, "ORDER BY %s: items can only be ordered by the sort key %s",
			quoteIdent(s.OrderBy), quoteIdent(sortKey))
	}
	return nil
}

func (s *Select) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if s.Columns == nil {
		b.WriteString("*")
	}
	for i, p := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	b.WriteString(" FROM " + quoteIdent(s.Table))
	if s.PK != nil {
		b.WriteString(" WHERE " + quoteIdent(s.PK.Column) + " = " + quoteString(s.PK.Value))
	}
	if s.SK != nil {
		b.WriteString(" AND " + s.SK.String())
	}
	if s.AllowScan {
		b.WriteString(" ALLOW SCAN")
	}
	if s.OrderBy != "" {
		b.WriteString(" ORDER BY " + quoteIdent(s.OrderBy))
		if s.Desc {
			b.WriteString(" DESC")
		}
	}
	if s.Limit > 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(s.Limit))
	}
	b.WriteString(withClause("r", s.R))
	return b.String()
}

// String renders the condition as written in a WHERE clause.
func (c *SortCond) String() string {
	col := quoteIdent(c.Column)
	switch c.Op {
	case OpBetween:
		return fmt.Sprintf("%s BETWEEN %s AND %s", col, quoteString(c.Value), quoteString(c.Value2))
	case OpBeginsWith:
		return col + " BEGINS WITH " + quoteString(c.Value)
	}
	return col + " " + c.Op.String() + " " + quoteString(c.Value)
}
