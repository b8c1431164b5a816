// Package engine is a storage node's durable store: sibling sets in Badger,
// written through a group-committing writer.
//
// Contract:
//   - Update runs its function on the single writer goroutine, so the
//     read-modify-write of a key is never interleaved with another; the
//     function must not block.
//   - Every update of a batch is committed with one Badger transaction,
//     whose writes also go to the engine's own redo log (redo.go), and one
//     fsync of that log; an update's completion is reported only after
//     that sync, so a replica acknowledges only what is durable. Open
//     replays the log over what Badger kept. The writer takes
//     whatever arrived while the previous batch was syncing, so an idle
//     engine adds no batching delay and a busy one shares one fsync among
//     many writes.
//   - The engine never stores a set it was not given by an update function:
//     the versioning rules live with the caller (package storagenode).
//   - Counters handed out by Tx.NextCounter are unique for the life of the
//     data directory, across restarts: they are leased in blocks whose end
//     is made durable before any counter of the block is acknowledged.
//   - A fresh data directory gets a new incarnation, so a node that lost its
//     data never reuses the clock actor of its previous life.
//
// Anything that writes Badger past the writer (DB) calls Checkpoint
// after it, or the write is durable only once its memtable is flushed.
//
// Close stops accepting updates, completes those already accepted, and
// closes Badger.
package engine
