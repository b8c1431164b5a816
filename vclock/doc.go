// Package vclock tracks causality between versions of one item with dotted
// version vectors, so replicas can tell a superseded version from a truly
// concurrent sibling.
//
// A version's clock is a Dot, the unique event that created it (an actor and
// a counter), plus Past, the version vector of what the writer had seen (the
// context it supplied). Version a is superseded by version b exactly when b's
// past covers a's dot. Because every write has its own dot, a write with a
// stale or empty context never hides or duplicates what it did not see: the
// number of siblings is bounded by the number of truly concurrent writes,
// not by how stale the clients' contexts are (the sibling explosion of plain
// per-node vector clocks).
//
// Actors are storage-node incarnations, never gateways or clients. A node
// that loses its data must come back as a new actor (a new epoch), or fresh
// counters could collide with old dots and a new write would be dropped as
// already known (Riak's kv679).
//
// Invariants the package keeps:
//   - Merge of version vectors is commutative, associative and idempotent,
//     and the merge descends both inputs.
//   - Set.Sync is the union of two sibling sets minus every version that
//     another version in the union supersedes; it is commutative,
//     associative and idempotent.
//   - Pruning only ever removes knowledge from a Past, never a Dot, so it can
//     turn a superseded version into a (spurious) sibling but never a
//     concurrent version into a superseded one: a lost write is worse than
//     an extra sibling.
//
// The package is pure: no I/O, no goroutines, no wall clock (callers pass
// timestamps in).
package vclock
