package ring

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestBalanceFiveNodes(t *testing.T) {
	r := mustNew(t, DefaultQ, nodes(5))
	checkRing(t, r)
	even := float64(DefaultQ) / 5
	for id, c := range counts(r) {
		if !within(float64(c), even, 0.15) {
			t.Errorf("%s owns %d partitions, want %.1f ±15%%", id, c, even)
		}
	}

	// Keys: random tenant/table/partition-key strings from a seeded source.
	rng := rand.New(rand.NewPCG(2024, 5))
	const keys = 100_000
	perNode := map[NodeID]int{}
	for range keys {
		h := KeyHash(randString(rng, 1+rng.IntN(12)), randString(rng, 1+rng.IntN(12)), randString(rng, 1+rng.IntN(40)))
		p := r.PartitionOf(h)
		if int(p) >= r.Q() {
			t.Fatalf("PartitionOf(%x) = %d, out of range", h, p)
		}
		perNode[r.Owner(p)]++
	}
	if len(perNode) != 5 {
		t.Fatalf("keys landed on %d nodes, want 5", len(perNode))
	}
	for id, c := range perNode {
		if !within(float64(c), keys/5, 0.15) {
			t.Errorf("%s owns %d of %d keys, want %d ±15%%", id, c, keys, keys/5)
		}
	}
	t.Logf("partitions per node %v, keys per node %v", counts(r), perNode)
}

func randString(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return string(b)
}

// TestBalanceEqualNodes: with equal weights, partition counts never differ
// by more than one, for any cluster size.
func TestBalanceEqualNodes(t *testing.T) {
	for _, q := range []int{1, 2, 64, 256, 1024} {
		for n := 1; n <= 12; n++ {
			r := mustNew(t, q, nodes(n))
			c := counts(r)
			lo, hi := q, 0
			for _, id := range r.Nodes() {
				lo, hi = min(lo, c[id]), max(hi, c[id])
			}
			if hi-lo > 1 {
				t.Errorf("Q=%d N=%d: counts range %d..%d", q, n, lo, hi)
			}
			if q >= 64 && !within(float64(lo), float64(q)/float64(n), 0.15) {
				t.Errorf("Q=%d N=%d: a node owns %d partitions, want %.1f ±15%%", q, n, lo, float64(q)/float64(n))
			}
		}
	}
}

func TestJoinMovesOnlyToTheNewNode(t *testing.T) {
	for _, tc := range []struct{ q, from int }{
		{256, 1}, {256, 2}, {256, 3}, {256, 4}, {256, 5}, {256, 9},
		{1024, 3}, {1024, 4}, {1024, 5},
		{64, 5}, {1, 1}, {2, 2},
	} {
		t.Run(fmt.Sprintf("Q=%d/%d→%d", tc.q, tc.from, tc.from+1), func(t *testing.T) {
			before := mustNew(t, tc.q, nodes(tc.from))
			after := mustNew(t, tc.q, nodes(tc.from+1))
			checkRing(t, after)
			newID := NodeID(fmt.Sprintf("n%d", tc.from+1))
			moved := 0
			for p := range tc.q {
				was, is := before.Owner(Partition(p)), after.Owner(Partition(p))
				if was == is {
					continue
				}
				moved++
				if is != newID {
					t.Fatalf("partition %d moved %s → %s, not to the new node %s", p, was, is, newID)
				}
			}
			if moved != len(after.Partitions(newID)) {
				t.Fatalf("new node owns %d partitions but %d moved", len(after.Partitions(newID)), moved)
			}
			limit := float64(tc.q) * (1/float64(tc.from+1) + 0.03)
			if tc.q >= 64 && float64(moved) > limit {
				t.Fatalf("%d of %d partitions moved, limit %.1f", moved, tc.q, limit)
			}
			// The joiner takes its share, not less.
			if want := (tc.q*2 + tc.from + 1) / (2 * (tc.from + 1)); moved != want {
				t.Fatalf("new node took %d partitions, want its share %d", moved, want)
			}
		})
	}
}

// TestJoinSpreadsPartitions: the partitions a joiner takes are spread over
// the ring (taken in a hashed order), not one contiguous run.
func TestJoinSpreadsPartitions(t *testing.T) {
	r := mustNew(t, DefaultQ, nodes(4))
	ps := r.Partitions("n4")
	runs := 1
	for i := 1; i < len(ps); i++ {
		if ps[i] != ps[i-1]+1 {
			runs++
		}
	}
	if runs < len(ps)/4 {
		t.Fatalf("n4's %d partitions form only %d runs: %v", len(ps), runs, ps)
	}
}

