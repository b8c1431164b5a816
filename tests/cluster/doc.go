// Package cluster holds end-to-end tests that run ringtable as separate
// operating-system processes on loopback — storage nodes each embedding a
// NATS server routed to its peers, and gateways — and start, kill and
// restart them. It has no non-test code.
package cluster
