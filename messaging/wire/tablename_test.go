package wire

import (
	"bytes"
	"testing"

	"github.com/ringtable/ringtable/tenants"
)

// TableName is appended to a put: it round-trips, and a put of a sender
// that predates it (no trailing field) still decodes, without one.
func TestPutTableNameAppended(t *testing.T) {
	k := tenants.Key{Kind: tenants.KindData, Partition: 7, Tenant: "ten", Table: "tid", PK: "a"}
	with := &PutRequest{Key: k, Value: []byte(`{}`), Write: 9, TableName: "users"}
	m, err := Decode(Encode(with))
	if err != nil || m.(*PutRequest).TableName != "users" {
		t.Fatalf("round trip: %+v %v", m, err)
	}
	old := Encode(&PutRequest{Key: k, Value: []byte(`{}`), Write: 9})
	old = bytes.TrimSuffix(old, []byte{0}) // an empty string's length: what an older sender never wrote
	m, err = Decode(old)
	if err != nil || m.(*PutRequest).TableName != "" || m.(*PutRequest).Write != 9 {
		t.Fatalf("older put: %+v %v", m, err)
	}
}
