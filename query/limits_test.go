package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	ok := []string{"a", "users", "my-table", "a_b-c9", "Z" + strings.Repeat("x", MaxNameLen-1)}
	for _, s := range ok {
		if err := ValidateName("table name", s); err != nil {
			t.Errorf("ValidateName(%q): %v", s, err)
		}
	}
	bad := map[string]string{
		"":                                    "table name must not be empty",
		"1a":                                  "table name '1a' must start with a letter",
		"_a":                                  "table name '_a' must start with a letter",
		"a.b":                                 "table name 'a.b' contains '.'; only letters, digits, '_' and '-' are allowed",
		"a\x00":                               "table name 'a\x00' contains U+0000; only letters, digits, '_' and '-' are allowed",
		"é":                                   "table name 'é' must start with a letter",
		"a" + strings.Repeat("b", MaxNameLen): "table name is 256 characters long; the limit is 255",
	}
	for s, want := range bad {
		err := ValidateName("table name", s)
		var qe *Error
		if !errors.As(err, &qe) || err.Error() != want || qe.Pos.Line != 0 {
			t.Errorf("ValidateName(%q) = %v, want %q", s, err, want)
		}
	}
}

func TestValidateKey(t *testing.T) {
	if err := ValidateKey("partition key", strings.Repeat("k", MaxKeyLen)); err != nil {
		t.Error(err)
	}
	if err := ValidateKey("partition key", "\x00\xff binary is fine"); err != nil {
		t.Error(err)
	}
	for k, want := range map[string]string{
		"":                               "sort key must not be empty",
		strings.Repeat("k", MaxKeyLen+1): "sort key is 2049 bytes long; the limit is 2048 bytes",
	} {
		if err := ValidateKey("sort key", k); err == nil || err.Error() != want {
			t.Errorf("ValidateKey(%d bytes) = %v, want %q", len(k), err, want)
		}
	}
}

