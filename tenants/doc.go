// Package tenants owns tenant identity, API keys, quotas and the keyspace:
// the only encoder and decoder of storage keys. Every Badger key is built
// here, so a name or key with any bytes in it can never sort into another
// tenant's or another table's keys.
//
// It must never do I/O: the registry that persists tenants and keys lives
// in the gateway (in the cluster's system keyspace); this package only
// defines what is stored and how keys are made and checked.
package tenants
