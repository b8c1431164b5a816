package feed

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEventRoundTrip(t *testing.T) {
	e := &Event{ID: "n1~a:3", Tenant: "ten", Table: "users", TableID: "tid", PK: "<a&b>", Op: OpPut,
		Value: []byte(`{"html":"<b>"}`), Context: "AQ", Siblings: 2, HasSiblings: true, Time: time.UnixMilli(1700000000123).UTC()}
	b := Encode(e)
	if strings.Contains(string(b), `\u003c`) || strings.Contains(string(b), "\n") {
		t.Errorf("encoded event escapes HTML or holds a newline: %s", b)
	}
	got, err := Decode(b)
	if err != nil || got.PK != e.PK || string(got.Value) != string(e.Value) || !got.Time.Equal(e.Time) || got.Seq != 0 {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []string{`{}`, `{"id":"x","tenant":"t","table":"u","op":"merge"}`, `not json`} {
		if _, err := Decode([]byte(bad)); !errors.Is(err, ErrBadEvent) {
			t.Errorf("Decode(%s) = %v", bad, err)
		}
	}
}
