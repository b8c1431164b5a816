package query

import (
	"strings"
	"time"
)

// build checks one raw statement and converts it into its typed form. It is
// the only place that turns captured text into values, so every limit has
// one message and one position.
func build(a *stmtAST) (Statement, *Error) {
	switch {
	case a.Create != nil:
		return buildCreate(a.Create)
	case a.Drop != nil:
		t, err := tableName(a.Drop.Table)
		return &DropTable{At: fromLexerPos(a.Drop.Pos), Table: t, IfExists: a.Drop.IfExists}, err
	case a.Show != nil:
		return &ShowTables{At: fromLexerPos(a.Show.Pos)}, nil
	case a.Describe != nil:
		t, err := tableName(a.Describe.Table)
		return &Describe{At: fromLexerPos(a.Describe.Pos), Table: t}, err
	case a.Put != nil:
		return buildPut(a.Put)
	case a.Get != nil:
		return buildGet(a.Get)
	case a.Select != nil:
		return buildSelect(a.Select)
	case a.Delete != nil:
		return buildDelete(a.Delete)
	case a.Consistency != nil:
		return buildConsistency(a.Consistency)
	case a.Tracing != nil:
		return &Tracing{At: fromLexerPos(a.Tracing.Pos), On: strings.EqualFold(a.Tracing.State, "ON")}, nil
	case a.Watch != nil:
		t, err := tableName(a.Watch.Table)
		return &Watch{At: fromLexerPos(a.Watch.Pos), Table: t}, err
	case a.Copy != nil:
		return buildCopy(a.Copy)
	}
	// Unreachable: participle only succeeds when one branch matched.
	return nil, errorf(fromLexerPos(a.Pos), "empty statement")
}

func tableName(n *nameAST) (string, *Error) {
	s := unquote(n.Raw)
	if err := checkName("table name", s); err != nil {
		return "", err.at(fromLexerPos(n.Pos))
	}
	return s, nil
}

// columnName accepts any non-empty name: attribute names in items are free
// JSON strings, and the statement size bounds their length.
func columnName(n *nameAST) (string, *Error) {
	s := unquote(n.Raw)
	if s == "" {
		return "", errorf(fromLexerPos(n.Pos), "a name must not be empty")
	}
	return s, nil
}

func keyValue(s *stringAST, kind string) (string, *Error) {
	v := unquote(s.Raw)
	if err := checkKey(kind, v); err != nil {
		return "", err.at(fromLexerPos(s.Pos))
	}
	return v, nil
}

func buildKey(k *keyAST) (Key, *Error) {
	if len(k.Parts) > 2 {
		return Key{}, errorf(fromLexerPos(k.Parts[2].Pos),
			"a key has at most two parts: KEY ('partition key', 'sort key')")
	}
	var key Key
	var err *Error
	if key.Partition, err = keyValue(k.Parts[0], "partition key"); err != nil {
		return Key{}, err
	}
	if len(k.Parts) == 2 {
		if key.Sort, err = keyValue(k.Parts[1], "sort key"); err != nil {
			return Key{}, err
		}
	}
	return key, nil
}

func buildCreate(a *createAST) (Statement, *Error) {
	s := &CreateTable{At: fromLexerPos(a.Pos), IfNotExists: a.IfNotExists}
	var err *Error
	if s.Table, err = tableName(a.Table); err != nil {
		return nil, err
	}
	for _, k := range a.Keys {
		sort := strings.EqualFold(k.Kind, "SORT")
		kind, dst := "partition key name", &s.PartitionKey
		if sort {
			kind, dst = "sort key name", &s.SortKey
		}
		pos := fromLexerPos(k.Pos)
		if *dst != "" {
			return nil, errorf(pos, "a table has only one %s, and it is already %s", strings.TrimSuffix(kind, " name"), quoteIdent(*dst))
		}
		name := unquote(k.Name.Raw)
		if err := checkName(kind, name); err != nil {
			return nil, err.at(pos)
		}
		if name == s.PartitionKey || name == s.SortKey {
			return nil, errorf(pos, "the partition key and the sort key must be different columns")
		}
		*dst = name
	}
	if s.PartitionKey == "" {
		return nil, errorf(fromLexerPos(a.Keys[0].Pos), "a table needs a partition key: (<name> PARTITION KEY[, <name> SORT KEY])")
	}
	if err := createOptionsFrom(s, a.With); err != nil {
		return nil, err
	}
	return s, nil
}