func TestValidateItem(t *testing.T) {
	got, err := ValidateItem([]byte("{ \"a\" : [1, 2] }"))
	if err != nil || string(got) != `{"a":[1,2]}` {
		t.Errorf("got %s, %v", got, err)
	}
	// Whitespace does not count against the limit; content does.
	pad := strings.Repeat("x", MaxItemSize-len(`{"a":""}`))
	if _, err := ValidateItem([]byte("{\n  \"a\": \"" + pad + "\"\n}")); err != nil {
		t.Errorf("item of exactly MaxItemSize: %v", err)
	}
	if _, err := ValidateItem([]byte(`{"a":"` + pad + `x"}`)); err == nil {
		t.Error("item over MaxItemSize accepted")
	}
	for in, want := range map[string]string{
		`[1]`:                 "line 1, column 1: an item must be a JSON object",
		`"s"`:                 "line 1, column 1: an item must be a JSON object",
		"{\n\"a\": nul}":      "line 2, column 9: invalid JSON item: invalid character '}' in literal null (expecting 'l')",
		`{"a": 1} {}`:         "line 1, column 10: invalid JSON item: invalid character '{' after top-level value",
		``:                    "line 1, column 1: invalid JSON item: unexpected end of JSON input",
		"{\"a\": \"\xff\"}":   "line 1, column 8: invalid JSON item: byte 0xff is not UTF-8 (JSON text is UTF-8; send binary data encoded, as base64 for example)",
		"{\n\"é\": \"\xc3\"}": "line 2, column 7: invalid JSON item: byte 0xc3 is not UTF-8 (JSON text is UTF-8; send binary data encoded, as base64 for example)",
		"{\"a\":" + strings.Repeat("[", MaxItemDepth) + strings.Repeat("]", MaxItemDepth) + "}": "line 1, column 105: invalid JSON item: objects and arrays nest more than 100 deep",
		"{\"a\": 1,\n \"a\": 2}":                 "line 2, column 2: invalid JSON item: attribute \"a\" appears twice in one object (names within an object must be unique)",
		`{"x":[{"b":1,"c":{"b":2},"\u0062":3}]}`: "line 1, column 26: invalid JSON item: attribute \"b\" appears twice in one object (names within an object must be unique)",
	} {
		if _, err := ValidateItem([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("ValidateItem(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestValidateItemDepth(t *testing.T) {
	nest := func(depth int, open, close, inner string) string {
		return strings.Repeat(open, depth-1) + inner + strings.Repeat(close, depth-1)
	}
	for _, tc := range []struct {
		item string
		ok   bool
	}{
		{"{" + nest(MaxItemDepth, `"a":{`, "}", "") + "}", true},
		{"{" + nest(MaxItemDepth+1, `"a":{`, "}", "") + "}", false},
		{`{"a":` + nest(MaxItemDepth+1, "[", "]", "1") + "}", false},
		{`{"a":` + nest(MaxItemDepth, "[", "]", "1") + "}", true},
		// Brackets in strings, escaped quotes among them, do not nest.
		{`{"a":"` + strings.Repeat(`[{\"`, 2*MaxItemDepth) + `"}`, true},
		{`{"[[[":` + nest(MaxItemDepth, "[", "]", `"\"]]]"`) + "}", true},
		// A string that ends in an escaped backslash still ends there.
		{`{"x\\\\":` + nest(MaxItemDepth+1, "[", "]", "1") + "}", false},
		{`{"x\\\\\"":` + nest(MaxItemDepth, "[", "]", "1") + "}", true},
		// Siblings at the limit do not add up.
		{"{" + `"a":` + nest(MaxItemDepth, "[", "]", "1") + `,"b":` + nest(MaxItemDepth, "[", "]", "1") + `,"c":1}`, true},
	} {
		_, err := ValidateItem([]byte(tc.item))
		if (err == nil) != tc.ok {
			t.Errorf("ValidateItem(%.60q…) = %v, want ok=%v", tc.item, err, tc.ok)
		}
	}
}

func TestValidateItemNames(t *testing.T) {
	many := func(n int, last string) string {
		var sb strings.Builder
		sb.WriteString("{")
		for i := range n {
			fmt.Fprintf(&sb, `"a%d":%d,`, i, i)
		}
		return sb.String() + last + "}"
	}
	for _, tc := range []struct {
		item string
		dup  string // the name refused, or "-" if the item is fine
	}{
		{`{"a":1,"b":2}`, "-"},
		{`{"a":1,"a":1}`, "a"},
		{`{"a":1,"A":2}`, "-"},
		// A name may repeat in other objects, nested or side by side.
		{`{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}`, "-"},
		{`{"a":{"b":1},"c":{"b":1,"b":2}}`, "b"},
		{`{"o":{"x":1},"p":2,"o":3}`, "o"},
		// Strings that are values, or hold quotes and brackets, are not names.
		{`{"a":"a","b":["a","a"],"c":"\",\"a\":"}`, "-"},
		{`{"a":"{\"a\":1","a":2}`, "a"},
		// Escapes name the same attribute as the characters they stand for.
		{`{"a":1,"\u0061":2}`, "a"},
		{`{"é":1,"\u00e9":2}`, "é"},
		{`{"\"q":1,"\u0022q":2}`, `"q`},
		{`{"\\":1,"\\\\":2}`, "-"},
		{`{"":1,"":2}`, ""},
		{`{"":1,"a":2}`, "-"},
		// Objects with many members are checked through a map.
		{many(manyMembers-1, `"a3":0`), "a3"},
		{many(manyMembers+5, `"a0":0`), "a0"},
		{many(manyMembers+5, `"\u0061`+strconv.Itoa(manyMembers+2)+`":0`), "a" + strconv.Itoa(manyMembers+2)},
		{many(3*manyMembers, `"b":0`), "-"},
	} {
		_, err := ValidateItem([]byte(tc.item))
		switch {
		case tc.dup == "-" && err != nil:
			t.Errorf("ValidateItem(%.60q…) = %v, want it accepted", tc.item, err)
		case tc.dup != "-" && (err == nil || !strings.Contains(err.Error(), "attribute "+strconv.Quote(tc.dup)+" appears twice")):
			t.Errorf("ValidateItem(%.60q…) = %v, want %q refused as repeated", tc.item, err, tc.dup)
		}
	}
}

func TestDefaultQuorum(t *testing.T) {
	for n := 1; n <= MaxN; n++ {
		q := DefaultQuorum(n)
		if q < 1 || q > n || 2*q <= n {
			t.Errorf("DefaultQuorum(%d) = %d: want 1 ≤ q ≤ n and r+w > n", n, q)
		}
	}
	if DefaultQuorum(DefaultN) != 2 {
		t.Errorf("the design's defaults are N=3, R=W=2")
	}
}

// TestKeywordsMatchGrammar keeps the reserved list and the grammar in step:
// a keyword the grammar does not use needlessly takes a name away, and a
// grammar word that is not reserved would lex as an identifier and never
// match.
func TestKeywordsMatchGrammar(t *testing.T) {
	var used []string
	for _, m := range regexp.MustCompile(`"([A-Z]+)"`).FindAllStringSubmatch(parser.String(), -1) {
		if !slices.Contains(used, m[1]) {
			used = append(used, m[1])
		}
	}
	slices.Sort(used)
	if got := Keywords(); !slices.Equal(got, used) {
		t.Errorf("Keywords() = %q\ngrammar uses %q", got, used)
	}
	if !slices.IsSorted(keywords) {
		t.Error("keywords must stay sorted")
	}
	k := Keywords()
	k[0] = "changed"
	if Keywords()[0] == "changed" {
		t.Error("Keywords shares its slice with the caller")
	}
}

func TestQuoteIdentRoundTrip(t *testing.T) {
	for _, name := range []string{"a", "my-table", "a-", "select", "Key", "a--b", "1a", "_a", "a b", `say "hi"`, "é", "a.b"} {
		got, err := ParseOne("SELECT " + quoteIdent(name) + " FROM t ALLOW SCAN")
		if err != nil {
			t.Errorf("%q rendered as %s: %v", name, quoteIdent(name), err)
			continue
		}
		if cols := got.(*Select).Columns; len(cols) != 1 || len(cols[0]) != 1 || cols[0][0] != name {
			t.Errorf("%q rendered as %s came back as %q", name, quoteIdent(name), cols)
		}
	}
}

// ValidateItem's one-scan path for valid items accepts exactly what the
// diagnosing path accepts, and returns the same bytes.
func FuzzValidateItem(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "{ \"a\" : [1, 2] }", `[1]`, `{"a":1} {}`, `{"a":}`, `"x"`, ``, "{\"\xff\":1}", `{"a":[[["\\"]"]]]}`, "{\"a\":\"\xe2\x82\"}"} {
		f.Add([]byte(s))
	}
	for _, d := range []int{MaxItemDepth - 1, MaxItemDepth} { // nested 100 and 101 deep
		f.Add([]byte(`{"a":` + strings.Repeat(`[{"b":"[\\\""},`, d-1) + "1" + strings.Repeat("]", d-1) + "}"))
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		got, err := ValidateItem(item)
		want, werr := checkItem(string(item), startPos, "invalid JSON item")
		if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("ValidateItem(%q) = %q, %v; the diagnosing path gives %q, %v", item, got, err, want, werr)
		}
		// The depth limit and the names agree with encoding/json's tokens.
		tooDeep := err != nil && strings.Contains(err.Error(), "nest more than")
		repeated := err != nil && strings.Contains(err.Error(), "appears twice")
		if d, dup, ok := tokenShape(item); ok && (err == nil || tooDeep || repeated) {
			// Whichever comes first in the text is the one reported.
			if repeated != (dup != nil) || !repeated && tooDeep != (d > MaxItemDepth) {
				t.Fatalf("ValidateItem(%q) = %v; encoding/json nests it %d deep and repeats %v first", item, err, d, dup)
			}
		}
	})
}

// The check every write's item passes, on an item of the harness's shape
// (1 KiB of JSON).
func BenchmarkValidateItem(b *testing.B) {
	item := []byte(`{"v":"` + strings.Repeat("x", 1000) + `","n":[1,{"a":true}],"s":"é"}`)
	b.SetBytes(int64(len(item)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ValidateItem(item); err != nil {
			b.Fatal(err)
		}
	}
}

// tokenShape is how deeply valid JSON nests and the first name that
// repeats within an object (before any nesting too deep), by encoding/json's
// tokens.
func tokenShape(b []byte) (most int, dup *string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		names   map[string]bool
		isName  bool // the next token in this object is a name
		isArray bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return most, dup, true
		}
		if err != nil {
			return 0, nil, false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && !top.isArray {
			if name, isStr := tok.(string); isStr && top.isName {
				if top.names[name] && dup == nil && most <= MaxItemDepth {
					dup = &name
				}
				top.names[name] = true
				top.isName = false
				continue
			}
			top.isName = true // after this value, a name or the end
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, &frame{names: map[string]bool{}, isName: tok == json.Delim('{'), isArray: tok == json.Delim('[')})
			most = max(most, len(stack))
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}
