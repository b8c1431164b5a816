package shell

import (
	"fmt"
	"slices"
	"strings"
)

// statementTopics is the syntax of each statement, for \help STATEMENT.
// Keep it in step with query's grammar.
var statementTopics = map[string]string{
	"CREATE": `CREATE TABLE [IF NOT EXISTS] name (pk PARTITION KEY [, sk SORT KEY])
    [WITH n = 3, r = 2, w = 2, conflict = 'siblings'|'lww', ttl = SECONDS, strict = true|false,
          max_siblings = 100, sibling_warn = 25]
  Creates a table. Items are JSON objects addressed by the partition key
  and the optional sort key (both strings). A blind write that would give
  an item more than max_siblings versions is refused.`,
	"DROP": `DROP TABLE [IF EXISTS] name
  Drops a table and its items.`,
	"SHOW": `SHOW TABLES
  Lists the tables (also \tables).`,
	"DESCRIBE": `DESCRIBE [TABLE] name
  Shows a table's definition as the CREATE TABLE that makes it (also \describe).`,
	"PUT": `PUT INTO table KEY ('pk'[, 'sk']) VALUE {json object} [CONTEXT 'ctx'] [TTL SECONDS] [WITH w = N]
  Writes an item. Without CONTEXT the shell sends the context of your last
  read (or write) of that item in this session, and says so; a write with
  no context at all is concurrent with every existing version and leaves
  them as siblings.`,
	"GET": `GET FROM table KEY ('pk'[, 'sk']) [WITH r = N]
  Reads an item: one row per version. Concurrent versions (siblings) are
  numbered i/n; PUT the merged item to resolve them.`,
	"SELECT": `SELECT * | col[, col.path ...] FROM table
    [WHERE pk = 'v' [AND sk =|<|<=|>|>= 'v' | sk BETWEEN 'a' AND 'b' | sk BEGINS WITH 'p']]
    [ALLOW SCAN] [ORDER BY sk [ASC|DESC]] [LIMIT N] [WITH r = N]
  Queries one partition, or with ALLOW SCAN the whole table, page by page
  (in a terminal, asking before each page). LIMIT N shows the first N items.`,
	"DELETE": `DELETE FROM table KEY ('pk'[, 'sk']) [CONTEXT 'ctx'] [WITH w = N]
  Deletes an item; like PUT, it uses the context of your last read, and
  of an item not read yet it reads it first, so every version found goes.`,
	"CONSISTENCY": `CONSISTENCY [r = N] [w = N]
  Sets the session's read and write quorums (a statement's WITH still wins);
  CONSISTENCY alone shows them, \consistency default forgets them.`,
	"TRACING": `TRACING ON|OFF
  Shows each statement's coordinator trace: the replicas asked, who answered
  and how fast, fallbacks and read repairs.`,
	"WATCH": `WATCH table
  Prints the table's change events as they come, until Ctrl-C.`,
	"COPY": `COPY table TO 'file.jsonl'
COPY table FROM 'file.jsonl'
  Exports every item (one JSON object per line and per version:
  {"pk":..,"sk":..,"value":{..}}, with "sibling" and "siblings" for items
  with concurrent versions), or imports such a file with one PUT per line.
  Import also takes lines that are items holding the table's key
  attributes ({"id":"alice","name":"Alice"}), written whole. At a terminal,
  an export asks before it replaces a file. Every line is checked before anything is written (a bad line is named by
  its number). Imported lines are blind writes: into an empty table, an
  item's siblings come back as siblings; over existing items they add
  siblings. Lines go 100 to a request; a request over the tenant's rate
  is sent again when the gateway says it may be.`,
}

// statementHelp returns the help of a statement, by its first keyword or
// a longer prefix ("CREATE TABLE", "SHOW TABLES").
func statementHelp(topic string) (string, bool) {
	first, _, _ := strings.Cut(topic, " ")
	h, ok := statementTopics[first]
	if !ok {
		return "", false
	}
	return h + "\n", true
}

func generalHelp() string {
	var b strings.Builder
	b.WriteString("Statements (end them with ';'; \\help STATEMENT for the syntax):\n")
	topics := make([]string, 0, len(statementTopics))
	for t := range statementTopics {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	b.WriteString("  " + strings.Join(topics, ", ") + "\n")
	b.WriteString("Commands:\n")
	for _, m := range metaCommands {
		name := strings.TrimSpace(m.names[0] + " " + m.args)
		fmt.Fprintf(&b, "  %-28s %s\n", name, m.help)
	}
	b.WriteString("Keys: Tab completes, Up/Down recall history, Ctrl-C cancels the line or the\n" +
		"running statement, Ctrl-D leaves.\n")
	return b.String()
}
