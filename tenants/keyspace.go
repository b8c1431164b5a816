package tenants

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind is the first byte of every storage key. WARNING: kinds are on disk;
// only append to this list.
type Kind byte

const (
	KindData   Kind = 1 // items of tenants' tables
	KindHint   Kind = 2 // versions held for an unreachable replica
	KindMerkle Kind = 3 // persisted Merkle tree nodes
	KindRing   Kind = 4 // the node's ring and membership state
	KindSystem Kind = 5 // the cluster's own tables: catalog, tenants, keys
	KindMeta   Kind = 6 // node-local bookkeeping (incarnation, counters)
	// KindSystemHint holds versions of the cluster's own items for an
	// unreachable replica: a hint's key does not say its item's kind
	// otherwise, and one delivered as data is never read.
	KindSystemHint Kind = 7
)

// HintKinds are the kinds that hold hints.
var HintKinds = []Kind{KindHint, KindSystemHint}

func (k Kind) String() string {
	switch k {
	case KindData:
		return "data"
	case KindHint:
		return "hint"
	case KindMerkle:
		return "merkle"
	case KindRing:
		return "ring"
	case KindSystem:
		return "system"
	case KindMeta:
		return "meta"
	case KindSystemHint:
		return "system-hint"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Replicated reports whether keys of this kind hold items replicated by
// quorum rounds (and so may appear in replica messages).
func (k Kind) Replicated() bool { return k == KindData || k == KindSystem }

// Field limits. Keys longer than these are refused before they reach a
// replica, and the decoder refuses them too.
const (
	MaxIDLen  = 64
	MaxKeyLen = 2048
)

// Key identifies one item. Tenant and Table are IDs, never names: dropping
// and recreating a table gives it a new ID, so old items cannot resurface.
type Key struct {
	Kind      Kind
	Partition uint32 // ring partition of (Tenant, Table, PK)
	Tenant    string
	Table     string
	PK        string
	SK        string // empty when the table has no sort key
}

// ErrBadKey is returned when a storage key cannot be decoded or a field is
// out of bounds.
var ErrBadKey = errors.New("tenants: bad storage key")

// Encode returns the storage key:
//
//	kind(1) | partition(2, big endian) | uvarint len, tenant | uvarint len, table | uvarint len, pk | sk
//
// The partition follows the kind so that hand-off, transfers and Merkle
// rebuilds walk one partition with one prefix scan. The sort key comes last
// and unprefixed, so the byte order of the keys of one partition key is the
// order of their sort keys.
func (k Key) Encode() []byte { return k.AppendEncode(make([]byte, 0, k.encodedLen())) }

// encodedLen is the length of the encoded key, so that Encode allocates
// once (a key is encoded on every replica request).
func (k Key) encodedLen() int {
	n := 3 + len(k.Tenant) + len(k.Table) + len(k.PK) + len(k.SK)
	for _, f := range [...]string{k.Tenant, k.Table, k.PK} {
		for l := uint64(len(f)); ; l >>= 7 {
			n++
			if l < 0x80 {
				break
			}
		}
	}
	return n
}

// AppendEncode appends the encoded key to b.
func (k Key) AppendEncode(b []byte) []byte {
	b = k.appendPrefix(b)
	return append(b, k.SK...)
}

func (k Key) appendPrefix(b []byte) []byte {
	b = append(b, byte(k.Kind), byte(k.Partition>>8), byte(k.Partition))
	b = appendField(b, k.Tenant)
	b = appendField(b, k.Table)
	return appendField(b, k.PK)
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Fingerprint names k's item in its context tokens: an FNV-1a hash of
// its table's ID and its keys, each ended by its length so that no two
// items share the hashed bytes. The kind and partition are left out: a
// hint stands for the same item, and a context read through one ring
// stays good through another.
func (k Key) Fingerprint() uint32 { return ItemFingerprint(k.Table, k.PK, k.SK) }

// ItemFingerprint is Key.Fingerprint for an item given by its table's ID
// and keys.
func ItemFingerprint(table, pk, sk string) uint32 {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for _, f := range [...]string{table, pk, sk} {
		for i := 0; i < len(f); i++ {
			h = (h ^ uint32(f[i])) * prime
		}
		for l := uint64(len(f)); ; l >>= 8 {
			h = (h ^ uint32(l&0xff)) * prime
			if l < 0x100 {
				break
			}
		}
	}
	return h
}

// ItemPrefix is the prefix shared by every sort key of k's partition key.
func (k Key) ItemPrefix() []byte { return k.appendPrefix(nil) }

// PartitionPrefix is the prefix of every key of one kind in one partition.
func PartitionPrefix(kind Kind, p uint32) []byte {
	return []byte{byte(kind), byte(p >> 8), byte(p)}
}

// TablePrefix is the prefix of every key of one table in one partition.
func TablePrefix(kind Kind, p uint32, tenant, table string) []byte {
	b := PartitionPrefix(kind, p)
	b = appendField(b, tenant)
	return appendField(b, table)
}

// TenantPrefix is the prefix of every key of one tenant in one partition.
func TenantPrefix(kind Kind, p uint32, tenant string) []byte {
	return appendField(PartitionPrefix(kind, p), tenant)
}

// Decode parses a storage key produced by Encode.
func Decode(b []byte) (Key, error) {
	if len(b) < 3 {
		return Key{}, fmt.Errorf("%w: %d bytes", ErrBadKey, len(b))
	}
	k := Key{Kind: Kind(b[0]), Partition: uint32(b[1])<<8 | uint32(b[2])}
	rest := b[3:]
	var err error
	if k.Tenant, rest, err = field(rest, MaxIDLen); err != nil {
		return Key{}, fmt.Errorf("%w: tenant: %v", ErrBadKey, err)
	}
	if k.Table, rest, err = field(rest, MaxIDLen); err != nil {
		return Key{}, fmt.Errorf("%w: table: %v", ErrBadKey, err)
	}
	if k.PK, rest, err = field(rest, MaxKeyLen); err != nil {
		return Key{}, fmt.Errorf("%w: partition key: %v", ErrBadKey, err)
	}
	if len(rest) > MaxKeyLen {
		return Key{}, fmt.Errorf("%w: sort key longer than %d bytes", ErrBadKey, MaxKeyLen)
	}
	k.SK = string(rest)
	return k, nil
}

// TableEnd returns the length of an encoded key's table prefix (kind,
// partition, tenant and table; see TablePrefix), without decoding the
// names: b[3:TableEnd(b)] tells the key's table apart from every other.
func TableEnd(b []byte) (int, error) {
	if len(b) < 3 {
		return 0, fmt.Errorf("%w: %d bytes", ErrBadKey, len(b))
	}
	rest := b[3:]
	for i := 0; i < 2; i++ {
		_, r, err := fieldBytes(rest, MaxIDLen)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		rest = r
	}
	return len(b) - len(rest), nil
}

// Scope is the encoded tenant field of an item's key followed, for one
// table, by its table field (table empty: the tenant alone): what a
// purge of that tenant or table covers, as ScopeOf finds it in a key.
func Scope(tenant, table string) []byte {
	b := appendField(nil, tenant)
	if table != "" {
		b = appendField(b, table)
	}
	return b
}

// ScopeOf returns the tenant and table fields of a data, system or hint
// key as Scope encodes them, and the length of the tenant's: a slice of
// b, found without decoding or allocating.
func ScopeOf(b []byte) (scope []byte, tenantLen int, ok bool) {
	if len(b) < 3 {
		return nil, 0, false
	}
	rest := b[3:]
	switch Kind(b[0]) {
	case KindData, KindSystem:
	case KindHint, KindSystemHint:
		var err error
		if _, rest, err = fieldBytes(rest, MaxIDLen); err != nil { // the owner
			return nil, 0, false
		}
	default:
		return nil, 0, false
	}
	_, afterTenant, err := fieldBytes(rest, MaxIDLen)
	if err != nil {
		return nil, 0, false
	}
	_, afterTable, err := fieldBytes(afterTenant, MaxIDLen)
	if err != nil {
		return nil, 0, false
	}
	return rest[:len(rest)-len(afterTable)], len(rest) - len(afterTenant), true
}

func field(b []byte, max int) (string, []byte, error) {
	f, rest, err := fieldBytes(b, max)
	return string(f), rest, err
}

func fieldBytes(b []byte, max int) ([]byte, []byte, error) {
	n, w := binary.Uvarint(b)
	var canon [binary.MaxVarintLen64]byte
	if w <= 0 || binary.PutUvarint(canon[:], n) != w {
		// Overlong lengths are refused too: Encode never writes them, and
		// a key that decodes but does not re-encode to itself would live
		// outside its own table's prefix.
		return nil, nil, errors.New("bad length")
	}
	b = b[w:]
	if n > uint64(max) {
		return nil, nil, fmt.Errorf("longer than %d bytes", max)
	}
	if n > uint64(len(b)) {
		return nil, nil, errors.New("truncated")
	}
	return b[:n], b[n:], nil
}

// Validate checks the bounds every replicated key must respect.
func (k Key) Validate() error {
	switch {
	case !k.Kind.Replicated():
		return fmt.Errorf("%w: kind %v is not replicated", ErrBadKey, k.Kind)
	case k.Partition > 0xffff:
		return fmt.Errorf("%w: partition %d out of range", ErrBadKey, k.Partition)
	case k.Tenant == "" || len(k.Tenant) > MaxIDLen:
		return fmt.Errorf("%w: tenant ID must be 1-%d bytes", ErrBadKey, MaxIDLen)
	case k.Table == "" || len(k.Table) > MaxIDLen:
		return fmt.Errorf("%w: table ID must be 1-%d bytes", ErrBadKey, MaxIDLen)
	case k.PK == "" || len(k.PK) > MaxKeyLen:
		return fmt.Errorf("%w: partition key must be 1-%d bytes", ErrBadKey, MaxKeyLen)
	case len(k.SK) > MaxKeyLen:
		return fmt.Errorf("%w: sort key longer than %d bytes", ErrBadKey, MaxKeyLen)
	}
	return nil
}

// TableSuffix is what follows TablePrefix in a key: the length-prefixed
// partition key and the sort key. Within one ring partition, table
// suffixes order a table's items.
func (k Key) TableSuffix() []byte {
	return append(appendField(nil, k.PK), k.SK...)
}

// SplitTableSuffix parses a TableSuffix.
func SplitTableSuffix(b []byte) (pk, sk string, err error) {
	pk, rest, err := field(b, MaxKeyLen)
	if err != nil {
		return "", "", fmt.Errorf("%w: table suffix: %v", ErrBadKey, err)
	}
	if len(rest) > MaxKeyLen {
		return "", "", fmt.Errorf("%w: sort key longer than %d bytes", ErrBadKey, MaxKeyLen)
	}
	return pk, string(rest), nil
}

// HintKey is the key under which a fallback node keeps versions of k for
// owner, the replica it stands in for:
//
//	KindHint | partition(2) | uvarint len, owner | tenant | table | pk | sk
//
// (the fields after the owner as in Encode; KindSystemHint for a system
// item). Hints of one owner in one partition share a prefix, which is how
// they are delivered.
func HintKey(owner string, k Key) []byte {
	b := PartitionPrefix(hintKind(k.Kind), k.Partition)
	b = appendField(b, owner)
	b = appendField(b, k.Tenant)
	b = appendField(b, k.Table)
	b = appendField(b, k.PK)
	return append(b, k.SK...)
}

func hintKind(k Kind) Kind {
	if k == KindSystem {
		return KindSystemHint
	}
	return KindHint
}

// HintTablePrefix is the prefix of the hints held for owner of one table's
// items of kind k (one tenant's if table is empty) in one partition.
func HintTablePrefix(k Kind, p uint32, owner, tenant, table string) []byte {
	b := appendField(PartitionPrefix(hintKind(k), p), owner)
	b = appendField(b, tenant)
	if table != "" {
		b = appendField(b, table)
	}
	return b
}

// DecodeHintKey parses a HintKey; the returned key has the kind of the
// item the hint holds (KindData or KindSystem).
func DecodeHintKey(b []byte) (owner string, k Key, err error) {
	kind := KindData
	switch {
	case len(b) < 3:
		return "", Key{}, fmt.Errorf("%w: not a hint key", ErrBadKey)
	case Kind(b[0]) == KindSystemHint:
		kind = KindSystem
	case Kind(b[0]) != KindHint:
		return "", Key{}, fmt.Errorf("%w: not a hint key", ErrBadKey)
	}
	owner, rest, err := field(b[3:], MaxIDLen)
	if err != nil {
		return "", Key{}, fmt.Errorf("%w: hint owner: %v", ErrBadKey, err)
	}
	data := append(PartitionPrefix(kind, uint32(b[1])<<8|uint32(b[2])), rest...)
	k, err = Decode(data)
	return owner, k, err
}
