// Package storagenode is a replica: it serves the wire operations of its
// node subject (stamp a write, merge a replicated set, read an item, scan a
// partition key) against its engine.
//
// A storage node never coordinates a client request and never decides a
// quorum: gateways do. What it owns is the versioning rule applied at each
// replica (a stamped write supersedes exactly what its context covers;
// replicated sets are merged, never overwritten) and durability: a reply
// that acknowledges a write is sent only after the write is synced.
//
// A node never imports the gateway; the two share only messaging/wire.
package storagenode
