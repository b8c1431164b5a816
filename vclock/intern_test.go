package vclock

import (
	"fmt"
	"sync"
	"testing"
	"unsafe"
)

func decodeDot(t *testing.T, b []byte) Dot {
	t.Helper()
	d := NewDecoder(b)
	dot := d.Dot()
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	return dot
}

func TestDecodedActorsShareOneString(t *testing.T) {
	interned.m.Store(nil)
	t.Cleanup(func() { interned.m.Store(nil) })
	enc := AppendDot(nil, Dot{Actor: "n1~abcdefgh", Counter: 7, Stamp: 3})
	a, b := decodeDot(t, enc), decodeDot(t, enc)
	if a.Actor != "n1~abcdefgh" || a != b {
		t.Fatalf("decoded %+v and %+v", a, b)
	}
	if unsafe.StringData(string(a.Actor)) != unsafe.StringData(string(b.Actor)) {
		t.Fatal("the second decode of an actor made a new string")
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = decodeDot(t, enc) }); allocs > 1 { // the Decoder itself
		t.Fatalf("decoding a known actor's dot: %v allocations", allocs)
	}
	// An encoding buffer reused for another name must not change the
	// interned one.
	enc[1] = 'x'
	if c := decodeDot(t, enc); c.Actor != "x1~abcdefgh" || a.Actor != "n1~abcdefgh" {
		t.Fatalf("after reuse of the buffer: %q, first decode now %q", c.Actor, a.Actor)
	}
}

// Names from clients' contexts could be anything: the table stops growing
// at its bound and names past it still decode correctly.
func TestInternTableIsBounded(t *testing.T) {
	interned.m.Store(nil)
	t.Cleanup(func() { interned.m.Store(nil) })
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range maxInterned {
				name := Actor(fmt.Sprintf("a%d-%d", w, i))
				d := NewDecoder(AppendDot(nil, Dot{Actor: name, Counter: 1}))
				if got := d.Dot().Actor; got != name || d.Err() != nil {
					t.Errorf("decoded %q as %q (%v)", name, got, d.Err())
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(internedNames()); n != maxInterned {
		t.Fatalf("table holds %d names, bound is %d", n, maxInterned)
	}
}