func buildPut(a *putAST) (Statement, *Error) {
	s := &Put{At: fromLexerPos(a.Pos)}
	var err *Error
	if s.Table, err = tableName(a.Table); err != nil {
		return nil, err
	}
	if s.Key, err = buildKey(a.Key); err != nil {
		return nil, err
	}
	if s.Value, err = checkItem(a.Value.Raw, fromLexerPos(a.Value.Pos), "invalid JSON in VALUE"); err != nil {
		return nil, err
	}
	if s.Context, err = contextToken(a.Context); err != nil {
		return nil, err
	}
	if a.TTL != nil {
		ttl, err := parseInt(a.TTL.Raw, fromLexerPos(a.TTL.Pos), "TTL", 0, maxTTLSeconds)
		if err != nil {
			return nil, err
		}
		s.TTL, s.HasTTL = time.Duration(ttl)*time.Second, true
	}
	if s.W, err = requestOption(a.With, "w"); err != nil {
		return nil, err
	}
	return s, nil
}

// contextToken rejects an empty CONTEXT string: a context is opaque but never empty, and
// an empty one would read as a blind write that the user did not ask for.
func contextToken(c *stringAST) (string, *Error) {
	if c == nil {
		return "", nil
	}
	v := unquote(c.Raw)
	if v == "" {
		return "", errorf(fromLexerPos(c.Pos), "CONTEXT must not be empty; leave the clause out for a blind write")
	}
	return v, nil
}

func buildGet(a *getAST) (Statement, *Error) {
	s := &Get{At: fromLexerPos(a.Pos)}
	var err *Error
	if s.Table, err = tableName(a.Table); err != nil {
		return nil, err
	}
	if s.Key, err = buildKey(a.Key); err != nil {
		return nil, err
	}
	if s.R, err = requestOption(a.With, "r"); err != nil {
		return nil, err
	}
	return s, nil
}

func buildDelete(a *deleteAST) (Statement, *Error) {
	s := &Delete{At: fromLexerPos(a.Pos)}
	var err *Error
	if s.Table, err = tableName(a.Table); err != nil {
		return nil, err
	}
	if s.Key, err = buildKey(a.Key); err != nil {
		return nil, err
	}
	if s.Context, err = contextToken(a.Context); err != nil {
		return nil, err
	}
	if s.W, err = requestOption(a.With, "w"); err != nil {
		return nil, err
	}
	return s, nil
}

func buildConsistency(a *consistencyAST) (Statement, *Error) {
	m, err := collectOptions(a.With, consistencyOptions, "CONSISTENCY")
	if err != nil {
		return nil, err
	}
	s := &Consistency{At: fromLexerPos(a.Pos)}
	if s.R, err = intOption(m, "r", 1, MaxN, 0); err != nil {
		return nil, err
	}
	if s.W, err = intOption(m, "w", 1, MaxN, 0); err != nil {
		return nil, err
	}
	return s, nil
}

func buildCopy(a *copyAST) (Statement, *Error) {
	s := &Copy{At: fromLexerPos(a.Pos), File: unquote(a.File.Raw)}
	var err *Error
	if s.Table, err = tableName(a.Table); err != nil {
		return nil, err
	}
	if strings.EqualFold(a.Dir, "FROM") {
		s.Dir = CopyFrom
	}
	if s.File == "" {
		return nil, errorf(fromLexerPos(a.File.Pos), "COPY needs a file name")
	}
	return s, nil
}
