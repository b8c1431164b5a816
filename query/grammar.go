package query

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar below is the raw syntax tree: captures are source text (quotes
// included) and are checked and converted in validate.go. Nothing is
// captured into numbers here, so participle never fails on a conversion and
// every range check has one place and one message.
//
// NB: the grammar is LL(1) and the parser runs with lookahead 0, so a branch
// that has consumed a token is committed. That makes participle report the
// error where it actually is ("WITH" followed by nothing fails at the end,
// not at "WITH").

// stmtAST is one statement; Parse feeds participle one ';'-separated
// segment at a time.
type stmtAST struct {
	Pos         lexer.Position
	Create      *createAST      `parser:"  @@"`
	Drop        *dropAST        `parser:"| @@"`
	Show        *showAST        `parser:"| @@"`
	Describe    *describeAST    `parser:"| @@"`
	Put         *putAST         `parser:"| @@"`
	Get         *getAST         `parser:"| @@"`
	Select      *selectAST      `parser:"| @@"`
	Delete      *deleteAST      `parser:"| @@"`
	Consistency *consistencyAST `parser:"| @@"`
	Tracing     *tracingAST     `parser:"| @@"`
	Watch       *watchAST       `parser:"| @@"`
	Copy        *copyAST        `parser:"| @@"`
}

type createAST struct {
	Pos         lexer.Position
	IfNotExists bool         `parser:"'CREATE' 'TABLE' @( 'IF' 'NOT' 'EXISTS' )?"`
	Table       *nameAST     `parser:"@@"`
	Keys        []*keyDefAST `parser:"'(' @@ ( ',' @@ )* ')'"`
	With        []*optionAST `parser:"( 'WITH' @@ ( ','? @@ )* )?"`
}

type keyDefAST struct {
	Pos  lexer.Position
	Name *nameAST `parser:"@@"`
	Kind string   `parser:"@( 'PARTITION' | 'SORT' ) 'KEY'"`
}

type dropAST struct {
	Pos      lexer.Position
	IfExists bool     `parser:"'DROP' 'TABLE' @( 'IF' 'EXISTS' )?"`
	Table    *nameAST `parser:"@@"`
}

type showAST struct {
	Pos    lexer.Position
	Tables bool `parser:"'SHOW' @'TABLES'"`
}

type describeAST struct {
	Pos   lexer.Position
	Table *nameAST `parser:"'DESCRIBE' 'TABLE'? @@"`
}

type putAST struct {
	Pos     lexer.Position
	Table   *nameAST     `parser:"'PUT' 'INTO' @@"`
	Key     *keyAST      `parser:"@@"`
	Value   *jsonAST     `parser:"'VALUE' @@"`
	Context *stringAST   `parser:"( 'CONTEXT' @@ )?"`
	TTL     *intAST      `parser:"( 'TTL' @@ )?"`
	With    []*optionAST `parser:"( 'WITH' @@ ( ','? @@ )* )?"`
}

type getAST struct {
	Pos   lexer.Position
	Table *nameAST     `parser:"'GET' 'FROM' @@"`
	Key   *keyAST      `parser:"@@"`
	With  []*optionAST `parser:"( 'WITH' @@ ( ','? @@ )* )?"`
}

type deleteAST struct {
	Pos     lexer.Position
	Table   *nameAST     `parser:"'DELETE' 'FROM' @@"`
	Key     *keyAST      `parser:"@@"`
	Context *stringAST   `parser:"( 'CONTEXT' @@ )?"`
	With    []*optionAST `parser:"( 'WITH' @@ ( ','? @@ )* )?"`
}

type selectAST struct {
	Pos     lexer.Position
	Star    bool         `parser:"'SELECT' ( @'*'"`
	Columns []*pathAST   `parser:"  | @@ ( ',' @@ )* )"`
	Table   *nameAST     `parser:"'FROM' @@"`
	Where   []*condAST   `parser:"( 'WHERE' @@ ( 'AND' @@ )* )?"`
	Scan    *scanAST     `parser:"@@?"`
	Order   *orderAST    `parser:"@@?"`
	Limit   *intAST      `parser:"( 'LIMIT' @@ )?"`
	With    []*optionAST `parser:"( 'WITH' @@ ( ','? @@ )* )?"`
}

// scanAST is a struct only so that ALLOW SCAN keeps its position for errors.
type scanAST struct {
	Pos   lexer.Position
	Allow bool `parser:"@'ALLOW' 'SCAN'"`
}

type orderAST struct {
	Pos    lexer.Position
	Column *nameAST `parser:"'ORDER' 'BY' @@"`
	Dir    string   `parser:"@( 'ASC' | 'DESC' )?"`
}

// condAST is one WHERE condition. Which column is the partition key and which
// the sort key is decided in validate.go and checked against the table by
// the gateway.
type condAST struct {
	Pos     lexer.Position
	Column  *nameAST    `parser:"@@"`
	Op      string      `parser:"( @( '=' | '<' | '<=' | '>' | '>=' )"`
	Value   *stringAST  `parser:"  @@"`
	Between *betweenAST `parser:"| 'BETWEEN' @@"`
	Begins  *stringAST  `parser:"| 'BEGINS' 'WITH' @@ )"`
}

type betweenAST struct {
	Pos lexer.Position
	Lo  *stringAST `parser:"@@"`
	Hi  *stringAST `parser:"'AND' @@"`
}

type consistencyAST struct {
	Pos  lexer.Position
	With []*optionAST `parser:"'CONSISTENCY' ( @@ ( ','? @@ )* )?"`
}

type tracingAST struct {
	Pos   lexer.Position
	State string `parser:"'TRACING' @( 'ON' | 'OFF' )"`
}

type watchAST struct {
	Pos   lexer.Position
	Table *nameAST `parser:"'WATCH' @@"`
}

type copyAST struct {
	Pos   lexer.Position
	Table *nameAST   `parser:"'COPY' @@"`
	Dir   string     `parser:"@( 'TO' | 'FROM' )"`
	File  *stringAST `parser:"@@"`
}

type keyAST struct {
	Pos   lexer.Position
	Parts []*stringAST `parser:"'KEY' '(' @@ ( ',' @@ )* ')'"`
}

// optionAST is "name = value" in WITH and CONSISTENCY. Any identifier is
// accepted as a name so that an unknown one gets a message listing the
// allowed names; TTL is the one keyword that is also an option. Other
// keywords are not, so a clause written after WITH (WITH r = 1 LIMIT 5) is
// reported as out of place rather than as a bad option.
type optionAST struct {
	Pos   lexer.Position
	Name  string    `parser:"@( Ident | 'TTL' )"`
	Value *valueAST `parser:"'=' @@"`
}

type valueAST struct {
	Pos  lexer.Position
	Int  string `parser:"  @Int"`
	Str  string `parser:"| @String"`
	Word string `parser:"| @Ident"`
}

type nameAST struct {
	Pos lexer.Position
	Raw string `parser:"@( Ident | QIdent )"`
}

type pathAST struct {
	Pos   lexer.Position
	Parts []*nameAST `parser:"@@ ( '.' @@ )*"`
}

type stringAST struct {
	Pos lexer.Position
	Raw string `parser:"@String"`
}

type intAST struct {
	Pos lexer.Position
	Raw string `parser:"@Int"`
}

type jsonAST struct {
	Pos lexer.Position
	Raw string `parser:"@JSON"`
}

// parser is built once; the grammar is fixed, so a build failure is a bug
// that every test run catches immediately.
var parser = participle.MustBuild[stmtAST](
	participle.Lexer(lexDef{}),
	participle.CaseInsensitive("Keyword"),
	participle.UseLookahead(0),
)
