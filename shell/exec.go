package shell

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/query"
)

// execute runs one statement: shell-level ones here, the rest on the
// gateway. Errors are returned for report; results are printed.
func (s *Shell) execute(ctx context.Context, st stmtText) error {
	stmt, err := query.ParseOne(st.text)
	if err != nil {
		return err
	}
	switch q := stmt.(type) {
	case *query.Consistency:
		s.consistency(q)
		return nil
	case *query.Tracing:
		s.tracing = q.On
		s.notef("Tracing is %s.", onOff(q.On))
		return nil
	case *query.Watch:
		return s.watch(ctx, q)
	case *query.Copy:
		return s.copy(ctx, q)
	case *query.Put:
		return s.sendWrite(ctx, stmt, &q.Context, keyOf(q.Table, q.Key), st.text)
	case *query.Delete:
		return s.sendWrite(ctx, stmt, &q.Context, keyOf(q.Table, q.Key), st.text)
	}
	return s.send(ctx, stmt, st.text)
}

// sendWrite sends a PUT or DELETE, giving one without CONTEXT the last
// context the session saw for its item. The gateway refuses a remembered
// context that is no longer the item's (another session dropped the table
// and created it again): the write is then what it would have been without
// one, and is sent again so.
func (s *Shell) sendWrite(ctx context.Context, stmt query.Statement, field *string, k itemKey, text string) error {
	if *field != "" {
		return s.send(ctx, stmt, text)
	}
	seen, ok := s.contexts.lookup(k)
	if !ok {
		if _, del := stmt.(*query.Delete); del {
			return s.deleteWhatIsThere(ctx, stmt, field, k, text)
		}
		return s.send(ctx, stmt, text)
	}
	*field = seen.token
	s.notef("(using the context of your last %s of %s)", seen.from, k)
	err := s.send(ctx, stmt, stmt.String())
	var re *remoteError
	if !errors.As(err, &re) || re.qe.Code != "context_of_another_item" {
		return err
	}
	s.contexts.forget(k)
	*field = ""
	s.notef("(that context is no longer %s's: its table was created again since; writing without it)", k)
	return s.send(ctx, stmt, stmt.String())
}

// send runs a statement on the gateway and shows its results, fetching
// every page of a SELECT (or, interactively, as many as the user asks for).
func (s *Shell) send(ctx context.Context, stmt query.Statement, text string) error {
	req := client.QueryRequest{Statement: text, R: s.r, W: s.w, Trace: s.tracing}
	began := s.cfg.Now()
	resp, err := s.eval.Query(ctx, req)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var server float64
	if resp != nil {
		for _, res := range resp.Results {
			server += res.Millis
			if res.Kind == client.KindRows {
				var more float64
				var perr error
				if more, perr = s.showRows(ctx, stmt, req, res); perr != nil {
					return perr
				}
				server += more
			} else {
				s.show(stmt, res)
			}
			s.observe(stmt, res)
		}
	}
	if err != nil {
		var qe *client.QueryError
		if errors.As(err, &qe) {
			return &remoteError{sent: text, qe: qe}
		}
		return err
	}
	if s.timing {
		s.notef("Time: %s (gateway %.3f ms)", fmtMillis(s.cfg.Now().Sub(began)), server)
	}
	return nil
}

// showRows prints a rows result and, for a SELECT without LIMIT that has
// more pages, the following pages. It returns the gateway time of the
// extra pages.
func (s *Shell) showRows(ctx context.Context, stmt query.Statement, req client.QueryRequest, res client.Result) (float64, error) {
	table := tableOf(stmt)
	// The gateway's LIMIT is a page's size, as DynamoDB's Limit is; in the
	// shell it means what it means in SQL, how many items to show.
	limit := 0
	if sel, ok := stmt.(*query.Select); ok {
		limit = sel.Limit
	}
	schema, ok := s.schema(ctx, table)
	v := newRowsView(s, table, schema, ok, res.Columns)
	v.add(res.Rows)
	s.rememberRows(table, res.Rows)
	traces := [][]client.TraceEvent{res.Trace}
	flush := func(last bool) {
		v.flush(last)
		for _, tr := range traces {
			s.showTrace(tr)
		}
		traces = traces[:0]
	}
	// A page can hold fewer items than the LIMIT (a table scan's page ends
	// early on a sparse table or a slow request rate): the next pages
	// fill it.
	items, truncated := countItems(res.Rows), false
	var millis float64
	for page := 1; res.Next != ""; page++ {
		if limit > 0 && items >= limit {
			flush(true)
			s.notef("(LIMIT %d reached: there may be more rows)", limit)
			return millis, nil
		}
		if limit == 0 && s.cfg.Interactive {
			flush(false)
			if !s.more() {
				s.notef("(stopped; more rows remain)")
				return millis, nil
			}
		}
		req.Cursor = res.Next
		// The statement's later pages are the shell's own requests: one
		// over the tenant's rate waits, as COPY's do.
		resp, err := s.bulkQuery(ctx, req)
		if ctx.Err() != nil {
			return millis, ctx.Err()
		}
		if err != nil {
			var qe *client.QueryError
			if errors.As(err, &qe) {
				return millis, fmt.Errorf("fetching page %d: %s", page+1, qe.Message)
			}
			return millis, err
		}
		if len(resp.Results) != 1 {
			return millis, fmt.Errorf("fetching page %d: the gateway answered %d results", page+1, len(resp.Results))
		}
		res = resp.Results[0]
		millis += res.Millis
		rows := res.Rows
		if limit > 0 {
			rows = firstItems(rows, limit-items)
			truncated = len(rows) < len(res.Rows)
		}
		items += countItems(rows)
		v.add(rows)
		s.rememberRows(table, rows)
		traces = append(traces, res.Trace)
	}
	flush(true)
	if truncated {
		s.notef("(LIMIT %d reached: there may be more rows)", limit)
	}
	return millis, nil
}

