// Package gateway is ringtable's stateless front door: it speaks HTTP and
// JSON to tenants, resolves the tenant and the table, turns each request
// into a quorum round of the coordinator state machine (package coord), and
// drives that round over NATS.
//
// Any gateway serves any request: everything a gateway caches (the ring,
// the table catalog) is read from the storage nodes and invalidated by
// notices on the bus. A gateway never stores data and never imports the
// storage node; the two share only the wire format.
//
// Errors become HTTP statuses in exactly one place (errors.go).
package gateway
