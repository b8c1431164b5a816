package query

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Statement is one validated statement. The concrete types are *CreateTable,
// *DropTable, *ShowTables, *Describe, *Put, *Get, *Select, *Delete and the
// shell-level *Consistency, *Tracing, *Watch and *Copy.
type Statement interface {
	// Pos is the position of the statement's first token in the input.
	Pos() Position
	// String renders canonical text that parses back to an equal statement.
	String() string
	stmt()
}

// ShellOnly reports whether s is a shell-level statement, which the shell
// runs itself and the gateway refuses.
func ShellOnly(s Statement) bool {
	switch s.(type) {
	case *Consistency, *Tracing, *Watch, *Copy:
		return true
	}
	return false
}

// Conflict is a table's policy for concurrent versions.
type Conflict string

const (
	// ConflictSiblings keeps every causally concurrent version (the default).
	ConflictSiblings Conflict = "siblings"
	// ConflictLWW keeps the version with the highest hybrid logical clock.
	ConflictLWW Conflict = "lww"
)

// CreateTable is CREATE TABLE. Defaults are resolved: N, R, W and Conflict
// are always set.
type CreateTable struct {
	At           Position
	Table        string
	IfNotExists  bool
	PartitionKey string
	SortKey      string // "" when the table has no sort key
	N, R, W      int
	Conflict     Conflict
	TTL          time.Duration // default item TTL; 0 means items never expire
	Strict       bool
	// MaxSiblings and SiblingWarn bound an item's concurrent versions and
	// when a write warns of them; 0 leaves them to the gateway's defaults.
	MaxSiblings, SiblingWarn int
}

// DropTable is DROP TABLE.
type DropTable struct {
	At       Position
	Table    string
	IfExists bool
}

// ShowTables is SHOW TABLES.
type ShowTables struct{ At Position }

// Describe is DESCRIBE [TABLE].
type Describe struct {
	At    Position
	Table string
}

// Key is an item's primary key. Both parts have passed ValidateKey.
type Key struct {
	Partition string
	Sort      string // "" when the statement gave no sort key
}

// Put is PUT INTO. R and W fields here and below are per-request overrides:
// 0 means the table's setting, otherwise 1..MaxN (the gateway checks ≤ n).
type Put struct {
	At      Position
	Table   string
	Key     Key
	Value   json.RawMessage // a compacted JSON object of at most MaxItemSize bytes
	Context string          // opaque token from a read; "" for a blind write
	TTL     time.Duration   // meaningful only when HasTTL
	HasTTL  bool            // TTL given; TTL 0 then means "never expire"
	W       int
}

// Get is GET FROM.
type Get struct {
	At    Position
	Table string
	Key   Key
	R     int
}

// Delete is DELETE FROM.
type Delete struct {
	At      Position
	Table   string
	Key     Key
	Context string
	W       int
}

// Consistency is the shell's CONSISTENCY. A zero R or W leaves that setting
// unchanged; with both zero the shell shows the current settings.
type Consistency struct {
	At   Position
	R, W int
}

// Tracing is the shell's TRACING ON|OFF.
type Tracing struct {
	At Position
	On bool
}

// Watch is the shell's WATCH: follow a table's change feed.
type Watch struct {
	At    Position
	Table string
}

// CopyDirection says which way COPY moves items.
type CopyDirection int

const (
	CopyTo   CopyDirection = iota // export the table to a file
	CopyFrom                      // import a file into the table
)

// Copy is the shell's COPY t TO|FROM 'file'.
type Copy struct {
	At    Position
	Table string
	Dir   CopyDirection
	File  string
}

func (s *CreateTable) Pos() Position { return s.At }
func (s *DropTable) Pos() Position   { return s.At }
func (s *ShowTables) Pos() Position  { return s.At }
func (s *Describe) Pos() Position    { return s.At }
func (s *Put) Pos() Position         { return s.At }
func (s *Get) Pos() Position         { return s.At }
func (s *Select) Pos() Position      { return s.At }
func (s *Delete) Pos() Position      { return s.At }
func (s *Consistency) Pos() Position { return s.At }
func (s *Tracing) Pos() Position     { return s.At }
func (s *Watch) Pos() Position       { return s.At }
func (s *Copy) Pos() Position        { return s.At }

