// Package wire is the versioned binary format of every message between
// gateways and storage nodes: message types, payloads, error codes and size
// limits. It is the only contract between the two, so gateway and
// storagenode never import each other.
//
// The codec is hand-written append/decode code rather than reflection: it
// runs once per replica message on the hot path. Every length read from the
// network is bounded before anything is allocated.
//
// WARNING: message types and error codes are append-only. Renumbering one
// breaks every mixed-version cluster.
//
// The package is pure: no I/O.
package wire
