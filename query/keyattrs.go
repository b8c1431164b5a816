package query

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// CheckKeyAttributes checks that item, valid as ValidateItem returns it,
// does not contradict its own key: a top-level attribute named like the
// table's partition key (pkName) or sort key (skName, empty if none) must
// hold that key (pk, sk) as a string. The key is stored apart from the
// item, so such an attribute would otherwise show one key in a row's key
// column and another in the item, and a query by key would return an item
// that says it has another. Items that leave the attributes out, as most
// do, cost one search of their bytes for each name.
func CheckKeyAttributes(item []byte, pkName, pk, skName, sk string) error {
	if !mayName(item, pkName) && (skName == "" || !mayName(item, skName)) {
		return nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(item, &top) != nil {
		return nil // not an object: ValidateItem says so
	}
	for _, a := range [...]struct{ name, key, what string }{{pkName, pk, "partition key"}, {skName, sk, "sort key"}} {
		raw, ok := top[a.name]
		if a.name == "" || !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil || s != a.key {
			return &Error{Msg: fmt.Sprintf("attribute %q is the table's %s, and %s is not this item's %s %q: leave it out of the item (the key is kept with it) or give it the key as a string", a.name, a.what, raw, a.what, a.key)}
		}
	}
	return nil
}

// mayName reports whether item may have an attribute of the given name,
// which ValidateName allows: one that JSON can spell only as itself or
// with \u escapes.
func mayName(item []byte, name string) bool {
	if bytes.Contains(item, []byte(`\u`)) {
		return true
	}
	for from := 0; ; {
		i := bytes.Index(item[from:], []byte(name))
		if i < 0 {
			return false
		}
		i += from
		if i > 0 && item[i-1] == '"' && i+len(name) < len(item) && item[i+len(name)] == '"' {
			return true
		}
		from = i + 1
	}
}
