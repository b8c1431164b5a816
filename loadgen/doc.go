// Package loadgen drives a gateway with a configurable mix of reads and
// writes from many concurrent clients and reports throughput, latency
// percentiles and errors by kind. It is the engine of `ringtable bench`.
//
// Writers behave like careful applications: each write carries the latest
// context seen for its key, and when a write's answer says the item has
// siblings (concurrent writers of a hot key), the next write of that key
// reads it first and writes with the read's context, which resolves them.
// A write of a key the run has no context for yet (the preload's, or the
// first of a run without one) that meets versions it did not know of, as
// on a table an earlier run wrote, resolves them at once the same way.
// So a benchmark measures the system, not a growing pile of siblings from
// blind writes. It talks to the gateway only through the public HTTP
// client.
package loadgen
