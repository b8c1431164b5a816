package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/tenants"
)

// ErrPurged refuses a write to an item of a purged tenant or table. A
// purge drops what a node holds at that moment; without a record of it, a
// forward, a hint, a read repair or a transfer page still on its way would
// store the dropped items again, where nothing would ever purge them.
var ErrPurged = errors.New("engine: the item's table has been dropped")

// DefaultPurgedFor is how long a node remembers a purge: longer than any
// message, hint or transfer page can be on its way.
const DefaultPurgedFor = 30 * 24 * time.Hour

// purgedSet remembers purges by tenants.Scope, the time each was made,
// so a key is matched without decoding or allocating (tenants.ScopeOf).
// Owned by the writer goroutine.
type purgedSet map[string]time.Time

var metaPurged = []byte{byte(tenants.KindMeta), 'p'}

// purgedKey reports whether a data, system or hint key belongs to a
// purged tenant (a tenant's catalog is under its ID too) or table.
func (e *Engine) purgedKey(key []byte) bool {
	if len(e.purged) == 0 {
		return false
	}
	scope, tenantLen, ok := tenants.ScopeOf(key)
	if !ok {
		return false
	}
	if _, ok := e.purged[string(scope[:tenantLen])]; ok {
		return true
	}
	_, ok = e.purged[string(scope)]
	return ok
}

func (e *Engine) loadPurged(txn *badger.Txn) error {
	e.purged = purgedSet{}
	opts := badger.DefaultIteratorOptions
	opts.Prefix = metaPurged
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		err := it.Item().Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("bad purge record of %d bytes", len(v))
			}
			scope := string(it.Item().Key()[len(metaPurged):])
			e.purged[scope] = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
			return nil
		})
		if err != nil {
			return fmt.Errorf("engine: purges: %w", err)
		}
	}
	return nil
}

// recordPurge remembers a purge and forgets those older than PurgedFor,
// on the writer goroutine. Its writes bypass the redo log: Purge's
// checkpoint makes them durable.
func (e *Engine) recordPurge(tenant, table string, now time.Time) error {
	scope := string(tenants.Scope(tenant, table))
	var stale []string
	for s, at := range e.purged {
		if now.Sub(at) > e.cfg.PurgedFor && s != scope {
			stale = append(stale, s)
		}
	}
	_, known := e.purged[scope]
	if known && len(stale) == 0 {
		return nil
	}
	err := e.db.Update(func(txn *badger.Txn) error {
		for _, s := range stale {
			if err := txn.Delete(append(append([]byte(nil), metaPurged...), s...)); err != nil {
				return err
			}
		}
		if known {
			return nil
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(now.UnixNano()))
		return txn.Set(append(append([]byte(nil), metaPurged...), scope...), v[:])
	})
	if err != nil {
		return fmt.Errorf("engine: purge record: %w", err)
	}
	for _, s := range stale {
		delete(e.purged, s)
	}
	if !known {
		e.purged[scope] = now
	}
	return nil
}

// hintPrefixes finds the prefixes of the hints a purge covers: a hint's
// key starts with its owner, so no fixed prefix reaches them all.
func hintPrefixes(txn *badger.Txn, tenant, table string) [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for _, kind := range tenants.HintKinds {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues = []byte{byte(kind)}, false
		it := txn.NewIterator(opts)
		for it.Rewind(); it.Valid(); it.Next() {
			owner, k, err := tenants.DecodeHintKey(it.Item().Key())
			if err != nil || k.Tenant != tenant || table != "" && k.Table != table {
				continue
			}
			pre := tenants.HintTablePrefix(k.Kind, k.Partition, owner, tenant, table)
			if !seen[string(pre)] {
				seen[string(pre)] = true
				out = append(out, pre)
			}
		}
		it.Close()
	}
	return out
}
