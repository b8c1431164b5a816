// Package ring places keys on storage nodes with Dynamo's final
// partitioning scheme: the MD5 hash space is cut into Q equal partitions
// (Q a power of two, fixed when the cluster is created) and whole
// partitions are assigned to nodes as their virtual nodes.
//
// The assignment is a deterministic function of the member list: members
// are replayed in the order they joined (join sequence, then ID), each
// joining node taking its weighted share of partitions from the most loaded
// nodes and each leaving node handing its partitions to the least loaded
// ones. Replaying the same members therefore yields the same ring on every
// process, nodes that join at the same moment converge on one ring once
// they agree on the member list, and a join moves only the partitions the
// new node takes.
//
// A key's preference list is the first N distinct physical nodes met
// walking the ring clockwise from its partition; the nodes met after them,
// in order, are its fallbacks for sloppy quorum.
//
// The package is pure: no I/O, no goroutines, no clock. A Ring is
// immutable once built and safe for concurrent use.
package ring
