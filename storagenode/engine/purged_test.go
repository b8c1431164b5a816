package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

func write(e *Engine, key []byte) error {
	_, err := e.Apply(key, func(tx *Tx, cur vclock.Set) (vclock.Set, bool, error) {
		return one(tx, []byte("v")), true, nil
	})
	return err
}

// A purge drops a table's items and hints (whoever a hint is for) and
// refuses its items from then on, across a restart; other tables and
// tenants are untouched.
func TestPurgeRefusesLateWrites(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, "n1")
	item := func(tenant, table, pk string) tenants.Key {
		return tenants.Key{Kind: tenants.KindData, Partition: 7, Tenant: tenant, Table: table, PK: pk}
	}
	gone, kept, other := item("t", "gone", "a"), item("t", "kept", "a"), item("u", "gone", "a")
	hints := [][]byte{tenants.HintKey("n2", gone), tenants.HintKey("n3", item("t", "gone", "b"))}
	for _, k := range append([][]byte{gone.Encode(), kept.Encode(), other.Encode(), tenants.HintKey("n2", kept)}, hints...) {
		if err := write(e, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Purge([][]byte{tenants.TablePrefix(tenants.KindData, 7, "t", "gone")}, "t", "gone"); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, k := range append([][]byte{gone.Encode()}, hints...) {
			if s, err := e.Get(k); err != nil || s != nil {
				t.Errorf("%s: %q holds %v, %v; want nothing", when, k, s, err)
			}
			if err := write(e, k); !errors.Is(err, ErrPurged) {
				t.Errorf("%s: a write to %q: %v, want ErrPurged", when, k, err)
			}
		}
		for _, k := range [][]byte{kept.Encode(), other.Encode(), tenants.HintKey("n2", kept)} {
			if s, err := e.Get(k); err != nil || len(s) != 1 {
				t.Errorf("%s: %q holds %v, %v; want its item", when, k, s, err)
			}
			if err := write(e, k); err != nil {
				t.Errorf("%s: a write to %q: %v", when, k, err)
			}
		}
	}
	check("after the purge")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open(t, dir, "n1")
	defer e.Close()
	check("after a restart")

	// A tenant's purge covers all its tables, and its catalog.
	if err := e.Purge(nil, "t", ""); err != nil {
		t.Fatal(err)
	}
	sys := tenants.Key{Kind: tenants.KindSystem, Partition: 1, Tenant: "t", Table: "catalog", PK: "x"}
	for _, k := range [][]byte{kept.Encode(), item("t", "new", "b").Encode(), sys.Encode(), tenants.HintKey("n2", kept)} {
		if err := write(e, k); !errors.Is(err, ErrPurged) {
			t.Errorf("after the tenant's purge, a write to %q: %v, want ErrPurged", k, err)
		}
	}
	if err := write(e, other.Encode()); err != nil {
		t.Errorf("another tenant's item: %v", err)
	}
}

// Purges are forgotten after PurgedFor, so their records do not pile up.
func TestPurgeRecordsExpire(t *testing.T) {
	cfg := DefaultConfig(t.TempDir(), "n1")
	cfg.PurgedFor = 50 * time.Millisecond
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a := tenants.Key{Kind: tenants.KindData, Partition: 1, Tenant: "t", Table: "a", PK: "k"}.Encode()
	b := tenants.Key{Kind: tenants.KindData, Partition: 1, Tenant: "t", Table: "b", PK: "k"}.Encode()
	if err := e.Purge(nil, "t", "a"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * cfg.PurgedFor)
	if err := e.Purge(nil, "t", "b"); err != nil {
		t.Fatal(err)
	}
	if err := write(e, a); err != nil {
		t.Errorf("a write to a table purged longer ago than PurgedFor: %v", err)
	}
	if err := write(e, b); !errors.Is(err, ErrPurged) {
		t.Errorf("a write to the table just purged: %v, want ErrPurged", err)
	}
	if n, err := e.Count(metaPurged); err != nil || n != 1 {
		t.Errorf("%d purge records (%v), want 1", n, err)
	}
}
