package shell

import (
	"context"
	"slices"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/query"
)

// The shell keeps the tenant's tables (from SHOW TABLES) for tab completion
// and to name the key columns of results, which carry only "pk" and "sk".

// refreshTables fetches the table list. Failure leaves the old list: the
// shell works without it, only less helpfully.
func (s *Shell) refreshTables(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := s.eval.Query(ctx, client.QueryRequest{Statement: (&query.ShowTables{}).String()})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.fetched = true // also on failure: retried after the next CREATE IF NOT EXISTS
	if err != nil {
		return err
	}
	if len(resp.Results) == 1 && resp.Results[0].Kind == client.KindTables {
		s.setTablesLocked(resp.Results[0].Tables)
	}
	return nil
}

func (s *Shell) setTables(ts []client.Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.fetched = true
	s.setTablesLocked(ts)
}

func (s *Shell) setTablesLocked(ts []client.Table) {
	s.mu.tables = make(map[string]client.Table, len(ts))
	for _, t := range ts {
		s.mu.tables[t.Name] = t
	}
}

// tableCreated and tableDropped keep the list current after CREATE and
// DROP without asking the gateway again.
func (s *Shell) tableCreated(t *client.Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t == nil {
		s.mu.fetched = false // CREATE IF NOT EXISTS of a table we may not know
		return
	}
	s.mu.tables[t.Name] = *t
}

func (s *Shell) tableDropped(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.tables, name)
}

// schema returns a table's definition, fetching the list once if the
// table is unknown; ok is false if it is still unknown.
func (s *Shell) schema(ctx context.Context, table string) (client.Table, bool) {
	s.mu.Lock()
	t, ok := s.mu.tables[table]
	fetched := s.mu.fetched
	s.mu.Unlock()
	if ok || fetched || table == "" {
		return t, ok
	}
	_ = s.refreshTables(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok = s.mu.tables[table]
	return t, ok
}

func (s *Shell) tablesFetched() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.fetched
}

// tableNames returns the known tables, sorted.
func (s *Shell) tableNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.mu.tables))
	for n := range s.mu.tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
