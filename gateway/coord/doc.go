// Package coord is the per-request coordinator of a quorum round, as a pure
// state machine: one Machine per client request decides whom to ask, counts
// replies against R or W, retries a failed stamper on the next node, gives
// up with a typed error, reconciles siblings and chooses whom to repair.
//
// A Machine does no I/O, starts no goroutines and never reads a clock. The
// gateway's driver feeds it events (a reply, a "no responders" notice for a
// node, a tick meaning one round timeout has elapsed, EvSlow) and performs the
// actions each step returns (messages to send, the answer to give the
// client, whether the round is over). Scripted scenarios in testdata/ drive
// it step by step, as etcd's raft package is tested.
//
// Rounds (Reference: Dynamo §4.5, §4.6):
//   - Put/Delete: the first preference-list node that answers stamps the
//     write and forwards the stamped set to the other replicas, which
//     acknowledge to the coordinator directly. Success needs the stamper's
//     acknowledgement and W acknowledgements in all (the stamper's counts).
//     A stamper that does not answer within a tick is replaced by the next
//     node (and still sent the write, last, if no fallback takes its
//     place); replies to an abandoned attempt are ignored.
//   - Get: R replicas are asked, those neither believed down nor late
//     (Config.Late) first, and the others kept as spares (Config.AskAll
//     asks all N, for read repair to reach every replica); R+W>N holds
//     between any R and any W. A spare is asked for each asked replica
//     that fails before the answer, and every spare left at EvSlow (the
//     driver's speculation delay, shorter than a tick) or at the first
//     tick. The answer is given after R replies, and once every asked
//     replica answered (or a tick passed) those that answered with a
//     stale set are sent the reconciled one. Short of R at the first
//     tick, those still silent are asked once more (a request lost with a
//     dying NATS server is then not a failed read), and the second tick
//     ends the round.
//   - Scan: as Get, item by item over one partition key's sort-key range.
package coord