// countItems counts the items of rows, which hold one row per sibling.
func countItems(rows []client.Row) int {
	n := 0
	for _, r := range rows {
		if r.Sibling <= 1 {
			n++
		}
	}
	return n
}

// firstItems returns the rows of the first n items.
func firstItems(rows []client.Row, n int) []client.Row {
	for i, r := range rows {
		if r.Sibling <= 1 {
			if n == 0 {
				return rows[:i]
			}
			n--
		}
	}
	return rows
}

// more asks whether to fetch the next page.
func (s *Shell) more() bool {
	s.reader.history(false)
	defer s.reader.history(true)
	line, err := s.reader.readLine("-- more -- (Enter for the next page, q to stop) ")
	return err == nil && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "q")
}

// deleteWhatIsThere sends a DELETE of an item the session has not read
// with the context of a read made for it: without one, the delete would be
// concurrent with every version there, which would stay beside it as
// siblings, where a user deleting an item means it to go. If the read
// fails (the item's replicas short of a read quorum), the delete goes
// without a context, as a write may when a read cannot.
func (s *Shell) deleteWhatIsThere(ctx context.Context, stmt query.Statement, field *string, k itemKey, text string) error {
	get := &query.Get{Table: k.table, Key: query.Key{Partition: k.pk, Sort: k.sk}}
	resp, err := s.eval.Query(ctx, client.QueryRequest{Statement: get.String(), R: s.r})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		var qe *client.QueryError
		if !errors.As(err, &qe) || qe.Code != "quorum_not_met" {
			return s.send(ctx, stmt, text) // the delete's own answer says what is wrong
		}
		s.notef("(could not read %s first: deleting without a context, beside any version there)", k)
		return s.send(ctx, stmt, text)
	case len(resp.Results) != 1 || len(resp.Results[0].Rows) == 0:
		return s.send(ctx, stmt, text) // nothing there
	}
	rows := resp.Results[0].Rows
	*field = rows[0].Context
	if n := len(rows); n > 1 {
		s.notef("(deleting the %d versions of %s a read found)", n, k)
	}
	return s.send(ctx, stmt, stmt.String())
}

// confirm asks a yes-or-no question at the terminal; only yes is yes.
func (s *Shell) confirm(question string) bool {
	s.reader.history(false)
	defer s.reader.history(true)
	line, err := s.reader.readLine(question)
	answer := strings.ToLower(strings.TrimSpace(line))
	return err == nil && (answer == "y" || answer == "yes")
}

// observe updates the session from a result: contexts of writes, the
// table list after CREATE and DROP.
func (s *Shell) observe(stmt query.Statement, res client.Result) {
	switch q := stmt.(type) {
	case *query.Put:
		s.contexts.remember(keyOf(q.Table, q.Key), res.Context, "write")
	case *query.Delete:
		s.contexts.remember(keyOf(q.Table, q.Key), res.Context, "write")
	case *query.Get:
		if len(res.Rows) == 0 {
			s.contexts.forget(keyOf(q.Table, q.Key))
		}
	case *query.CreateTable:
		s.contexts.forgetTable(q.Table)
		s.tableCreated(res.Table)
	case *query.DropTable:
		s.contexts.forgetTable(q.Table)
		s.tableDropped(q.Table)
	case *query.ShowTables:
		s.setTables(res.Tables)
	}
}

func (s *Shell) rememberRows(table string, rows []client.Row) {
	for _, r := range rows {
		s.contexts.remember(itemKey{table, r.PK, r.SK}, r.Context, "read")
	}
}

// consistency runs CONSISTENCY: set the session's quorums, or show them.
func (s *Shell) consistency(q *query.Consistency) {
	if q.R != 0 {
		s.r = q.R
	}
	if q.W != 0 {
		s.w = q.W
	}
	verb := "is now"
	if q.R == 0 && q.W == 0 {
		verb = "is"
	}
	s.notef("Consistency %s r = %s, w = %s.", verb, quorum(s.r), quorum(s.w))
}

func quorum(v int) string {
	if v == 0 {
		return "the table's"
	}
	return fmt.Sprint(v)
}

func tableOf(stmt query.Statement) string {
	switch q := stmt.(type) {
	case *query.Get:
		return q.Table
	case *query.Select:
		return q.Table
	}
	return ""
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func fmtMillis(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
