// Package loadgen drives a gateway with a configurable mix of reads and
// writes from many concurrent clients and reports throughput, latency
// percentiles and errors by kind. It is the engine of `ringtable bench`.
//
// Writers behave like careful applications: each write carries the latest
// context seen for its key, so a benchmark measures the system, not a
// growing pile of siblings from blind writes. It talks to the gateway only
// through the public HTTP client.
package loadgen