func TestLeaveMovesOnlyTheLeaversPartitions(t *testing.T) {
	for _, q := range []int{256, 1024} {
		for leaver := 1; leaver <= 5; leaver++ {
			t.Run(fmt.Sprintf("Q=%d/n%d", q, leaver), func(t *testing.T) {
				ms := nodes(5)
				before := mustNew(t, q, ms)
				ms[leaver-1].Left = 10
				after := mustNew(t, q, ms)
				checkRing(t, after)
				gone := NodeID(fmt.Sprintf("n%d", leaver))
				if slices.Contains(after.Nodes(), gone) {
					t.Fatalf("%s left but is still a node: %v", gone, after.Nodes())
				}
				received := map[NodeID]int{}
				for p := range q {
					was, is := before.Owner(Partition(p)), after.Owner(Partition(p))
					if was == gone {
						received[is]++
					} else if was != is {
						t.Fatalf("partition %d moved %s → %s though only %s left", p, was, is, gone)
					}
				}
				moved := len(before.Partitions(gone))
				for _, id := range after.Nodes() {
					if !within(float64(received[id]), float64(moved)/4, 0.15) {
						t.Errorf("%s received %d of the %d partitions, want %.1f ±15%%", id, received[id], moved, float64(moved)/4)
					}
					if c := len(after.Partitions(id)); !within(float64(c), float64(q)/4, 0.15) {
						t.Errorf("%s owns %d partitions after the leave, want %.1f ±15%%", id, c, float64(q)/4)
					}
				}
			})
		}
	}
}

func TestLeaveThenJoin(t *testing.T) {
	ms := nodes(4)
	ms[1].Left = 5
	ms = append(ms, Member{ID: "n5", Joined: 6})
	r := mustNew(t, DefaultQ, ms)
	checkRing(t, r)
	if want := []NodeID{"n1", "n3", "n4", "n5"}; !slices.Equal(r.Nodes(), want) {
		t.Fatalf("Nodes = %v, want %v", r.Nodes(), want)
	}
	for id, c := range counts(r) {
		if c < 63 || c > 65 {
			t.Errorf("%s owns %d partitions, want 64±1", id, c)
		}
	}
	// Everyone leaving and a new node joining: the new node owns all.
	all := []Member{{ID: "a", Joined: 1, Left: 2}, {ID: "b", Joined: 1, Left: 3}, {ID: "c", Joined: 4}}
	r = mustNew(t, 16, all)
	if len(r.Partitions("c")) != 16 {
		t.Fatalf("sole survivor owns %d of 16 partitions", len(r.Partitions("c")))
	}
}

func TestWeights(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights []int // in join order
		heavy   int   // index of the weight-2 node
	}{
		{"heavy joins last", []int{1, 1, 1, 1, 2}, 4},
		{"heavy joins first", []int{2, 1, 1, 1, 1}, 0},
		{"heavy in the middle", []int{1, 1, 2, 1}, 2},
		{"two nodes", []int{1, 2}, 1},
	} {
		for _, q := range []int{256, 1024} {
			t.Run(fmt.Sprintf("%s/Q=%d", tc.name, q), func(t *testing.T) {
				ms := nodes(len(tc.weights))
				for i, w := range tc.weights {
					ms[i].Weight = w
				}
				r := mustNew(t, q, ms)
				checkRing(t, r)
				c := counts(r)
				light, n := 0, 0
				for i, m := range ms {
					if i != tc.heavy {
						light += c[m.ID]
						n++
					}
				}
				avg := float64(light) / float64(n)
				heavy := float64(c[ms[tc.heavy].ID])
				if !within(heavy, 2*avg, 0.15) {
					t.Fatalf("weight-2 node owns %.0f partitions, weight-1 nodes %.1f on average: %v", heavy, avg, c)
				}
			})
		}
	}

	// Weight 0 means 1.
	zero, one := nodes(4), nodes(4)
	for i := range one {
		one[i].Weight = 1
	}
	if !sameRing(mustNew(t, DefaultQ, zero), mustNew(t, DefaultQ, one)) {
		t.Fatalf("weight 0 and weight 1 give different rings")
	}

	// Weight 3 against 1.
	ms := []Member{{ID: "a", Joined: 1}, {ID: "b", Weight: 3, Joined: 2}}
	c := counts(mustNew(t, DefaultQ, ms))
	if c["a"] != 64 || c["b"] != 192 {
		t.Fatalf("weights 1:3 of 256 gave %v, want 64/192", c)
	}
}

