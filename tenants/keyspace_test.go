package tenants

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		KindData: "data", KindHint: "hint", KindMerkle: "merkle", KindRing: "ring",
		KindSystem: "system", KindMeta: "meta", KindSystemHint: "system-hint", 0: "kind(0)", 200: "kind(200)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", byte(k), got, want)
		}
	}
	// The kinds are on disk: their values never change.
	if KindData != 1 || KindHint != 2 || KindMerkle != 3 || KindRing != 4 || KindSystem != 5 || KindMeta != 6 || KindSystemHint != 7 {
		t.Errorf("kind values changed")
	}
	for _, k := range []Kind{0, KindHint, KindMerkle, KindRing, KindMeta, KindSystemHint, 8} {
		if k.Replicated() {
			t.Errorf("%v reported replicated", k)
		}
	}
	if !KindData.Replicated() || !KindSystem.Replicated() {
		t.Errorf("data and system kinds must be replicated")
	}
}

// TestEncodeGolden pins the on-disk key layout.
func TestEncodeGolden(t *testing.T) {
	k := Key{Kind: KindData, Partition: 0x01ff, Tenant: "t1", Table: "users", PK: "alice", SK: "2024"}
	want := "01" + "01ff" + "02" + hex.EncodeToString([]byte("t1")) + "05" + hex.EncodeToString([]byte("users")) +
		"05" + hex.EncodeToString([]byte("alice")) + hex.EncodeToString([]byte("2024"))
	if got := hex.EncodeToString(k.Encode()); got != want {
		t.Fatalf("Encode = %s, want %s", got, want)
	}
	if got := k.AppendEncode([]byte("pre")); string(got[:3]) != "pre" || !bytes.Equal(got[3:], k.Encode()) {
		t.Fatalf("AppendEncode does not append")
	}
	// A 200-byte partition key takes a two-byte length.
	long := Key{Kind: KindSystem, Partition: 7, Tenant: "t", Table: "b", PK: strings.Repeat("p", 200)}
	if enc := long.Encode(); !bytes.Equal(enc[:9], []byte{5, 0, 7, 1, 't', 1, 'b', 0xc8, 0x01}) {
		t.Fatalf("Encode(long) = %x...", enc[:9])
	}
	if got := PartitionPrefix(KindHint, 0xabcd); !bytes.Equal(got, []byte{2, 0xab, 0xcd}) {
		t.Fatalf("PartitionPrefix = %x", got)
	}
	if got := TenantPrefix(KindData, 1, "t1"); !bytes.Equal(got, []byte{1, 0, 1, 2, 't', '1'}) {
		t.Fatalf("TenantPrefix = %x", got)
	}
	if got := TablePrefix(KindData, 1, "t1", "x"); !bytes.Equal(got, []byte{1, 0, 1, 2, 't', '1', 1, 'x'}) {
		t.Fatalf("TablePrefix = %x", got)
	}
	if got := k.ItemPrefix(); !bytes.Equal(got, k.Encode()[:len(k.Encode())-4]) {
		t.Fatalf("ItemPrefix = %x", got)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	maxID := strings.Repeat("i", MaxIDLen)
	maxKey := strings.Repeat("\xff", MaxKeyLen)
	for _, tc := range []struct {
		name string
		k    Key
	}{
		{"plain", Key{Kind: KindData, Partition: 12, Tenant: "t1", Table: "users", PK: "alice", SK: "profile"}},
		{"empty sort key", Key{Kind: KindData, Partition: 0, Tenant: "t", Table: "b", PK: "k"}},
		{"all fields empty", Key{Kind: KindMeta}},
		{"max partition", Key{Kind: KindSystem, Partition: 0xffff, Tenant: "t", Table: "b", PK: "k", SK: "s"}},
		{"binary bytes", Key{Kind: KindData, Partition: 3, Tenant: "\x00\x01", Table: "\xfe\xff", PK: "\x80\x81\x82", SK: "\x00\xff\x00"}},
		{"NUL everywhere", Key{Kind: KindData, Partition: 3, Tenant: "\x00", Table: "\x00", PK: "\x00", SK: "\x00"}},
		{"0xff everywhere", Key{Kind: KindData, Partition: 0xff, Tenant: "\xff", Table: "\xff\xff", PK: "\xff", SK: "\xff\xff\xff"}},
		{"separator-like bytes", Key{Kind: KindData, Partition: 1, Tenant: "a/b", Table: "c:d|e", PK: "\x01\x02x", SK: "\x03"}},
		{"fields that look like length prefixes", Key{Kind: KindData, Partition: 1, Tenant: "\x05", Table: "\x01b", PK: "\x02\x03\x04", SK: "\x01t\x01b"}},
		{"pk containing another key's encoding", Key{Kind: KindData, Partition: 9, Tenant: "t", Table: "b", PK: string(Key{Kind: KindData, Partition: 9, Tenant: "u", Table: "c", PK: "x"}.Encode())}},
		{"max-length fields", Key{Kind: KindData, Partition: 0x1234, Tenant: maxID, Table: maxID, PK: maxKey, SK: maxKey}},
		{"utf-8", Key{Kind: KindData, Partition: 2, Tenant: "tenant", Table: "tâble", PK: "clé", SK: "日本"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := tc.k.Encode()
			got, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != tc.k {
				t.Fatalf("round trip = %+v, want %+v", got, tc.k)
			}
			if !bytes.HasPrefix(enc, tc.k.ItemPrefix()) ||
				!bytes.HasPrefix(enc, TablePrefix(tc.k.Kind, tc.k.Partition, tc.k.Tenant, tc.k.Table)) ||
				!bytes.HasPrefix(enc, TenantPrefix(tc.k.Kind, tc.k.Partition, tc.k.Tenant)) ||
				!bytes.HasPrefix(enc, PartitionPrefix(tc.k.Kind, tc.k.Partition)) {
				t.Fatalf("key %x lacks one of its own prefixes", enc)
			}
			// Every strict prefix shorter than the item prefix is refused.
			for i := range len(tc.k.ItemPrefix()) {
				if _, err := Decode(enc[:i]); !errors.Is(err, ErrBadKey) {
					t.Fatalf("Decode of %d/%d bytes: err = %v, want ErrBadKey", i, len(enc), err)
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	id := func(n int) string { return strings.Repeat("a", n) }
	raw := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	field := func(s string) []byte { return appendField(nil, s) }
	hdr := []byte{1, 0, 0}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"kind only", []byte{1}},
		{"no partition low byte", []byte{1, 0}},
		{"header only", hdr},
		{"tenant truncated", raw(hdr, []byte{3, 'a', 'b'})},
		{"table missing", raw(hdr, field("t"))},
		{"table truncated", raw(hdr, field("t"), []byte{5, 'x'})},
		{"pk missing", raw(hdr, field("t"), field("b"))},
		{"pk truncated", raw(hdr, field("t"), field("b"), []byte{2, 'k'})},
		{"tenant too long", raw(hdr, field(id(MaxIDLen+1)), field("b"), field("k"))},
		{"table too long", raw(hdr, field("t"), field(id(MaxIDLen+1)), field("k"))},
		{"pk too long", raw(hdr, field("t"), field("b"), field(id(MaxKeyLen+1)))},
		{"sort key too long", raw(hdr, field("t"), field("b"), field("k"), []byte(id(MaxKeyLen+1)))},
		{"huge length", raw(hdr, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})},
		{"length overflows 64 bits", raw(hdr, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})},
		{"unterminated length", raw(hdr, []byte{0x80, 0x80})},
		{"overlong tenant length", raw(hdr, []byte{0x81, 0x00, 't'}, field("b"), field("k"))},
		{"overlong zero length", raw(hdr, []byte{0x80, 0x00}, field("b"), field("k"))},
		{"overlong pk length", raw(hdr, field("t"), field("b"), []byte{0x81, 0x80, 0x00, 'k'})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if k, err := Decode(tc.in); !errors.Is(err, ErrBadKey) {
				t.Fatalf("Decode(%x) = %+v, %v; want ErrBadKey", tc.in, k, err)
			}
		})
	}
	// The largest keys are accepted.
	k := Key{Kind: KindData, Tenant: id(MaxIDLen), Table: id(MaxIDLen), PK: id(MaxKeyLen), SK: id(MaxKeyLen)}
	if _, err := Decode(k.Encode()); err != nil {
		t.Fatalf("largest key refused: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := Key{Kind: KindData, Partition: 5, Tenant: "t", Table: "b", PK: "k"}
	with := func(f func(*Key)) Key { k := good; f(&k); return k }
	for _, tc := range []struct {
		name string
		k    Key
		ok   bool
	}{
		{"good", good, true},
		{"system kind", with(func(k *Key) { k.Kind = KindSystem }), true},
		{"sort key", with(func(k *Key) { k.SK = "s" }), true},
		{"max partition", with(func(k *Key) { k.Partition = 0xffff }), true},
		{"max lengths", with(func(k *Key) {
			k.Tenant, k.Table = strings.Repeat("t", MaxIDLen), strings.Repeat("b", MaxIDLen)
			k.PK, k.SK = strings.Repeat("k", MaxKeyLen), strings.Repeat("s", MaxKeyLen)
		}), true},
		{"binary fields", with(func(k *Key) { k.Tenant, k.PK, k.SK = "\x00", "\xff", "\x00\xff" }), true},
		{"hint kind", with(func(k *Key) { k.Kind = KindHint }), false},
		{"merkle kind", with(func(k *Key) { k.Kind = KindMerkle }), false},
		{"ring kind", with(func(k *Key) { k.Kind = KindRing }), false},
		{"meta kind", with(func(k *Key) { k.Kind = KindMeta }), false},
		{"zero kind", with(func(k *Key) { k.Kind = 0 }), false},
		{"unknown kind", with(func(k *Key) { k.Kind = 99 }), false},
		{"partition out of range", with(func(k *Key) { k.Partition = 0x10000 }), false},
		{"empty tenant", with(func(k *Key) { k.Tenant = "" }), false},
		{"tenant too long", with(func(k *Key) { k.Tenant = strings.Repeat("t", MaxIDLen+1) }), false},
		{"empty table", with(func(k *Key) { k.Table = "" }), false},
		{"table too long", with(func(k *Key) { k.Table = strings.Repeat("b", MaxIDLen+1) }), false},
		{"empty pk", with(func(k *Key) { k.PK = "" }), false},
		{"pk too long", with(func(k *Key) { k.PK = strings.Repeat("k", MaxKeyLen+1) }), false},
		{"sort key too long", with(func(k *Key) { k.SK = strings.Repeat("s", MaxKeyLen+1) }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.k.Validate()
			if tc.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrBadKey) {
				t.Fatalf("Validate = %v, want ErrBadKey", err)
			}
			// Every valid key round-trips.
			if tc.ok {
				if got, err := Decode(tc.k.Encode()); err != nil || got != tc.k {
					t.Fatalf("valid key does not round-trip: %+v, %v", got, err)
				}
			}
		})
	}
}

// TestIsolationCases: names and keys built to collide under a naive
// concatenation never share prefixes.
func TestIsolationCases(t *testing.T) {
	victim := Key{Kind: KindData, Partition: 1, Tenant: "t", Table: "b", PK: "x"}
	for _, tc := range [][2]Key{
		{{Kind: KindData, Tenant: "a", Table: "bc", PK: "k"}, {Kind: KindData, Tenant: "ab", Table: "c", PK: "k"}},
		{{Kind: KindData, Tenant: "a", Table: "b", PK: "ck"}, {Kind: KindData, Tenant: "a", Table: "bc", PK: "k"}},
		{{Kind: KindData, Tenant: "ab", Table: "", PK: "k"}, {Kind: KindData, Tenant: "a", Table: "b", PK: "k"}},
		{{Kind: KindData, Tenant: "t", Table: "b\x01x", PK: "k"}, {Kind: KindData, Tenant: "t", Table: "b", PK: "x"}},
		{{Kind: KindData, Partition: 1, Tenant: "t", Table: "b", PK: "x", SK: "\x01y"}, {Kind: KindData, Partition: 1, Tenant: "t", Table: "b", PK: "x\x01y"}},
		// A pk holding the bytes of the victim's own encoding.
		{{Kind: KindData, Partition: 1, Tenant: "t", Table: "b", PK: string(victim.Encode())}, victim},
		{{Kind: KindData, Partition: 1, Tenant: "t", Table: "b", PK: string(victim.ItemPrefix()[3:])}, victim},
	} {
		for _, pair := range [][2]Key{{tc[0], tc[1]}, {tc[1], tc[0]}} {
			checkIsolation(t, pair[0], pair[1])
		}
	}
}

// checkIsolation: a's key carries b's table (item) prefix exactly when a and
// b are the same tenant and table (and partition key).
func checkIsolation(t *testing.T, a, b Key) {
	t.Helper()
	b.Kind, b.Partition = a.Kind, a.Partition
	enc := a.Encode()
	sameTenant := a.Tenant == b.Tenant
	sameTable := sameTenant && a.Table == b.Table
	sameItem := sameTable && a.PK == b.PK
	if got := bytes.HasPrefix(enc, TenantPrefix(b.Kind, b.Partition, b.Tenant)); got != sameTenant {
		t.Fatalf("key %+v has tenant prefix of %q: %v", a, b.Tenant, got)
	}
	if got := bytes.HasPrefix(enc, TablePrefix(b.Kind, b.Partition, b.Tenant, b.Table)); got != sameTable {
		t.Fatalf("key %+v has table prefix of %q/%q: %v", a, b.Tenant, b.Table, got)
	}
	if got := bytes.HasPrefix(enc, b.ItemPrefix()); got != sameItem {
		t.Fatalf("key %+v has item prefix of %+v: %v", a, b, got)
	}
	if sameItem != bytes.Equal(a.ItemPrefix(), b.ItemPrefix()) {
		t.Fatalf("item prefixes of %+v and %+v", a, b)
	}
}

// FuzzIsolation: for any two (tenant, table, pk, sk) the keys of one carry
// the other's tenant, table or item prefix only when they genuinely share
// that tenant, table or partition key.
func FuzzIsolation(f *testing.F) {
	f.Add("a", "bc", "k", "", "ab", "c", "k")
	f.Add("t", "b", "x\x01y", "", "t", "b", "x")
	f.Add("t", "b\x01x", "k", "s", "t", "b", "x")
	f.Add("t", "b", "\x01\x01\x00\x01t\x01b\x01x", "", "t", "b", "x")
	f.Add("\x00", "\x00", "\x00", "\x00", "", "\x00\x00", "")
	f.Add("same", "same", "same", "z", "same", "same", "same")
	f.Fuzz(func(t *testing.T, t1, b1, p1, s1, t2, b2, p2 string) {
		a := Key{Kind: KindData, Partition: 77, Tenant: t1, Table: b1, PK: p1, SK: s1}
		b := Key{Kind: KindData, Partition: 77, Tenant: t2, Table: b2, PK: p2, SK: s1}
		checkIsolation(t, a, b)
		checkIsolation(t, b, a)
		// Different tenant, table or pk: the two keys can never be equal.
		if (a.Tenant != b.Tenant || a.Table != b.Table || a.PK != b.PK) && bytes.Equal(a.Encode(), b.Encode()) {
			t.Fatalf("distinct keys %+v and %+v encode the same", a, b)
		}
	})
}

// FuzzOrder: keys of one partition key sort exactly as their sort keys.
func FuzzOrder(f *testing.F) {
	f.Add(uint16(3), "t", "b", "pk", "a", "b")
	f.Add(uint16(0), "t", "b", "pk", "", "\x00")
	f.Add(uint16(65535), "\xff", "\x00", "", "\xff", "\xff\x00")
	f.Add(uint16(9), "t", "b", "pk", "abc", "ab")
	f.Fuzz(func(t *testing.T, p uint16, tenant, table, pk, sk1, sk2 string) {
		k1 := Key{Kind: KindData, Partition: uint32(p), Tenant: tenant, Table: table, PK: pk, SK: sk1}
		k2 := k1
		k2.SK = sk2
		if got, want := bytes.Compare(k1.Encode(), k2.Encode()), strings.Compare(sk1, sk2); got != want {
			t.Fatalf("keys compare %d, sort keys %q, %q compare %d", got, sk1, sk2, want)
		}
	})
}

// TestOrderSorted sorts random keys of one item and checks the order of
// their sort keys is preserved.
func TestOrderSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	base := Key{Kind: KindData, Partition: 0x0102, Tenant: "t", Table: "tbl", PK: "user#1"}
	var sks []string
	var keys [][]byte
	for range 500 {
		b := make([]byte, rng.IntN(6))
		for i := range b {
			b[i] = []byte{0, 1, 0x7f, 0x80, 0xff, 'a'}[rng.IntN(6)]
		}
		k := base
		k.SK = string(b)
		sks = append(sks, k.SK)
		keys = append(keys, k.Encode())
	}
	slices.Sort(sks)
	slices.SortFunc(keys, bytes.Compare)
	for i, enc := range keys {
		k, err := Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		if k.SK != sks[i] {
			t.Fatalf("key %d sorts as sort key %q, want %q", i, k.SK, sks[i])
		}
	}
}

// FuzzDecode: Decode never panics; what it accepts re-encodes to the same
// bytes and respects the field limits.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0})
	f.Add(Key{Kind: KindData, Partition: 12, Tenant: "t1", Table: "users", PK: "alice", SK: "profile"}.Encode())
	f.Add(Key{Kind: KindSystem, Partition: 0xffff, Tenant: "\xff", Table: "\x00", PK: strings.Repeat("k", 200)}.Encode())
	f.Add([]byte{1, 0, 0, 0x81, 0x00, 't', 1, 'b', 1, 'k'})
	f.Fuzz(func(t *testing.T, data []byte) {
		end, endErr := TableEnd(data)
		if endErr != nil && !errors.Is(endErr, ErrBadKey) {
			t.Fatalf("TableEnd's error %v does not wrap ErrBadKey", endErr)
		}
		k, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrBadKey) {
				t.Fatalf("error %v does not wrap ErrBadKey", err)
			}
			return
		}
		if want := len(TablePrefix(k.Kind, k.Partition, k.Tenant, k.Table)); endErr != nil || end != want {
			t.Fatalf("TableEnd(%x) = %d, %v; the table prefix is %d bytes", data, end, endErr, want)
		}
		if len(k.Tenant) > MaxIDLen || len(k.Table) > MaxIDLen || len(k.PK) > MaxKeyLen || len(k.SK) > MaxKeyLen || k.Partition > 0xffff {
			t.Fatalf("accepted out-of-bounds key %+v", k)
		}
		if enc := k.Encode(); !bytes.Equal(enc, data) {
			t.Fatalf("accepted %x but it re-encodes to %x", data, enc)
		}
	})
}

