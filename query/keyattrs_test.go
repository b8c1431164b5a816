package query

import (
	"strings"
	"testing"
)

func TestCheckKeyAttributes(t *testing.T) {
	for _, tc := range []struct {
		item, pk, sk string // the table's keys are named id and ts; sk "" for none
		refused      string // part of the message, or "" when accepted
	}{
		{`{"name":"a"}`, "alice", "", ""},
		{`{"id":"alice","name":"a"}`, "alice", "", ""},
		{`{"id":"bob"}`, "alice", "", `attribute "id" is the table's partition key, and "bob" is not this item's partition key "alice"`},
		{`{"id":5}`, "5", "", `attribute "id" is the table's partition key, and 5 is not`},
		{`{"id":null}`, "alice", "", `and null is not`},
		{`{"\u0069d":"bob"}`, "alice", "", `attribute "id" is the table's partition key`},
		{`{"id":"\u0061lice"}`, "alice", "", ""},
		// Only top-level attributes name the key; values and nested names do not.
		{`{"x":"id","y":{"id":"bob"},"z":["id"]}`, "alice", "", ""},
		{`{"idx":"bob","xid":1}`, "alice", "", ""},
		// Sort keys too, when the table has one.
		{`{"ts":"2026"}`, "d1", "2026", ""},
		{`{"id":"d1","ts":"2025"}`, "d1", "2026", `attribute "ts" is the table's sort key, and "2025" is not this item's sort key "2026"`},
		{`{"ts":"2025"}`, "d1", "", ""}, // a table without a sort key: just an attribute
	} {
		skName := ""
		if tc.sk != "" {
			skName = "ts"
		}
		err := CheckKeyAttributes([]byte(tc.item), "id", tc.pk, skName, tc.sk)
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s at (%q, %q): %v, want it accepted", tc.item, tc.pk, tc.sk, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%s at (%q, %q): %v, want an error with %q", tc.item, tc.pk, tc.sk, err, tc.refused)
		}
	}
}

// Every write's item passes the check; most have no key attribute.
func BenchmarkCheckKeyAttributes(b *testing.B) {
	item := []byte(`{"v":"` + strings.Repeat("x", 1000) + `","n":[1,{"a":true}],"s":"é"}`)
	b.SetBytes(int64(len(item)))
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckKeyAttributes(item, "id", "alice", "", ""); err != nil {
			b.Fatal(err)
		}
	}
}
