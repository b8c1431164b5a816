package shell

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/query"
)

// COPY moves items between a table and a JSON Lines file. Each line is one
// version of one item:
//
//	{"pk":"alice","value":{"name":"Alice"}}
//	{"pk":"bob","sk":"2024","value":{…},"sibling":1,"siblings":2}
//	{"pk":"bob","sk":"2024","value":{…},"sibling":2,"siblings":2}
//
// An item with siblings is exported as one line per sibling (so every line
// has the same shape), marked with "sibling" and "siblings"; a sibling that
// is a concurrent delete has "deleted": true and no value. Import writes
// each line with a blind PUT (no context) and skips deleted lines: into an
// empty table an item's siblings therefore come back as siblings, and over
// existing items the imported versions become siblings of them.
//
// Import also takes lines that are items themselves, as other tools write
// them: an object that holds the table's partition key attribute (and its
// sort key attribute, if it has one) as strings is written whole under
// that key. A line in COPY's own shape is read as one, also in a table
// whose partition key is named "pk".

// copyLine is one line of a COPY file.
type copyLine struct {
	PK       *string         `json:"pk"`
	SK       string          `json:"sk,omitempty"`
	Value    json.RawMessage `json:"value,omitempty"`
	Deleted  bool            `json:"deleted,omitempty"`
	Sibling  int             `json:"sibling,omitempty"`
	Siblings int             `json:"siblings,omitempty"`
}

func (s *Shell) copy(ctx context.Context, q *query.Copy) error {
	if q.Dir == query.CopyTo {
		return s.copyTo(ctx, q)
	}
	return s.copyFrom(ctx, q)
}