func TestDeterministic(t *testing.T) {
	ms := nodes(7)
	ms[2].Weight = 2
	ms[4].Left = 9
	ms[5].Joined = 3 // joins together with n3
	ms = append(ms, Member{ID: "late", Joined: 20}, Member{ID: "x-1", Joined: 3, Weight: 3})
	orig := slices.Clone(ms)
	want := mustNew(t, DefaultQ, ms)
	checkRing(t, want)
	if !slices.Equal(ms, orig) {
		t.Fatalf("New modified the member slice")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 50 {
		shuffled := slices.Clone(ms)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := mustNew(t, DefaultQ, shuffled); !sameRing(got, want) {
			t.Fatalf("ring depends on member order: %v", shuffled)
		}
	}
}

// TestSimultaneousJoins: two nodes joining with the same sequence number
// (each heard of its own join first) converge on one ring once they share
// the member list, in whatever order they list it, and the tie is broken
// by ID.
func TestSimultaneousJoins(t *testing.T) {
	base := nodes(3)
	a := append(slices.Clone(base), Member{ID: "n5", Joined: 4}, Member{ID: "n4", Joined: 4})
	b := append(slices.Clone(base), Member{ID: "n4", Joined: 4}, Member{ID: "n5", Joined: 4})
	ra, rb := mustNew(t, DefaultQ, a), mustNew(t, DefaultQ, b)
	if !sameRing(ra, rb) {
		t.Fatalf("simultaneous joins did not converge")
	}
	seq := append(slices.Clone(base), Member{ID: "n4", Joined: 4}, Member{ID: "n5", Joined: 5})
	if !sameRing(ra, mustNew(t, DefaultQ, seq)) {
		t.Fatalf("simultaneous joins are not replayed in ID order")
	}
	swapped := append(slices.Clone(base), Member{ID: "n5", Joined: 4}, Member{ID: "n4", Joined: 5})
	if sameRing(ra, mustNew(t, DefaultQ, swapped)) {
		t.Fatalf("join order does not matter at all: the test cannot tell the orders apart")
	}
}

func TestPreferenceLists(t *testing.T) {
	for _, q := range []int{1, 2, 8, 256} {
		for n := 1; n <= 7; n++ {
			r := mustNew(t, q, nodes(n))
			checkRing(t, r)
			for _, rf := range []int{1, 3, 5} {
				for _, id := range r.Nodes() {
					rep := r.Replicates(id, rf)
					for p := range q {
						primary, _ := r.Preference(Partition(p), rf)
						if slices.Contains(primary, id) != slices.Contains(rep, Partition(p)) {
							t.Fatalf("Q=%d N=%d: Replicates(%s, %d) disagrees with Preference(%d)", q, n, id, rf, p)
						}
					}
				}
			}
		}
	}
	// With N=3 of 5 nodes, every node replicates about 3/5 of the ring.
	r := mustNew(t, DefaultQ, nodes(5))
	for _, id := range r.Nodes() {
		if got := len(r.Replicates(id, 3)); !within(float64(got), DefaultQ*3/5.0, 0.15) {
			t.Errorf("%s replicates %d partitions, want %.1f ±15%%", id, got, DefaultQ*3/5.0)
		}
	}
	primary, fallbacks := r.Preference(0, 3)
	if len(primary) != 3 || len(fallbacks) != 2 {
		t.Fatalf("Preference(0, 3) of 5 nodes = %v, %v", primary, fallbacks)
	}
}

func TestNewErrors(t *testing.T) {
	ok := []Member{{ID: "a"}}
	for _, tc := range []struct {
		name    string
		q       int
		members []Member
		want    error
	}{
		{"Q zero", 0, ok, ErrBadQ},
		{"Q negative", -256, ok, ErrBadQ},
		{"Q three", 3, ok, ErrBadQ},
		{"Q 100", 100, ok, ErrBadQ},
		{"Q 1<<17", 1 << 17, ok, ErrBadQ},
		{"Q MaxQ+1", MaxQ + 1, ok, ErrBadQ},
		{"nil members", 256, nil, ErrNoMembers},
		{"no members", 256, []Member{}, ErrNoMembers},
		{"everyone left", 256, []Member{{ID: "a", Joined: 1, Left: 2}, {ID: "b", Joined: 1, Left: 1}}, ErrNoMembers},
		{"duplicate ID", 256, []Member{{ID: "a"}, {ID: "b"}, {ID: "a", Joined: 3}}, ErrBadMember},
		{"duplicate ID, one left", 256, []Member{{ID: "a", Left: 2}, {ID: "a", Joined: 3}}, ErrBadMember},
		{"dot", 256, []Member{{ID: "."}}, ErrBadMember},
		{"dotted", 256, []Member{{ID: "a.b"}}, ErrBadMember},
		{"empty ID", 256, []Member{{ID: ""}}, ErrBadMember},
		{"ID too long", 256, []Member{{ID: NodeID(strings.Repeat("a", 65))}}, ErrBadMember},
		{"wildcard", 256, []Member{{ID: "*"}}, ErrBadMember},
		{"tail wildcard", 256, []Member{{ID: ">"}}, ErrBadMember},
		{"space", 256, []Member{{ID: "a b"}}, ErrBadMember},
		{"non-ASCII", 256, []Member{{ID: "nœud"}}, ErrBadMember},
		{"left before joined", 256, []Member{{ID: "a", Joined: 5, Left: 4}}, ErrBadMember},
		{"negative weight", 256, []Member{{ID: "a", Weight: -1}}, ErrBadMember},
		{"huge weight", 256, []Member{{ID: "a", Weight: 1 << 62}, {ID: "b", Weight: 1 << 62}}, ErrBadMember},
		{"bad member and bad Q", 3, []Member{{ID: "."}}, ErrBadQ},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.q, tc.members)
			if !errors.Is(err, tc.want) {
				t.Fatalf("New = %v, want %v", err, tc.want)
			}
			if r != nil {
				t.Fatalf("New returned a ring with an error")
			}
		})
	}

	// The edges that are allowed.
	for _, tc := range []struct {
		name    string
		q       int
		members []Member
	}{
		{"Q one", 1, ok},
		{"Q MaxQ", MaxQ, []Member{{ID: "a"}, {ID: "b", Joined: 1}}},
		{"64-byte ID", 2, []Member{{ID: NodeID(strings.Repeat("z", 64))}}},
		{"all allowed characters", 2, []Member{{ID: "azAZ09_-"}}},
		{"left when joined", 4, []Member{{ID: "a", Joined: 3, Left: 3}, {ID: "b"}}},
		{"largest weight", 4, []Member{{ID: "a", Weight: 1 << 16}, {ID: "b", Weight: 1 << 16}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.q, tc.members)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if r.Q() != tc.q {
				t.Fatalf("Q() = %d", r.Q())
			}
		})
	}
}

