// Package membership is the cluster's member list and the rules that turn
// it into rings, as pure values and state machines: no I/O, no goroutines,
// no clock. Storage nodes gossip its State over NATS and persist it;
// gateways follow it; both derive the same rings from it.
//
// Each member's record is changed only by that member (it joins, finishes
// receiving its data, leaves), with a version it increments, so merging
// two views is taking, per member, the record with the higher version.
//
// Two rings derive from a State:
//   - the serving ring: the members that own data now (active and leaving
//     members), which reads and writes use;
//   - the target ring: the members that will own data once the pending
//     joins and leaves are done.
//
// While they differ, every node pulls the partitions it replicates in the
// target ring but not in the serving ring, then marks itself Ready for the
// target's epoch; once every target member is ready, joining members turn
// active and leaving members turn left, and the serving ring becomes the
// target. Writes meanwhile go to the replicas of both rings, so none is
// lost whichever ring a gateway uses.
//
// Rings replay members' join and leave sequences (package ring), so the
// assignment is a deterministic function of the member list: nodes that
// join at the same moment converge on one ring once they share one list.
package membership
