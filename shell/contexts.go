package shell

import "github.com/ringtable/ringtable/query"

// itemKey names one item of one table, exactly: table names and keys are
// compared byte for byte.
type itemKey struct {
	table  string
	pk, sk string
}

// String shows k in the shell's notes, its keys printable.
func (k itemKey) String() string {
	s := k.table + "/" + printable(k.pk)
	if k.sk != "" {
		s += "/" + printable(k.sk)
	}
	return s
}

func keyOf(table string, k query.Key) itemKey { return itemKey{table, k.Partition, k.Sort} }

// seen is a remembered context and what produced it.
type seen struct {
	token string
	from  string // "read" or "write"
	seq   uint64 // when it was remembered, to match order entries
}

type ordered struct {
	k   itemKey
	seq uint64
}

// contextMemory remembers the last context the session saw for each item,
// so that a PUT or DELETE without CONTEXT supersedes what the user last saw
// instead of making a sibling of it. It is bounded: past limit entries the
// oldest remembered are forgotten.
type contextMemory struct {
	limit int
	m     map[itemKey]seen
	order []ordered // oldest first; entries whose seq no longer matches m are stale
	seq   uint64
}

func newContextMemory(limit int) *contextMemory {
	return &contextMemory{limit: limit, m: map[itemKey]seen{}}
}

// remember records token for k; an empty token forgets k (a write that
// returned no context leaves nothing safe to reuse).
func (c *contextMemory) remember(k itemKey, token, from string) {
	if token == "" {
		c.forget(k)
		return
	}
	c.seq++
	c.m[k] = seen{token, from, c.seq}
	c.order = append(c.order, ordered{k, c.seq})
	for len(c.m) > c.limit && len(c.order) > 0 {
		if o := c.order[0]; c.m[o.k].seq == o.seq {
			delete(c.m, o.k)
		}
		c.order = c.order[1:]
	}
	if len(c.order) > 2*c.limit+16 {
		c.compact()
	}
}

func (c *contextMemory) lookup(k itemKey) (seen, bool) {
	s, ok := c.m[k]
	return s, ok
}

func (c *contextMemory) forget(k itemKey) { delete(c.m, k) }

// forgetTable drops every context of a table, when it is dropped or
// created: a new table's items share nothing with the old one's.
func (c *contextMemory) forgetTable(table string) {
	for k := range c.m {
		if k.table == table {
			delete(c.m, k)
		}
	}
	c.compact()
}

func (c *contextMemory) len() int { return len(c.m) }

// compact drops stale entries from order.
func (c *contextMemory) compact() {
	kept := make([]ordered, 0, len(c.m))
	for _, o := range c.order {
		if s, ok := c.m[o.k]; ok && s.seq == o.seq {
			kept = append(kept, o)
		}
	}
	c.order = kept
}
