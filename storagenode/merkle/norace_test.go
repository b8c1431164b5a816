//go:build !race

// Allocation counts, which the race detector's own allocations would
// blur. CI runs them in its race-free pass: go test -run NoRace ./...

package merkle_test

import (
	"testing"

	"github.com/ringtable/ringtable/storagenode/merkle"
)

// Every replica write hashes its key's set twice, so ItemHash takes no
// memory of its own for the sets writes make (a few versions).
func TestNoRaceItemHashAllocations(t *testing.T) {
	key := []byte("t1/items/user-000123")
	s := set(v("n1", 41, false), v("n2", 7, true), v("n3", 1<<40, false))
	if n := testing.AllocsPerRun(100, func() { merkle.ItemHash(key, s) }); n != 0 {
		t.Errorf("ItemHash made %v allocations, want 0", n)
	}
}
