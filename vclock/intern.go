package vclock

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Decoded actor names are interned. A cluster has a handful of actors (one
// per node incarnation) and every decoded version names several of them,
// in its dot and its past, on every replica and gateway a request passes:
// as fresh strings they took 6 of a coordinated read's 281 allocations.
//
// The table is copied on write and read without a lock. It is bounded, as
// contexts come from clients: once full, names it lacks decode into fresh
// strings, as they would without it, and without taking its lock.
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
	names := internedNames()
	if a, ok := names[string(b)]; ok {
		return a
	}
	a := Actor(b)
	if len(names) >= maxInterned {
		return a
	}
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
