package vclock

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Decoded actor names are interned. A cluster has a handful of actors (one
// per node incarnation) and every decoded version names several of them,
// in its dot and its past: as fresh strings they were a tenth of the
// allocations of a read through the gateway.
//
// The table is copied on write and read without a lock. It is bounded, as
// contexts come from clients: past the bound, names decode into fresh
// strings as they would without the table.
const maxInterned = 1024

var interned struct {
	m  atomic.Pointer[map[string]Actor]
	mu sync.Mutex // serialises writers
}

func internedNames() map[string]Actor {
	if p := interned.m.Load(); p != nil {
		return *p
	}
	return nil
}

// actorOf returns the actor named b, sharing the string with earlier
// decodes of the same name.
func actorOf(b []byte) Actor {
	if a, ok := internedNames()[string(b)]; ok {
		return a
	}
	a := Actor(b)
	interned.mu.Lock()
	defer interned.mu.Unlock()
	old := internedNames()
	if x, ok := old[string(b)]; ok {
		return x // another decoder added it meanwhile
	}
	if len(old) >= maxInterned {
		return a
	}
	next := make(map[string]Actor, len(old)+1)
	maps.Copy(next, old)
	next[string(a)] = a
	interned.m.Store(&next)
	return a
}