func TestValidNodeID(t *testing.T) {
	for id, want := range map[NodeID]bool{
		"n1": true, "node-7_b": true, "A": true, NodeID(strings.Repeat("x", 64)): true,
		"": false, ".": false, "a.b": false, "a>": false, "a*": false, "a b": false, "a\x00": false,
		"é": false, NodeID(strings.Repeat("x", 65)): false, "n1~A": false,
	} {
		if got := ValidNodeID(id); got != want {
			t.Errorf("ValidNodeID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestPartitionOf(t *testing.T) {
	for _, tc := range []struct {
		q    int
		h    uint64
		want Partition
	}{
		{1, 0, 0},
		{1, ^uint64(0), 0},
		{1, 1 << 63, 0},
		{2, 1<<63 - 1, 0},
		{2, 1 << 63, 1},
		{256, 0, 0},
		{256, 1<<56 - 1, 0},
		{256, 1 << 56, 1},
		{256, 0xAB00000000000000, 0xAB},
		{256, 0x00FFFFFFFFFFFFFF, 0},
		{256, ^uint64(0), 255},
		{1024, ^uint64(0), 1023},
		{1024, 0x0040000000000000, 1},
		{MaxQ, 0x1234FFFFFFFFFFFF, 0x1234},
	} {
		r := ringOfQ(t, tc.q)
		if got := r.PartitionOf(tc.h); got != tc.want {
			t.Errorf("Q=%d PartitionOf(%#x) = %d, want %d", tc.q, tc.h, got, tc.want)
		}
	}
}

var ringsByQ = map[int]*Ring{}

// ringOfQ returns a one-node ring of q partitions, built once per process.
func ringOfQ(t testing.TB, q int) *Ring {
	if r, ok := ringsByQ[q]; ok {
		return r
	}
	r := mustNew(t, q, []Member{{ID: "solo"}})
	ringsByQ[q] = r
	return r
}

// FuzzPartitionOf: the partition is always in range and is the top log2(Q)
// bits of the hash, so partitions are contiguous, ordered hash ranges.
func FuzzPartitionOf(f *testing.F) {
	f.Add(uint64(0), uint64(1), uint8(8))
	f.Add(^uint64(0), uint64(0), uint8(0))
	f.Add(uint64(1)<<63, uint64(1)<<63-1, uint8(16))
	f.Add(uint64(0xdeadbeefcafebabe), uint64(12345), uint8(10))
	f.Fuzz(func(t *testing.T, h, h2 uint64, qlog uint8) {
		bits := int(qlog % 17)
		q := 1 << bits
		r := ringOfQ(t, q)
		p := r.PartitionOf(h)
		if int(p) >= q {
			t.Fatalf("Q=%d PartitionOf(%#x) = %d", q, h, p)
		}
		want := Partition(0)
		if bits > 0 {
			want = Partition(h >> (64 - bits))
		}
		if p != want {
			t.Fatalf("Q=%d PartitionOf(%#x) = %d, want top bits %d", q, h, p, want)
		}
		if h <= h2 && r.PartitionOf(h2) < p {
			t.Fatalf("PartitionOf not monotonic")
		}
	})
}

func TestKeyHash(t *testing.T) {
	// Documented format: MD5 over uvarint-length-prefixed fields, first 8
	// bytes big endian.
	ref := func(parts ...string) uint64 {
		var b []byte
		for _, s := range parts {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		sum := md5.Sum(b)
		return binary.BigEndian.Uint64(sum[:8])
	}
	long := strings.Repeat("k", 300) // two-byte length prefix
	for _, c := range [][3]string{{"ab", "c", ""}, {"t1", "users", "alice"}, {"", "", ""}, {"t", "x", long}} {
		if got, want := KeyHash(c[0], c[1], c[2]), ref(c[0], c[1], c[2]); got != want {
			t.Errorf("KeyHash%q = %#x, want %#x", c, got, want)
		}
		if KeyHash(c[0], c[1], c[2]) != KeyHash(c[0], c[1], c[2]) {
			t.Errorf("KeyHash not deterministic")
		}
	}
	// Moving bytes between fields always changes the hash.
	groups := [][][3]string{
		{{"ab", "c", ""}, {"a", "bc", ""}, {"abc", "", ""}, {"", "abc", ""}, {"", "", "abc"}, {"a", "b", "c"}, {"ab", "", "c"}, {"", "ab", "c"}, {"a", "", "bc"}},
		{{"t", "tab\x01x", "k"}, {"t", "tab", "\x01xk"}, {"t\x03tab", "", "k"}},
		{{"", "", ""}, {"\x00", "", ""}, {"", "\x00", ""}, {"", "", "\x00"}},
	}
	for _, g := range groups {
		seen := map[uint64][3]string{}
		for _, c := range g {
			h := KeyHash(c[0], c[1], c[2])
			if prev, dup := seen[h]; dup {
				t.Errorf("KeyHash%q == KeyHash%q", c, prev)
			}
			seen[h] = c
		}
	}
}

// FuzzRing builds rings from fuzzed member lists: New never panics, errors
// are the documented ones, and every ring keeps the invariants.
func FuzzRing(f *testing.F) {
	f.Add([]byte{8, 5, 0, 0, 1, 0, 1, 0, 2, 0, 2, 0, 3, 0, 3, 0, 4, 0, 4, 0})
	f.Add([]byte{10, 3, 0, 1, 1, 0, 1, 2, 1, 5, 2, 0, 2, 0})
	f.Add([]byte{0, 1, 0, 0, 0, 0})
	f.Add([]byte{6, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32})
	f.Add([]byte("fuzzing the ring with arbitrary member lists"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		q, ms := src.q(), src.members()
		r, err := New(q, ms)
		wantErr := expectedError(q, ms)
		if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
			t.Fatalf("New(%d, %+v) = %v, want %v", q, ms, err, wantErr)
		}
		if err != nil {
			return
		}
		checkRing(t, r)
		var active []NodeID
		for _, m := range ms {
			if m.Left == 0 {
				active = append(active, m.ID)
			}
		}
		slices.Sort(active)
		if !slices.Equal(r.Nodes(), active) {
			t.Fatalf("Nodes = %v, want the members that did not leave %v", r.Nodes(), active)
		}
		checkBalance(t, r, ms)

		// The member order never matters.
		rev := slices.Clone(ms)
		slices.Reverse(rev)
		if !sameRing(r, mustNew(t, q, rev)) {
			t.Fatalf("ring depends on member order")
		}

		// The last event moves only the partitions it must.
		last, leave := lastEvent(ms)
		if !leave {
			if len(active) == 1 {
				return
			}
			without := slices.DeleteFunc(slices.Clone(ms), func(m Member) bool { return m.ID == ms[last].ID })
			before := mustNew(t, q, without)
			for p := range q {
				if was, is := before.Owner(Partition(p)), r.Owner(Partition(p)); was != is && is != ms[last].ID {
					t.Fatalf("join of %s moved partition %d from %s to %s", ms[last].ID, p, was, is)
				}
			}
		} else {
			stayed := slices.Clone(ms)
			stayed[last].Left = 0
			before := mustNew(t, q, stayed)
			for p := range q {
				was, is := before.Owner(Partition(p)), r.Owner(Partition(p))
				if (was != is) != (was == ms[last].ID) {
					t.Fatalf("leave of %s: partition %d %s → %s", ms[last].ID, p, was, is)
				}
			}
		}
	})
}

// byteSource turns fuzz input into small numbers, zeros once exhausted.
type byteSource struct{ b []byte }

func (s *byteSource) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) q() int {
	c := s.next()
	switch c {
	case 255:
		return 0
	case 254:
		return 3
	case 253:
		return 1 << 17
	}
	return 1 << (c % 11)
}

var fuzzIDs = []NodeID{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "bad.id", ""}

func (s *byteSource) members() []Member {
	n := int(s.next() % 9)
	ms := make([]Member, 0, n)
	for range n {
		c := s.next()
		id := fuzzIDs[int(c)%10]
		if c >= 250 { // now and then an invalid ID
			id = fuzzIDs[10+int(c)%2]
		}
		w := int(s.next())
		switch {
		case w == 255:
			w = -1
		case w == 254:
			w = 1 << 62
		case w == 253:
			w = 1 << 16
		default:
			w %= 4
		}
		joined := uint64(s.next() % 6)
		left := uint64(s.next() % 12)
		if left >= 8 { // most members stay
			left = 0
		}
		ms = append(ms, Member{ID: id, Weight: w, Joined: joined, Left: left})
	}
	return ms
}

// expectedError computes independently what New must answer.
func expectedError(q int, ms []Member) error {
	if q < 1 || q > MaxQ || q&(q-1) != 0 {
		return ErrBadQ
	}
	seen := map[NodeID]bool{}
	active := 0
	for _, m := range ms {
		if !ValidNodeID(m.ID) || seen[m.ID] || m.Weight < 0 || m.Weight > 1<<16 || (m.Left != 0 && m.Left < m.Joined) {
			return ErrBadMember
		}
		seen[m.ID] = true
		if m.Left == 0 {
			active++
		}
	}
	if active == 0 {
		return ErrNoMembers
	}
	return nil
}

// lastEvent returns the index of the member whose join or leave is replayed
// last, and whether that event is a leave.
func lastEvent(ms []Member) (int, bool) {
	type ev struct {
		seq   uint64
		leave bool
		id    NodeID
		i     int
	}
	var best *ev
	for i, m := range ms {
		for _, e := range []ev{{m.Joined, false, m.ID, i}, {m.Left, true, m.ID, i}} {
			if e.leave && m.Left == 0 {
				continue
			}
			if best == nil || e.seq > best.seq || (e.seq == best.seq && (e.leave && !best.leave || e.leave == best.leave && e.id > best.id)) {
				best = &e
			}
		}
	}
	return best.i, best.leave
}

// checkBalance: every node owns its weighted share of partitions to within
// one partition per unit of weight.
func checkBalance(t *testing.T, r *Ring, ms []Member) {
	t.Helper()
	weights := map[NodeID]int{}
	total := 0
	for _, m := range ms {
		if m.Left == 0 {
			w := max(m.Weight, 1)
			weights[m.ID] = w
			total += w
		}
	}
	c := counts(r)
	equal := true
	for _, w := range weights {
		equal = equal && w == weights[r.Nodes()[0]]
	}
	if equal {
		lo, hi := r.Q(), 0
		for id := range weights {
			lo, hi = min(lo, c[id]), max(hi, c[id])
		}
		if hi-lo > 1 {
			t.Fatalf("equal nodes own %d..%d partitions: %v", lo, hi, c)
		}
	}
}
