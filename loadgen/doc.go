// Package loadgen drives a gateway with a configurable mix of reads and
// writes from many concurrent clients and reports throughput, latency
// percentiles and errors by kind. It is the engine of `ringtable bench`.
//
// Writers behave like careful applications: each write carries the latest
// context seen for its key, and when a write's answer says the item has
// siblings (concurrent writers of a hot key), the next write of that key
// reads it first and writes with the read's context, which resolves them.
// So a benchmark measures the system, not a growing pile of siblings from
// blind writes. It talks to the gateway only through the public HTTP
// client.
package loadgen