// FuzzKeyRoundTrip: any key within the limits survives Encode/Decode.
func FuzzKeyRoundTrip(f *testing.F) {
	f.Add(byte(1), uint16(0), "t", "b", "k", "")
	f.Add(byte(5), uint16(65535), "\x00", "\xff", "\x01\x02", "\x00")
	f.Add(byte(1), uint16(7), strings.Repeat("t", MaxIDLen), strings.Repeat("b", MaxIDLen), strings.Repeat("k", 300), "s")
	f.Fuzz(func(t *testing.T, kind byte, p uint16, tenant, table, pk, sk string) {
		if len(tenant) > MaxIDLen || len(table) > MaxIDLen || len(pk) > MaxKeyLen || len(sk) > MaxKeyLen {
			return
		}
		k := Key{Kind: Kind(kind), Partition: uint32(p), Tenant: tenant, Table: table, PK: pk, SK: sk}
		b := k.Encode()
		got, err := Decode(b)
		if err != nil || got != k {
			t.Fatalf("round trip of %+v = %+v, %v", k, got, err)
		}
		if len(b) != cap(b) || !bytes.Equal(b, k.AppendEncode(nil)) {
			t.Fatalf("Encode sized %d bytes for a key of %d (%x)", cap(b), len(b), b)
		}
		if end, err := TableEnd(b); err != nil || end != len(TablePrefix(k.Kind, k.Partition, k.Tenant, k.Table)) {
			t.Fatalf("TableEnd(%x) = %d, %v; the table prefix is %d bytes", b, end, err, len(TablePrefix(k.Kind, k.Partition, k.Tenant, k.Table)))
		}
	})
}

