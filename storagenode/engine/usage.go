package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/tenants"
)

// Usage accounting: the bytes of stored sibling sets of replicated kinds,
// per tenant and table, kept by the writer goroutine and persisted with
// the batches that change them. It is approximate by design (a failed
// commit may leave it slightly off); quotas need an estimate, not a ledger.

type usageKey struct{ tenant, table string }

// maxUsageKeys bounds the writer's memo of encoded table names.
const maxUsageKeys = 1 << 14

// usageMetaKey is the meta key holding one table's byte count.
func usageMetaKey(k usageKey) []byte {
	b := []byte{byte(tenants.KindMeta), 'u'}
	b = binary.AppendUvarint(b, uint64(len(k.tenant)))
	b = append(b, k.tenant...)
	return append(b, k.table...)
}

func parseUsageMetaKey(b []byte) (usageKey, bool) {
	if len(b) < 2 || b[0] != byte(tenants.KindMeta) || b[1] != 'u' {
		return usageKey{}, false
	}
	n, w := binary.Uvarint(b[2:])
	if w <= 0 || uint64(len(b)-2-w) < n {
		return usageKey{}, false
	}
	rest := b[2+w:]
	return usageKey{tenant: string(rest[:n]), table: string(rest[n:])}, true
}

func (e *Engine) loadUsage(txn *badger.Txn) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte{byte(tenants.KindMeta), 'u'}
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k, ok := parseUsageMetaKey(it.Item().Key())
		if !ok {
			continue
		}
		err := it.Item().Value(func(v []byte) error {
			n, w := binary.Varint(v)
			if w <= 0 {
				return errors.New("bad usage counter")
			}
			e.usage[k] = n
			return nil
		})
		if err != nil {
			return fmt.Errorf("engine: usage: %w", err)
		}
	}
	return nil
}

// account records the change of a key's stored size, for kinds whose keys
// belong to a tenant's table.
func (e *Engine) account(key []byte, oldSize, newSize int) {
	if oldSize == newSize || len(key) == 0 || !tenants.Kind(key[0]).Replicated() {
		return
	}
	// The table is looked up by its names as encoded (no allocation) and
	// decoded only the first time: this runs on the writer goroutine for
	// every replica of every write.
	end, err := tenants.TableEnd(key)
	if err != nil {
		return
	}
	uk, ok := e.usageKeys[string(key[3:end])]
	if !ok {
		k, err := tenants.Decode(key)
		if err != nil {
			return
		}
		uk = usageKey{k.Tenant, k.Table}
		if len(e.usageKeys) >= maxUsageKeys {
			clear(e.usageKeys)
		}
		e.usageKeys[string(key[3:end])] = uk
	}
	e.usage[uk] += int64(newSize - oldSize)
	e.dirtyUsage[uk] = true
}

// stageUsage writes the changed counters into the batch's transaction.
func (e *Engine) stageUsage(txn *badger.Txn) {
	for k := range e.dirtyUsage {
		v := binary.AppendVarint(nil, e.usage[k])
		if err := e.txnSet(txn, usageMetaKey(k), v, 0); err != nil {
			return // retried with the next batch that touches the table
		}
		delete(e.dirtyUsage, k)
	}
}

// TableUsage is the bytes stored for one table of one tenant.
type TableUsage struct {
	Tenant, Table string
	Bytes         int64
}

// Usage returns the bytes stored per tenant and table. It runs on the
// writer goroutine, so it sees a consistent picture.
func (e *Engine) Usage() ([]TableUsage, error) {
	var out []TableUsage
	err := e.onWriter(func() error {
		for k, n := range e.usage {
			if n != 0 {
				out = append(out, TableUsage{Tenant: k.tenant, Table: k.table, Bytes: n})
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Tenant != out[j].Tenant {
			return out[i].Tenant < out[j].Tenant
		}
		return out[i].Table < out[j].Table
	})
	return out, err
}

// Purge deletes every key starting with one of prefixes and the hints of
// tenant's table (every table's when table is empty), forgets their usage,
// and refuses their items from then on (ErrPurged). It runs on
// the writer goroutine between batches, so no commit races Badger's
// DropPrefix.
func (e *Engine) Purge(prefixes [][]byte, tenant, table string) error {
	return e.onWriter(func() error {
		// Remembered first: from here on, the writer refuses the items.
		if err := e.recordPurge(tenant, table, time.Now()); err != nil {
			return err
		}
		// Only prefixes that hold keys: DropPrefix flushes and rewrites
		// tables, and the trees of untouched partitions need no rebuild.
		var present [][]byte
		err := e.db.View(func(txn *badger.Txn) error {
			present = hintPrefixes(txn, tenant, table)
			for _, pre := range prefixes {
				opts := badger.DefaultIteratorOptions
				opts.Prefix, opts.PrefetchValues = pre, false
				it := txn.NewIterator(opts)
				it.Rewind()
				if it.Valid() {
					present = append(present, pre)
				}
				it.Close()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("engine: purge: %w", err)
		}
		// With nothing to drop (a purge sent again, to a node that did it
		// or never held the items), the writes and the cache go on.
		if len(present) > 0 {
			// No record older than the drop may be replayed over it.
			if err := e.checkpoint(); err != nil {
				return fmt.Errorf("engine: purge: %w", err)
			}
			err := e.db.DropPrefix(present...)
			if e.cache != nil {
				// DropPrefix removed keys behind the cache's back; cleared
				// at once, not after the trees' rebuild (seconds on a busy
				// node), during which reads would still find them.
				e.cache.clear()
			}
			if err != nil {
				return fmt.Errorf("engine: purge: %w", err)
			}
		}
		// DropPrefix bypassed the trees: rebuild the partitions it touched.
		parts := map[uint32]bool{}
		for _, pre := range present {
			if len(pre) >= 3 && tenants.Kind(pre[0]).Replicated() {
				parts[uint32(pre[1])<<8|uint32(pre[2])] = true
			}
		}
		var ps []uint32
		for p := range parts {
			ps = append(ps, p)
		}
		if err := e.rebuild(ps); err != nil {
			return err
		}
		err = e.db.Update(func(txn *badger.Txn) error {
			for k := range e.usage {
				if k.tenant == tenant && (table == "" || k.table == table) {
					delete(e.usage, k)
					delete(e.dirtyUsage, k)
					if err := txn.Delete(usageMetaKey(k)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return e.checkpoint() // the purge's writes bypassed the redo log
	})
}
