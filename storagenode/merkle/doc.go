// Package merkle is the hash tree a storage node keeps per ring partition
// so that two replicas can find the keys on which they differ by
// exchanging O(differences · log n) hashes instead of their data.
//
// Choice: one tree per fixed ring partition (not per virtual-node range):
// partitions are the unit of placement, transfer and hints already, so a
// membership change never splits or merges a tree — a node that takes a
// partition over builds its tree from the very writes that bring the data
// in, and no tree is ever rebuilt because the ring moved. Only a purge
// (deleting a tenant or table by prefix, behind the write path's back)
// rebuilds the trees it touched.
//
// Each tree has Leaves buckets; a key falls in the bucket given by a hash
// of the key alone, and contributes to that leaf the hash of (key, version
// set), where the version set is the set of dots (and tombstone flags) of
// its siblings: two replicas that hold the same versions contribute the
// same hash whatever their encodings. Leaves and inner nodes combine their
// children by XOR, so a write updates its leaf without reading anything
// else, and the order of writes does not matter. The node persists the
// leaves (one small key per written leaf, in the write's own batch) and
// derives inner nodes in memory, when a tree is read after writes.
//
// The package is pure: no I/O.
package merkle