func TestItemFingerprint(t *testing.T) {
	k := Key{Kind: KindData, Partition: 7, Tenant: "t1", Table: "tab", PK: "alice", SK: "2024"}
	h := k.Fingerprint()
	other := k
	other.Kind, other.Partition, other.Tenant = KindHint, 9, "t2"
	if other.Fingerprint() != h {
		t.Error("the kind, partition and tenant changed the fingerprint")
	}
	seen := map[uint32]string{h: "alice/2024"}
	for _, c := range []Key{
		{Table: "tab", PK: "alice", SK: "2025"},
		{Table: "tab", PK: "alic", SK: "e2024"},
		{Table: "tab", PK: "alice2024"},
		{Table: "tab2", PK: "alice", SK: "2024"},
		{Table: "ta", PK: "balice", SK: "2024"},
		{Table: "tab", PK: "bob"},
		{Table: "tab", PK: ""},
	} {
		f := c.Fingerprint()
		if s, ok := seen[f]; ok {
			t.Errorf("%+v has the fingerprint of %s", c, s)
		}
		seen[f] = c.Table + "/" + c.PK + "/" + c.SK
	}
}

// FuzzHintKeyRoundTrip: a hint's key gives back its owner and its item,
// of the item's own kind, and starts with the prefix a purge of the item's
// table or tenant finds it by.
func FuzzHintKeyRoundTrip(f *testing.F) {
	f.Add(true, uint16(0), "n1", "t", "b", "k", "")
	f.Add(false, uint16(65535), "n2", "\x00", "\xff", "\x01\x02", "\x00")
	f.Add(true, uint16(7), strings.Repeat("n", MaxIDLen), strings.Repeat("t", MaxIDLen), strings.Repeat("b", MaxIDLen), strings.Repeat("k", 300), "s")
	f.Fuzz(func(t *testing.T, system bool, p uint16, owner, tenant, table, pk, sk string) {
		if len(owner) > MaxIDLen || len(tenant) > MaxIDLen || len(table) > MaxIDLen || len(pk) > MaxKeyLen || len(sk) > MaxKeyLen {
			return
		}
		k := Key{Kind: KindData, Partition: uint32(p), Tenant: tenant, Table: table, PK: pk, SK: sk}
		if system {
			k.Kind = KindSystem
		}
		hk := HintKey(owner, k)
		if want := map[Kind]Kind{KindData: KindHint, KindSystem: KindSystemHint}[k.Kind]; Kind(hk[0]) != want {
			t.Fatalf("hint of a %v item has kind %v, want %v", k.Kind, Kind(hk[0]), want)
		}
		gotOwner, got, err := DecodeHintKey(hk)
		if err != nil || gotOwner != owner || got != k {
			t.Fatalf("hint round trip of %s, %+v = %s, %+v, %v", owner, k, gotOwner, got, err)
		}
		for _, tb := range []string{table, ""} {
			if pre := HintTablePrefix(k.Kind, k.Partition, owner, tenant, tb); !bytes.HasPrefix(hk, pre) {
				t.Fatalf("hint key %x lacks its purge prefix %x (table %q)", hk, pre, tb)
			}
		}
		if _, _, err := DecodeHintKey(k.Encode()); err == nil {
			t.Fatalf("an item's key decoded as a hint")
		}
		for _, b := range [][]byte{hk, k.Encode()} {
			scope, n, ok := ScopeOf(b)
			if !ok || !bytes.Equal(scope[:n], Scope(tenant, "")) || table != "" && !bytes.Equal(scope, Scope(tenant, table)) {
				t.Fatalf("ScopeOf(%x) = %x, %d, %v; want the scopes of %q and %q", b, scope, n, ok, tenant, table)
			}
		}
	})
}

func TestScopeOfOtherKinds(t *testing.T) {
	for _, b := range [][]byte{nil, {1, 0}, {byte(KindMerkle), 0, 0, 1, 't', 1, 'b'}, {byte(KindMeta), 'p'}, {1, 0, 0, 5, 't'}} {
		if scope, _, ok := ScopeOf(b); ok {
			t.Errorf("ScopeOf(%x) = %x, want none", b, scope)
		}
	}
}
