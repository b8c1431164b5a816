package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// A context is one item's: a node's counters run across all its keys, so
// another item's (later) context covers versions of this one that its
// writer never saw, and written with it would drop them. Such a write is
// refused, over HTTP and in statements, and the item keeps its version;
// so is one of a dropped table's item written into the table created
// again under its name.
func TestContextOfAnotherItemIsRefused(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	if _, err := cl.Put(ctx, "t", client.Key{PK: "b"}, []byte(`{"b":"precious"}`), client.Options{W: 3}); err != nil {
		t.Fatal(err)
	}
	var aCtx string
	for _, v := range []string{`{"a":1}`, `{"a":2}`, `{"a":3}`} {
		tok, err := cl.Put(ctx, "t", client.Key{PK: "a"}, []byte(v), client.Options{Context: aCtx, W: 3})
		if err != nil {
			t.Fatal(err)
		}
		aCtx = tok
	}
	const says = "the context was read from another item"
	_, err := cl.Put(ctx, "t", client.Key{PK: "b"}, []byte(`{"b":"other"}`), client.Options{Context: aCtx})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Code != "context_of_another_item" || !strings.Contains(err.Error(), says) {
		t.Errorf("PUT b with a's context: %v, want 400 context_of_another_item saying %q", err, says)
	}
	if _, err := cl.Delete(ctx, "t", client.Key{PK: "b"}, client.Options{Context: aCtx}); !client.IsStatus(err, 400) || !strings.Contains(err.Error(), says) {
		t.Errorf("DELETE b with a's context: %v, want 400 saying %q", err, says)
	}
	_, err = cl.Query(ctx, client.QueryRequest{Statement: `PUT INTO t KEY ('b') VALUE {"b":"other"} CONTEXT '` + aCtx + `'`})
	if err == nil || !strings.Contains(err.Error(), says) {
		t.Errorf("PUT INTO t KEY ('b') with a's context: %v, want %q", err, says)
	}
	it, err := cl.Get(ctx, "t", client.Key{PK: "b"}, client.Options{R: 3})
	if err != nil || len(it.Items) != 1 || string(it.Items[0].Value) != `{"b":"precious"}` {
		t.Fatalf("b after the refused writes: %+v, %v", it, err)
	}
	// Its own context, from the read or from a statement's rows, is taken.
	if _, err := cl.Put(ctx, "t", client.Key{PK: "b"}, []byte(`{"b":"next"}`), client.Options{Context: it.Context}); err != nil {
		t.Fatalf("PUT b with its own context: %v", err)
	}
	resp, err := cl.Query(ctx, client.QueryRequest{Statement: "SELECT * FROM t WHERE id = 'a'"})
	if err != nil || len(resp.Results) != 1 || len(resp.Results[0].Rows) != 1 {
		t.Fatalf("SELECT a: %+v, %v", resp, err)
	}
	if _, err := cl.Put(ctx, "t", client.Key{PK: "a"}, []byte(`{"a":4}`), client.Options{Context: resp.Results[0].Rows[0].Context}); err != nil {
		t.Fatalf("PUT a with the context of a SELECT's row: %v", err)
	}

	// The same key in a table dropped and created again is another item.
	if err := cl.DropTable(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	if _, err := cl.Put(ctx, "t", client.Key{PK: "a"}, []byte(`{"a":5}`), client.Options{Context: aCtx}); !client.IsStatus(err, 400) || !strings.Contains(err.Error(), says) {
		t.Errorf("PUT a of the new table with the dropped one's context: %v, want 400", err)
	}
}