func (*CreateTable) stmt() {}
func (*DropTable) stmt()   {}
func (*ShowTables) stmt()  {}
func (*Describe) stmt()    {}
func (*Put) stmt()         {}
func (*Get) stmt()         {}
func (*Select) stmt()      {}
func (*Delete) stmt()      {}
func (*Consistency) stmt() {}
func (*Tracing) stmt()     {}
func (*Watch) stmt()       {}
func (*Copy) stmt()        {}

func (s *CreateTable) String() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	if s.IfNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	b.WriteString(quoteIdent(s.Table) + " (" + quoteIdent(s.PartitionKey) + " PARTITION KEY")
	if s.SortKey != "" {
		b.WriteString(", " + quoteIdent(s.SortKey) + " SORT KEY")
	}
	b.WriteString(") WITH n = " + strconv.Itoa(s.N) + ", r = " + strconv.Itoa(s.R) + ", w = " + strconv.Itoa(s.W))
	b.WriteString(", conflict = " + quoteString(string(s.Conflict)))
	if s.TTL > 0 {
		b.WriteString(", ttl = " + seconds(s.TTL))
	}
	if s.Strict {
		b.WriteString(", strict = true")
	}
	if s.MaxSiblings > 0 {
		b.WriteString(", max_siblings = " + strconv.Itoa(s.MaxSiblings))
	}
	if s.SiblingWarn > 0 {
		b.WriteString(", sibling_warn = " + strconv.Itoa(s.SiblingWarn))
	}
	return b.String()
}

func (s *DropTable) String() string {
	if s.IfExists {
		return "DROP TABLE IF EXISTS " + quoteIdent(s.Table)
	}
	return "DROP TABLE " + quoteIdent(s.Table)
}

func (s *ShowTables) String() string { return "SHOW TABLES" }
func (s *Describe) String() string   { return "DESCRIBE " + quoteIdent(s.Table) }

func (s *Put) String() string {
	b := "PUT INTO " + quoteIdent(s.Table) + " " + s.Key.String() + " VALUE " + string(s.Value)
	if s.Context != "" {
		b += " CONTEXT " + quoteString(s.Context)
	}
	if s.HasTTL {
		b += " TTL " + seconds(s.TTL)
	}
	return b + withClause("w", s.W)
}

func (s *Get) String() string {
	return "GET FROM " + quoteIdent(s.Table) + " " + s.Key.String() + withClause("r", s.R)
}

func (s *Delete) String() string {
	b := "DELETE FROM " + quoteIdent(s.Table) + " " + s.Key.String()
	if s.Context != "" {
		b += " CONTEXT " + quoteString(s.Context)
	}
	return b + withClause("w", s.W)
}

func (s *Consistency) String() string {
	var opts []string
	if s.R != 0 {
		opts = append(opts, "r = "+strconv.Itoa(s.R))
	}
	if s.W != 0 {
		opts = append(opts, "w = "+strconv.Itoa(s.W))
	}
	if len(opts) == 0 {
		return "CONSISTENCY"
	}
	return "CONSISTENCY " + strings.Join(opts, ", ")
}

func (s *Tracing) String() string {
	if s.On {
		return "TRACING ON"
	}
	return "TRACING OFF"
}

func (s *Watch) String() string { return "WATCH " + quoteIdent(s.Table) }

func (s *Copy) String() string {
	dir := " TO "
	if s.Dir == CopyFrom {
		dir = " FROM "
	}
	return "COPY " + quoteIdent(s.Table) + dir + quoteString(s.File)
}

// String renders KEY ('p'[, 's']).
func (k Key) String() string {
	if k.Sort == "" {
		return "KEY (" + quoteString(k.Partition) + ")"
	}
	return "KEY (" + quoteString(k.Partition) + ", " + quoteString(k.Sort) + ")"
}

// withClause renders a per-request override, or nothing for the default.
func withClause(name string, v int) string {
	if v == 0 {
		return ""
	}
	return " WITH " + name + " = " + strconv.Itoa(v)
}

func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }
