package engine

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/storagenode/merkle"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// The engine keeps one Merkle tree per ring partition over the keys of the
// replicated kinds, updated by every update in the update's own batch (the
// changed leaf is persisted next to the data), so trees are never rebuilt
// on the write path. Trees are owned by the writer goroutine.

const leafKeyLen = 5

func leafKey(p uint32, leaf int) []byte {
	return appendLeafKey(make([]byte, 0, leafKeyLen), p, leaf)
}

func appendLeafKey(b []byte, p uint32, leaf int) []byte {
	return append(b, byte(tenants.KindMerkle), byte(p>>8), byte(p), byte(leaf>>8), byte(leaf))
}

func (e *Engine) tree(p uint32) *merkle.Tree {
	t, ok := e.trees[p]
	if !ok {
		t = merkle.New()
		e.trees[p] = t
	}
	return t
}

func (e *Engine) loadTrees(txn *badger.Txn) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte{byte(tenants.KindMerkle)}
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != 5 {
			continue
		}
		p, leaf := uint32(k[1])<<8|uint32(k[2]), int(k[3])<<8|int(k[4])
		err := it.Item().Value(func(v []byte) error {
			if len(v) != 16 || leaf >= merkle.Leaves {
				return fmt.Errorf("engine: corrupt Merkle leaf %x", k)
			}
			e.tree(p).SetLeaf(leaf, merkle.Hash{binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:])})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// trackTree folds a staged update into its partition's tree and stages
// the changed leaf.
// A redo (the batch's transaction was replaced) passes old == new: the
// tree already has the delta, but the leaf must be staged again.
func (e *Engine) trackTree(txn *badger.Txn, key []byte, old, new vclock.Set, redo bool) error {
	if len(key) < 3 || !tenants.Kind(key[0]).Replicated() {
		return nil
	}
	delta := merkle.Delta(key, old, new)
	if delta.IsZero() && !redo {
		return nil
	}
	p := uint32(key[1])<<8 | uint32(key[2])
	leaf := merkle.Bucket(key)
	t := e.tree(p)
	t.Apply(leaf, delta)
	h := t.Leaf(leaf)
	// The key and the hash share one allocation: Badger keeps both until
	// the batch commits.
	kv := appendLeafKey(make([]byte, 0, leafKeyLen+16), p, leaf)
	kv = binary.BigEndian.AppendUint64(kv, h[0])
	kv = binary.BigEndian.AppendUint64(kv, h[1])
	return e.txnSet(txn, kv[:leafKeyLen:leafKeyLen], kv[leafKeyLen:], 0)
}

// TreeNodes returns the hashes of nodes of one level of partition p's
// tree, read on the writer goroutine (between batches).
func (e *Engine) TreeNodes(p uint32, level int, idx []int) ([]merkle.Hash, error) {
	var out []merkle.Hash
	err := e.onWriter(func() error {
		out = e.tree(p).Nodes(level, idx)
		return nil
	})
	return out, err
}

// Tree returns a copy of partition p's tree.
func (e *Engine) Tree(p uint32) (*merkle.Tree, error) {
	var out *merkle.Tree
	err := e.onWriter(func() error {
		out = e.tree(p).Clone()
		return nil
	})
	return out, err
}

// BucketItems returns the items of partition p (replicated kinds) whose
// keys fall in the given leaves, with their raw storage keys.
func (e *Engine) BucketItems(p uint32, leaves []int) (map[string]vclock.Set, error) {
	want := map[int]bool{}
	for _, l := range leaves {
		want[l] = true
	}
	out := map[string]vclock.Set{}
	err := e.db.View(func(txn *badger.Txn) error {
		for _, kind := range []tenants.Kind{tenants.KindData, tenants.KindSystem} {
			opts := badger.DefaultIteratorOptions
			opts.Prefix = tenants.PartitionPrefix(kind, p)
			opts.PrefetchValues = false
			it := txn.NewIterator(opts)
			for it.Rewind(); it.Valid(); it.Next() {
				k := it.Item().KeyCopy(nil)
				if !want[merkle.Bucket(k)] {
					continue
				}
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					it.Close()
					return err
				}
				s, err := vclock.DecodeSet(v, e.cfg.MaxValue)
				if err != nil {
					it.Close()
					return fmt.Errorf("engine: stored set of %x: %w", k, err)
				}
				out[string(k)] = s
			}
			it.Close()
		}
		return nil
	})
	return out, err
}

// RebuildTrees recomputes the trees of the given partitions from the
// stored keys: after a purge, which deletes keys behind the write path.
func (e *Engine) RebuildTrees(parts []uint32) error {
	return e.onWriter(func() error {
		if err := e.rebuild(parts); err != nil {
			return err
		}
		return e.checkpoint() // the leaves were written past the redo log
	})
}

// rebuild runs on the writer goroutine.
func (e *Engine) rebuild(parts []uint32) error {
	{
		for _, p := range parts {
			t := merkle.New()
			err := e.db.View(func(txn *badger.Txn) error {
				for _, kind := range []tenants.Kind{tenants.KindData, tenants.KindSystem} {
					opts := badger.DefaultIteratorOptions
					opts.Prefix = tenants.PartitionPrefix(kind, p)
					it := txn.NewIterator(opts)
					for it.Rewind(); it.Valid(); it.Next() {
						k := it.Item().KeyCopy(nil)
						v, err := it.Item().ValueCopy(nil)
						if err != nil {
							it.Close()
							return err
						}
						s, err := vclock.DecodeSet(v, e.cfg.MaxValue)
						if err != nil {
							continue
						}
						t.Apply(merkle.Bucket(k), merkle.ItemHash(k, s))
					}
					it.Close()
				}
				return nil
			})
			if err != nil {
				return err
			}
			err = e.db.Update(func(txn *badger.Txn) error {
				for leaf := range merkle.Leaves {
					h := t.Leaf(leaf)
					var v [16]byte
					binary.BigEndian.PutUint64(v[:8], h[0])
					binary.BigEndian.PutUint64(v[8:], h[1])
					if err := txn.Set(leafKey(p, leaf), v[:]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			e.trees[p] = t
		}
		return nil
	}
}
