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
// Errors become HTTP statuses in exactly one place (errors.go). Every
// route is a net/http handler; Serve answers items' reads and writes at a
// plain path through fasthttp and hands every other request's connection
// to net/http (serve.go), so the two never answer differently.
package gateway
