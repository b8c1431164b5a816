package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decodeStrict decodes a JSON body of at most limit bytes into v, refusing
// unknown fields and trailing data, with a message that says what was
// wrong in the client's terms (a field and what it must be), not Go's.
func decodeStrict(r io.Reader, limit int64, v any) error {
	body := &countingReader{r: io.LimitReader(r, limit+1)}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if body.n > limit {
		return &TooLargeError{Msg: fmt.Sprintf("request body is over %d bytes", limit)}
	}
	if err != nil {
		return describeDecodeError(err, v)
	}
	if dec.More() {
		return badRequest("malformed JSON body: unexpected data after the object")
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// describeDecodeError turns encoding/json's error for a body decoded into
// v into a bad request that names the field and the JSON it takes.
func describeDecodeError(err error, v any) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("request body is empty: expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON body: it ends inside the object")
	case errors.As(err, &syn):
		return badRequest("malformed JSON body at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ) && typ.Field == "":
		return badRequest("malformed JSON body: expected a JSON object, got %s", jsonValueName(typ.Value))
	case errors.As(err, &typ):
		return badRequest("field %q must be %s, not %s", typ.Field, jsonTypeName(typ.Type), jsonValueName(typ.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("unknown field %s (the fields are %s)", name, strings.Join(jsonFields(v), ", "))
	}
	return badRequest("malformed JSON body: %v", err)
}

// jsonTypeName says what JSON a Go type decodes from.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return t.String()
}

// jsonValueName names the JSON value encoding/json describes as v ("string",
// "number 1.5", "array", …).
func jsonValueName(v string) string {
	switch {
	case v == "array" || v == "object":
		return "an " + v
	case v == "bool":
		return "true or false"
	case v == "string":
		return "a string"
	case strings.HasPrefix(v, "number "):
		return strings.TrimPrefix(v, "number ")
	case v == "number":
		return "a number"
	}
	return v
}

// jsonFields lists the JSON names of the fields of the struct v points to.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}
