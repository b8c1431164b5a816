package query

import "strings"

// needWhere is the message for a SELECT that names neither a partition nor
// a scan: scanning a table is expensive, so it must be asked for.
const needWhere = "a query needs WHERE <partition key> = '...' to read one partition, or ALLOW SCAN to page through the whole table"

func buildSelect(a *selectAST) (Statement, *Error) {
	s := &Select{At: fromLexerPos(a.Pos), AllowScan: a.Scan != nil}
	var err *Error
	for _, p := range a.Columns {
		path := make(Path, len(p.Parts))
		for i, n := range p.Parts {
			if path[i], err = columnName(n); err != nil {
				return nil, err
			}
		}
		s.Columns = append(s.Columns, path)
	}
	if s.Table, err = tableName(a.Table); err != nil {
		return nil, err
	}
	switch {
	case a.Scan != nil && len(a.Where) > 0:
		return nil, errorf(fromLexerPos(a.Scan.Pos), "ALLOW SCAN cannot be combined with WHERE: a query by partition key needs no scan")
	case a.Scan == nil && len(a.Where) == 0:
		return nil, errorf(s.At, needWhere)
	}
	if s.PK, s.SK, err = buildWhere(a.Where); err != nil {
		return nil, err
	}
	if a.Order != nil {
		if s.AllowScan {
			return nil, errorf(fromLexerPos(a.Order.Pos), "ORDER BY needs WHERE <partition key> = '...': a scan returns items in no particular order")
		}
		if s.OrderBy, err = columnName(a.Order.Column); err != nil {
			return nil, err
		}
		s.OrderAt = fromLexerPos(a.Order.Column.Pos)
		s.Desc = strings.EqualFold(a.Order.Dir, "DESC")
	}
	if a.Limit != nil {
		if s.Limit, err = parseInt(a.Limit.Raw, fromLexerPos(a.Limit.Pos), "LIMIT", 1, int(^uint32(0)>>1)); err != nil {
			return nil, err
		}
	}
	if s.R, err = requestOption(a.With, "r"); err != nil {
		return nil, err
	}
	return s, nil
}

// buildWhere sorts the conditions into the partition-key equality and the
// optional sort-key condition. Which column is which is checked against the
// table later (Select.Bind); here only the shape is checked.
func buildWhere(conds []*condAST) (*Cond, *SortCond, *Error) {
	if len(conds) == 0 {
		return nil, nil, nil
	}
	if len(conds) > 2 {
		return nil, nil, errorf(fromLexerPos(conds[2].Pos),
			"too many conditions: a query takes WHERE <partition key> = '...' and at most one sort-key condition (use BETWEEN for a range)")
	}
	var cs []cond
	for _, a := range conds {
		c, err := parseCond(a)
		if err != nil {
			return nil, nil, err
		}
		cs = append(cs, c)
	}
	if len(cs) == 2 && cs[0].Column == cs[1].Column {
		col := quoteIdent(cs[1].Column)
		if cs[0].Op == OpEq && cs[1].Op == OpEq {
			// Two values of one key: an item has one, and a query reads
			// one partition key's items.
			return nil, nil, errorf(cs[1].At, "column %s has two conditions; an item has one %s, so give one value (a query reads one partition key's items)", col, col)
		}
		return nil, nil, errorf(cs[1].At, "column %s has two conditions; use %s BETWEEN '...' AND '...' for a range", col, col)
	}
	// The partition key is the first equality; the other condition, if any,
	// is on the sort key.
	pk := -1
	for i, c := range cs {
		if c.Op == OpEq {
			pk = i
			break
		}
	}
	if pk < 0 {
		return nil, nil, errorf(cs[0].At, "a query needs WHERE <partition key> = '...'; the %s condition on %s can only apply to the sort key",
			cs[0].Op, quoteIdent(cs[0].Column))
	}
	p := &Cond{At: cs[pk].At, Column: cs[pk].Column}
	var err *Error
	if p.Value, err = keyValue(cs[pk].lo, "partition key"); err != nil {
		return nil, nil, err
	}
	if len(cs) == 1 {
		return p, nil, nil
	}
	sc, err := cs[1-pk].sortCond()
	return p, sc, err
}

// cond is a condition whose values are not yet checked: the limits and the
// messages depend on whether it turns out to be the partition key's.
type cond struct {
	SortCond
	lo, hi *stringAST
}

func parseCond(a *condAST) (cond, *Error) {
	col, err := columnName(a.Column)
	if err != nil {
		return cond{}, err
	}
	c := cond{SortCond: SortCond{At: fromLexerPos(a.Pos), Column: col}}
	switch {
	case a.Between != nil:
		c.Op, c.lo, c.hi = OpBetween, a.Between.Lo, a.Between.Hi
	case a.Begins != nil:
		c.Op, c.lo = OpBeginsWith, a.Begins
	default:
		c.Op, c.lo = opFromText(a.Op), a.Value
	}
	return c, nil
}

// sortCond checks the bounds, which obey the key limits because they are
// compared with sort keys that do.
func (c cond) sortCond() (*SortCond, *Error) {
	sc := c.SortCond
	var err *Error
	if sc.Value, err = keyValue(c.lo, "sort key"); err != nil {
		return nil, err
	}
	if c.hi == nil {
		return &sc, nil
	}
	if sc.Value2, err = keyValue(c.hi, "sort key"); err != nil {
		return nil, err
	}
	if sc.Value > sc.Value2 {
		return nil, errorf(fromLexerPos(c.hi.Pos), "BETWEEN %s AND %s is empty: the lower bound comes first",
			truncate(quoteString(sc.Value)), truncate(quoteString(sc.Value2)))
	}
	return &sc, nil
}

func opFromText(s string) Op {
	for i, t := range opText {
		if t == s {
			return Op(i)
		}
	}
	return OpEq
}
