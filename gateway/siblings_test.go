package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// A table's sibling maximum refuses a blind write that would add one more
// sibling, with a typed error; a write with the read's context still
// resolves them.
func TestSiblingMaximum(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id", MaxSiblings: 5, SiblingWarn: 3})
	k := client.Key{PK: "hot"}
	for i := range 5 {
		if _, err := cl.Put(ctx, "t", k, []byte(fmt.Sprintf(`{"i":%d}`, i)), client.Options{}); err != nil {
			t.Fatalf("blind write %d: %v", i, err)
		}
	}
	_, err := cl.Put(ctx, "t", k, []byte(`{"i":5}`), client.Options{})
	var e *client.Error
	if !errorsAs(err, &e) || e.Status != http.StatusConflict || e.Code != "too_many_siblings" {
		t.Fatalf("sixth blind write: %v, want 409 too_many_siblings", err)
	}
	if want := "too_many_siblings: the item would have 6 siblings and its table allows 5"; !strings.HasPrefix(e.Message, want) {
		t.Errorf("message %q, want it to start %q", e.Message, want)
	}
	it, err := cl.Get(ctx, "t", k, client.Options{R: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(it.Items) != 5 {
		t.Fatalf("siblings = %d, want 5", len(it.Items))
	}
	if _, err := cl.Put(ctx, "t", k, []byte(`{"i":"resolved"}`), client.Options{Context: it.Context}); err != nil {
		t.Fatalf("resolving write: %v", err)
	}
	it, err = cl.Get(ctx, "t", k, client.Options{R: 3})
	if err != nil || len(it.Items) != 1 {
		t.Fatalf("after resolving: %v, %v", it, err)
	}
}

// A write's answer says how many siblings the item has after it, so a
// client learns of concurrent writes without reading: blind writes add
// one each, and a write with the context of a read that showed them all
// leaves one.
func TestWriteAnswerCountsSiblings(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	ctx := context.Background()
	cl := c.Client(0)
	mustCreate(t, cl, client.Table{Name: "t", PartitionKey: "id"})
	k := client.Key{PK: "k"}
	first, err := cl.PutItem(ctx, "t", k, []byte(`{"i":0}`), client.Options{})
	if err != nil || first.Siblings != 1 {
		t.Fatalf("first write: %+v, %v; want 1 sibling", first, err)
	}
	for i := 1; i <= 2; i++ {
		// Each write carries the first write's context: concurrent with
		// the writes between.
		w, err := cl.PutItem(ctx, "t", k, []byte(fmt.Sprintf(`{"i":%d}`, i)), client.Options{Context: first.Context})
		if err != nil || w.Siblings != i {
			t.Fatalf("write %d: %+v, %v; want %d siblings", i, w, err, i)
		}
	}
	it, err := cl.Get(ctx, "t", k, client.Options{R: 3})
	if err != nil || len(it.Items) != 2 {
		t.Fatalf("read: %+v, %v; want 2 siblings", it, err)
	}
	w, err := cl.PutItem(ctx, "t", k, []byte(`{"i":"merged"}`), client.Options{Context: it.Context})
	if err != nil || w.Siblings != 1 {
		t.Fatalf("resolving write: %+v, %v; want 1 sibling", w, err)
	}
}