// copyTo exports a table with SELECT * … ALLOW SCAN, page by page, into a
// temporary file renamed to the target once complete: a failed or
// cancelled export leaves no partial file behind.
func (s *Shell) copyTo(ctx context.Context, q *query.Copy) (err error) {
	// Scripts replace the file, as a shell redirection would; a person at
	// a terminal is asked first.
	if fi, serr := os.Stat(q.File); s.cfg.Interactive && serr == nil && fi.Mode().IsRegular() {
		if !s.confirm(fmt.Sprintf("%s exists (%s); replace it? [y/N] ", q.File, plural(int(fi.Size()), "byte"))) {
			s.notef("Not exported; %s is as it was.", q.File)
			return nil
		}
	}
	f, err := os.CreateTemp(filepath.Dir(q.File), "."+filepath.Base(q.File)+".*.tmp")
	if err != nil {
		// The temporary file's name would only puzzle: say where it failed.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("COPY %s TO %s: cannot create a file in %s: %w", q.Table, q.File, filepath.Dir(q.File), err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), q.File)
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 256<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	bar := newProgress(s.cfg.Progress, s.cfg.Err, -1, "exporting "+q.Table)
	defer bar.finish()

	sel := (&query.Select{Table: q.Table, AllowScan: true}).String()
	req := client.QueryRequest{Statement: sel, R: s.r}
	versions, items := 0, 0
	for {
		resp, err := s.bulkQuery(ctx, req)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("COPY %s TO %s after %s: %w", q.Table, q.File, plural(versions, "row"), err)
		}
		if len(resp.Results) != 1 {
			return fmt.Errorf("COPY: the gateway answered %d results to one SELECT", len(resp.Results))
		}
		res := resp.Results[0]
		for _, r := range res.Rows {
			line := copyLine{PK: &r.PK, SK: r.SK, Value: r.Value, Deleted: r.Deleted}
			if r.Siblings > 1 {
				line.Sibling, line.Siblings = r.Sibling, r.Siblings
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
			versions++
			if r.Sibling <= 1 {
				items++
			}
		}
		bar.add(len(res.Rows))
		if res.Next == "" {
			break
		}
		req.Cursor = res.Next
	}
	if err := w.Flush(); err != nil {
		return err
	}
	bar.finish()
	s.notef("Exported %s to %s.", itemsAndVersions(items, versions), q.File)
	return nil
}

// bulkQuery sends one of the shell's own requests of one statement (an
// export's or a SELECT's later pages). One the tenant's request rate
// refused ran nothing: it is sent again once the gateway says it may be,
// as a bulk export should.
func (s *Shell) bulkQuery(ctx context.Context, req client.QueryRequest) (*client.QueryResponse, error) {
	resp, err := s.eval.Query(ctx, req)
	for qe := (*client.QueryError)(nil); errors.As(err, &qe) && qe.RetryAfter > 0 && ctx.Err() == nil; {
		if sleepCtx(ctx, qe.RetryAfter) == nil {
			resp, err = s.eval.Query(ctx, req)
		}
	}
	return resp, err
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// utf8BOM is the byte order mark some editors and exporters begin a
// UTF-8 file with; JSON readers may skip it, and COPY does.
var utf8BOM = []byte("\ufeff")

// checkImport reads a COPY file through once without writing anything,
// so that a bad line fails the import before any item is written.
func checkImport(table importTable, r io.Reader) error {
	br := bufio.NewReaderSize(r, 256<<10)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if _, perr := importStatement(table, line); perr != nil {
				return fmt.Errorf("line %d: %w", lineNo, perr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Import batches: statements per request, and bytes, well under the
// gateway's 1 MiB statement limit.
const (
	copyBatchStatements = 100
	copyBatchBytes      = 512 << 10
)

// copyFrom imports a file with one PUT per line, batched, after checking
// every line.
func (s *Shell) copyFrom(ctx context.Context, q *query.Copy) error {
	f, err := os.Open(q.File)
	if err != nil {
		return err
	}
	defer f.Close()
	// The table's key attributes read lines that are items; a list the
	// shell fetched before the table was created would not have them.
	t, ok := s.schema(ctx, q.Table)
	if !ok {
		if err := s.refreshTables(ctx); err != nil {
			return fmt.Errorf("COPY %s FROM %s: %w", q.Table, q.File, err)
		}
		if t, ok = s.schema(ctx, q.Table); !ok {
			return fmt.Errorf("COPY %s FROM %s: table %q: not found (nothing imported)", q.Table, q.File, q.Table)
		}
	}
	table := importTable{name: q.Table, pk: t.PartitionKey, sk: t.SortKey}
	if err := checkImport(table, f); err != nil {
		return fmt.Errorf("COPY %s FROM %s: %w (nothing imported)", q.Table, q.File, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var total int64 = -1
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		total = fi.Size()
	}
	bar := newProgress(s.cfg.Progress, s.cfg.Err, total, "importing "+q.File)
	defer bar.finish()

	b := &importBatch{s: s, table: q.Table, file: q.File}
	r := bufio.NewReaderSize(f, 256<<10)
	var read int64
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadBytes('\n')
		read += int64(len(line))
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			stmt, perr := importStatement(table, line)
			if perr != nil {
				return b.fail(lineNo, perr)
			}
			if stmt != "" {
				if err := b.add(ctx, stmt, lineNo); err != nil {
					return err
				}
			} else {
				b.skipped++
			}
		}
		bar.set(read)
		if err == io.EOF {
			break
		}
		if err != nil {
			return b.fail(lineNo, err)
		}
	}
	if err := b.send(ctx); err != nil {
		return err
	}
	bar.finish()
	msg := fmt.Sprintf("Imported %s from %s into %s.", plural(b.done, "row"), q.File, q.Table)
	if b.skipped > 0 {
		msg += fmt.Sprintf(" Skipped %s.", plural(b.skipped, "deleted version"))
	}
	s.notef("%s", msg)
	return nil
}

// importTable is the table an import writes into, with its key
// attributes when the shell knows them ("" otherwise).
type importTable struct {
	name, pk, sk string
}

// copyFields are the names a COPY line may hold.
var copyFields = map[string]bool{"pk": true, "sk": true, "value": true, "deleted": true, "sibling": true, "siblings": true}

// importStatement checks one line and returns its PUT ("" for a deleted
// version, which is skipped).
func importStatement(table importTable, line []byte) (string, error) {
	if !utf8.Valid(line) {
		// encoding/json would read each bad byte as U+FFFD: a key would
		// be imported as another key, a value changed.
		i := query.InvalidUTF8(string(line))
		return "", fmt.Errorf("byte %#02x at offset %d is not UTF-8 (COPY reads JSON lines, which are UTF-8 text)", line[i], i)
	}
	if table.pk != "" {
		var fields map[string]json.RawMessage
		if json.Unmarshal(line, &fields) == nil && fields[table.pk] != nil && !isCopyLine(fields) {
			return importItem(table, fields, line)
		}
	}
	return importCopyLine(table, line)
}

// isCopyLine tells COPY's own lines from items: one names "pk" and
// nothing but COPY's fields.
func isCopyLine(fields map[string]json.RawMessage) bool {
	if fields["pk"] == nil {
		return false
	}
	for name := range fields {
		if !copyFields[strings.ToLower(name)] {
			return false
		}
	}
	return true
}

// importItem writes a line that is an item, under the key its key
// attributes hold.
func importItem(table importTable, fields map[string]json.RawMessage, line []byte) (string, error) {
	// An attribute named twice is refused by ValidateItem below, which
	// matches names exactly: an item may hold both "name" and "Name".
	keyAttr := func(kind, name string) (string, error) {
		raw, ok := fields[name]
		if !ok {
			return "", fmt.Errorf("the item has no %q, the table's %s", name, kind)
		}
		var k string
		if err := json.Unmarshal(raw, &k); err != nil {
			return "", fmt.Errorf("%q is %s: the table's %s must be a string", name, truncateJSON(raw), kind)
		}
		return k, query.ValidateKey(kind, k)
	}
	var key query.Key
	var err error
	if key.Partition, err = keyAttr("partition key", table.pk); err != nil {
		return "", err
	}
	if table.sk != "" {
		if key.Sort, err = keyAttr("sort key", table.sk); err != nil {
			return "", err
		}
	}
	v, err := query.ValidateItem(line)
	var qe *query.Error
	if errors.As(err, &qe) {
		return "", errors.New(qe.Msg)
	}
	if err != nil {
		return "", err
	}
	return (&query.Put{Table: table.name, Key: key, Value: v}).String(), nil
}

// truncateJSON shows a JSON value in an error, cut short if long.
func truncateJSON(raw json.RawMessage) string {
	const max = 40
	if len(raw) > max {
		return string(raw[:max]) + "…"
	}
	return string(raw)
}

// importCopyLine checks a line in COPY's own shape.
func importCopyLine(table importTable, line []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var l copyLine
	if err := dec.Decode(&l); err != nil {
		if table.pk != "" {
			return "", fmt.Errorf("neither a COPY line ({\"pk\":…,\"value\":{…}}) nor an item with the table's partition key %q: %v", table.pk, err)
		}
		return "", fmt.Errorf("not a COPY line (want {\"pk\":…,\"value\":{…}}): %v", err)
	}
	if dec.More() {
		return "", errors.New("more than one JSON value on the line")
	}
	if name, ok := repeatedField(line); ok {
		// encoding/json keeps the last: a line that names two keys or two
		// values would import one of them without a word.
		return "", fmt.Errorf("%q is given twice", name)
	}
	if l.PK == nil {
		return "", errors.New(`missing "pk"`)
	}
	if err := query.ValidateKey("partition key", *l.PK); err != nil {
		return "", err
	}
	if l.SK != "" {
		if err := query.ValidateKey("sort key", l.SK); err != nil {
			return "", err
		}
	}
	if l.Deleted {
		return "", nil
	}
	if len(l.Value) == 0 {
		return "", errors.New(`missing "value"`)
	}
	v, err := query.ValidateItem(l.Value)
	var qe *query.Error
	if errors.As(err, &qe) {
		return "", fmt.Errorf(`"value": %s`, qe.Msg)
	}
	if err != nil {
		return "", err
	}
	return (&query.Put{Table: table.name, Key: query.Key{Partition: *l.PK, Sort: l.SK}, Value: v}).String(), nil
}

// repeatedField returns a field that the JSON object line names twice, as
// encoding/json matches names to a copyLine's fields: without regard to
// case.
func repeatedField(line []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return "", false
		}
		if seen[strings.ToLower(name)] {
			return name, true
		}
		seen[strings.ToLower(name)] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return "", false
		}
	}
	return "", false
}

// importBatch groups PUTs into requests and maps a failed statement back
// to its line.
type importBatch struct {
	s       *Shell
	table   string
	file    string
	stmts   []string
	lines   []int
	size    int
	done    int
	skipped int
}

func (b *importBatch) add(ctx context.Context, stmt string, line int) error {
	if len(b.stmts) > 0 && (len(b.stmts) == copyBatchStatements || b.size+len(stmt) > copyBatchBytes) {
		if err := b.send(ctx); err != nil {
			return err
		}
	}
	b.stmts = append(b.stmts, stmt)
	b.lines = append(b.lines, line)
	b.size += len(stmt) + 2
	return nil
}

// send writes the batch. Each statement counts against the tenant's
// request rate: the gateway stops a batch where the rate runs out, with
// the results of what ran, and the rest is sent again when it says.
func (b *importBatch) send(ctx context.Context) error {
	defer func() { b.stmts, b.lines, b.size = b.stmts[:0], b.lines[:0], 0 }()
	for len(b.stmts) > 0 {
		resp, err := b.s.eval.Query(ctx, client.QueryRequest{Statement: strings.Join(b.stmts, ";\n"), W: b.s.w})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ran := 0
		if resp != nil {
			ran = min(len(resp.Results), len(b.stmts))
		}
		b.done += ran
		if err == nil {
			return nil
		}
		var qe *client.QueryError
		if errors.As(err, &qe) && qe.RetryAfter > 0 && qe.Statement == ran {
			b.stmts, b.lines = b.stmts[ran:], b.lines[ran:]
			if err := sleepCtx(ctx, qe.RetryAfter); err != nil {
				return err
			}
			continue
		}
		if qe != nil && qe.Statement >= 0 && qe.Statement < len(b.lines) {
			return b.fail(b.lines[qe.Statement], errors.New(describeQueryError(qe)))
		}
		return b.fail(b.lines[0], err)
	}
	return nil
}

// fail names the line that failed and how far the import got.
func (b *importBatch) fail(line int, err error) error {
	return fmt.Errorf("COPY %s FROM %s, line %d: %w (%s imported before it)", b.table, b.file, line, err, plural(b.done, "row"))
}

func itemsAndVersions(items, versions int) string {
	if items == versions {
		return plural(items, "item")
	}
	return fmt.Sprintf("%s (%s)", plural(items, "item"), plural(versions, "version"))
}
