package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// ErrDecode is returned when a message cannot be decoded.
var ErrDecode = errors.New("wire: bad message")

// Message is any encodable message.
type Message interface {
	Type() Type
	appendBody(b []byte) []byte
}

func (*PutRequest) Type() Type       { return TypePut }
func (*ReplicateRequest) Type() Type { return TypeReplicate }
func (*GetRequest) Type() Type       { return TypeGet }
func (*ScanRequest) Type() Type      { return TypeScan }
func (*Reply) Type() Type            { return TypeReply }
func (*UsageRequest) Type() Type     { return TypeUsage }
func (*PurgeRequest) Type() Type     { return TypePurge }
func (*TransferRequest) Type() Type  { return TypeTransfer }
func (*StatusRequest) Type() Type    { return TypeStatus }
func (*AdminRequest) Type() Type     { return TypeAdmin }
func (*MerkleRequest) Type() Type    { return TypeMerkle }
func (*BucketRequest) Type() Type    { return TypeBucket }
func (*GCRequest) Type() Type        { return TypeGC }

// Append appends the framed encoding of m to b: protocol version, type,
// body.
func Append(b []byte, m Message) []byte {
	b = append(b, ProtocolVersion, byte(m.Type()))
	return m.appendBody(b)
}

// Encode returns the framed encoding of m in a buffer allocated once.
func Encode(m Message) []byte { return Append(make([]byte, 0, sizeHint(m)), m) }

// scratch holds buffers for encodings that are done with once sent: a
// NATS publish copies its payload before it returns, so the replica
// requests and answers of every round can share a few buffers instead of
// allocating one each.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxScratch bounds the buffers kept: an item's value can be 400 KiB,
// and a buffer that grew for one is left to the collector.
const maxScratch = 64 << 10

// EncodeScratch encodes m into a pooled buffer. The caller must be done
// with the bytes (a publish has returned) when it calls Recycle.
func EncodeScratch(m Message) *[]byte {
	b := scratch.Get().(*[]byte)
	*b = Append((*b)[:0], m)
	return b
}

// Recycle gives back a buffer from EncodeScratch.
func Recycle(b *[]byte) {
	if cap(*b) <= maxScratch {
		scratch.Put(b)
	}
}

// sizeHint bounds a message's encoded size from its large parts.
func sizeHint(m Message) int {
	n := 256
	switch m := m.(type) {
	case *PutRequest:
		n += len(m.Value) + len(m.Key.PK) + len(m.Key.SK)
	case *ReplicateRequest:
		n += vclock.EncodedSize(m.Set) + len(m.Key.PK) + len(m.Key.SK)
	case *Reply:
		n += vclock.EncodedSize(m.Set) + len(m.SetBytes)
		for _, it := range m.Items {
			n += len(it.SK) + 8 + vclock.EncodedSize(it.Set)
		}
	}
	return n
}

// Peek returns a message's type without decoding it.
func Peek(b []byte) (Type, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: %d bytes", ErrDecode, len(b))
	}
	if b[0] < ProtocolVersionMin || b[0] > ProtocolVersionMax {
		return 0, &Error{Code: CodeVersion, Message: fmt.Sprintf("protocol version %d not in [%d,%d]", b[0], ProtocolVersionMin, ProtocolVersionMax)}
	}
	return Type(b[1]), nil
}

// Decode decodes a framed message.
func Decode(b []byte) (Message, error) {
	t, err := Peek(b)
	if err != nil {
		return nil, err
	}
	d := vclock.NewDecoder(b[2:])
	var m Message
	switch t {
	case TypePut:
		m = decodePut(d)
	case TypeReplicate:
		m = decodeReplicate(d)
	case TypeGet:
		m = &GetRequest{Header: header(d), Key: key(d), Hints: boolean(d)}
	case TypeScan:
		m = decodeScan(d)
	case TypeReply:
		m = decodeReply(d)
	case TypeUsage:
		m = &UsageRequest{Header: header(d)}
	case TypePurge:
		m = &PurgeRequest{Header: header(d), Tenant: d.String(tenants.MaxIDLen), Table: d.String(tenants.MaxIDLen)}
	case TypeTransfer:
		m = &TransferRequest{Header: header(d), Kind: tenants.Kind(d.Byte()), Partition: uint32(d.Uvarint()), After: d.String(maxRawKey), Limit: uint32(d.Uvarint())}
	case TypeStatus:
		m = &StatusRequest{Header: header(d)}
	case TypeAdmin:
		m = &AdminRequest{Header: header(d), Op: d.String(64), Value: math.Float64frombits(d.Uvarint()), Arg: d.String(256)}
	case TypeMerkle:
		m = &MerkleRequest{Header: header(d), Partition: uint32(d.Uvarint()), Level: uint32(d.Uvarint()), Indices: uints(d, 1<<16)}
	case TypeBucket:
		m = &BucketRequest{Header: header(d), Partition: uint32(d.Uvarint()), Leaves: uints(d, 1<<16)}
	case TypeGC:
		m = &GCRequest{Header: header(d), Items: items(d)}
	default:
		return nil, fmt.Errorf("%w: unknown type %d", ErrDecode, t)
	}
	if d.Err() == nil && len(d.Rest()) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after %v", ErrDecode, len(d.Rest()), t)
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return m, nil
}

func (t Type) String() string {
	switch t {
	case TypePut:
		return "put"
	case TypeReplicate:
		return "replicate"
	case TypeGet:
		return "get"
	case TypeScan:
		return "scan"
	case TypeReply:
		return "reply"
	case TypeUsage:
		return "usage"
	case TypePurge:
		return "purge"
	case TypeTransfer:
		return "transfer"
	case TypeStatus:
		return "status"
	case TypeAdmin:
		return "admin"
	case TypeMerkle:
		return "merkle"
	case TypeBucket:
		return "bucket"
	case TypeGC:
		return "gc"
	}
	return fmt.Sprintf("type(%d)", byte(t))
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendKey(b []byte, k tenants.Key) []byte {
	b = append(b, byte(k.Kind))
	b = binary.AppendUvarint(b, uint64(k.Partition))
	b = appendStr(b, k.Tenant)
	b = appendStr(b, k.Table)
	b = appendStr(b, k.PK)
	return appendStr(b, k.SK)
}

// key decodes a key. Its four names share one string (a key is decoded
// on every replica request and answer, and four allocations were a
// noticeable share of a read's).
func key(d *vclock.Decoder) tenants.Key {
	k := tenants.Key{Kind: tenants.Kind(d.Byte())}
	k.Partition = uint32(d.Uvarint())
	tenant, table := d.Bytes(tenants.MaxIDLen), d.Bytes(tenants.MaxIDLen)
	pk, sk := d.Bytes(tenants.MaxKeyLen), d.Bytes(tenants.MaxKeyLen)
	var sb strings.Builder
	sb.Grow(len(tenant) + len(table) + len(pk) + len(sk))
	sb.Write(tenant)
	sb.Write(table)
	sb.Write(pk)
	sb.Write(sk)
	all := sb.String()
	k.Tenant, all = all[:len(tenant)], all[len(tenant):]
	k.Table, all = all[:len(table)], all[len(table):]
	k.PK, k.SK = all[:len(pk)], all[len(pk):]
	return k
}

func header(d *vclock.Decoder) Header { return Header{Tag: d.Uvarint()} }

func boolean(d *vclock.Decoder) bool { return d.Byte() != 0 }

func strs(d *vclock.Decoder, max int) []string {
	n := d.Uvarint()
	if n > uint64(max) {
		d.Fail(fmt.Sprintf("%d strings, at most %d allowed", n, max))
		return nil
	}
	var out []string
	for i := uint64(0); i < n; i++ {
		out = append(out, d.String(tenants.MaxIDLen))
	}
	return out
}

func appendStrs(b []byte, s []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	for _, x := range s {
		b = appendStr(b, x)
	}
	return b
}

func (m *PutRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = appendKey(b, m.Key)
	b = vclock.AppendContext(b, m.Context)
	b = binary.AppendUvarint(b, uint64(len(m.Value)))
	b = append(b, m.Value...)
	b = appendBool(b, m.Deleted)
	b = binary.AppendVarint(b, m.TTLMillis)
	b = binary.AppendUvarint(b, uint64(m.MaxSiblings))
	b = appendBool(b, m.LWW)
	b = appendStrs(b, m.Forward)
	b = appendStrs(b, m.Hints)
	b = appendBool(b, m.WantSet)
	b = binary.AppendUvarint(b, m.Write)
	b = appendStr(b, m.Hint)
	// Appended fields: absent in messages of older senders.
	return appendStr(b, m.TableName)
}

func decodePut(d *vclock.Decoder) *PutRequest {
	m := &PutRequest{Header: header(d), Key: key(d)}
	m.Context = d.Context()
	m.Value = d.Bytes(MaxValueSize)
	m.Deleted = boolean(d)
	m.TTLMillis = d.Varint()
	m.MaxSiblings = uint32(d.Uvarint())
	m.LWW = boolean(d)
	m.Forward = strs(d, MaxForward)
	m.Hints = strs(d, MaxForward)
	m.WantSet = boolean(d)
	m.Write = d.Uvarint()
	m.Hint = d.String(tenants.MaxIDLen)
	if d.Err() == nil && len(d.Rest()) > 0 {
		m.TableName = d.String(MaxTableName)
	}
	return m
}

func (m *ReplicateRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = appendKey(b, m.Key)
	b = vclock.AppendSet(b, m.Set)
	return appendStr(b, m.Hint)
}

func decodeReplicate(d *vclock.Decoder) *ReplicateRequest {
	m := &ReplicateRequest{Header: header(d), Key: key(d)}
	m.Set = d.Set(MaxValueSize)
	m.Hint = d.String(tenants.MaxIDLen)
	return m
}

func (m *GetRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = appendKey(b, m.Key)
	return appendBool(b, m.Hints)
}

func (m *ScanRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = appendKey(b, m.Key)
	b = appendStr(b, m.Start)
	b = appendStr(b, m.End)
	b = appendBool(b, m.Reverse)
	b = binary.AppendUvarint(b, uint64(m.Limit))
	return appendBool(b, m.Whole)
}

func decodeScan(d *vclock.Decoder) *ScanRequest {
	m := &ScanRequest{Header: header(d), Key: key(d)}
	m.Start = d.String(2*tenants.MaxKeyLen + 8)
	m.End = d.String(2*tenants.MaxKeyLen + 8)
	m.Reverse = boolean(d)
	m.Limit = uint32(d.Uvarint())
	if m.Limit > MaxScanLimit {
		m.Limit = MaxScanLimit
	}
	m.Whole = boolean(d)
	return m
}

func (m *UsageRequest) appendBody(b []byte) []byte {
	return binary.AppendUvarint(b, m.Tag)
}

func (m *PurgeRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = appendStr(b, m.Tenant)
	return appendStr(b, m.Table)
}

// maxRawKey bounds a raw storage key on the wire.
const maxRawKey = 3*tenants.MaxKeyLen + 3*tenants.MaxIDLen

func (m *TransferRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = append(b, byte(m.Kind))
	b = binary.AppendUvarint(b, uint64(m.Partition))
	b = appendStr(b, m.After)
	return binary.AppendUvarint(b, uint64(m.Limit))
}

func (m *StatusRequest) appendBody(b []byte) []byte {
	return binary.AppendUvarint(b, m.Tag)
}

func (m *AdminRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = appendStr(b, m.Op)
	b = binary.AppendUvarint(b, math.Float64bits(m.Value))
	return appendStr(b, m.Arg)
}

func appendUints(b []byte, xs []uint32) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		b = binary.AppendUvarint(b, uint64(x))
	}
	return b
}

func uints(d *vclock.Decoder, max int) []uint32 {
	n := d.Uvarint()
	if n > uint64(max) {
		d.Fail(fmt.Sprintf("%d integers, at most %d allowed", n, max))
		return nil
	}
	var out []uint32
	for i := uint64(0); i < n && d.Err() == nil; i++ {
		out = append(out, uint32(d.Uvarint()))
	}
	return out
}

func appendItems(b []byte, items []ScanItem) []byte {
	b = binary.AppendUvarint(b, uint64(len(items)))
	for _, it := range items {
		b = appendStr(b, it.SK)
		b = vclock.AppendSet(b, it.Set)
	}
	return b
}

func items(d *vclock.Decoder) []ScanItem {
	n := d.Uvarint()
	if n > MaxScanLimit {
		d.Fail(fmt.Sprintf("%d items, at most %d allowed", n, MaxScanLimit))
		return nil
	}
	var out []ScanItem
	for i := uint64(0); i < n && d.Err() == nil; i++ {
		out = append(out, ScanItem{SK: d.String(maxRawKey), Set: d.Set(MaxValueSize)})
	}
	return out
}

func (m *MerkleRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = binary.AppendUvarint(b, uint64(m.Partition))
	b = binary.AppendUvarint(b, uint64(m.Level))
	return appendUints(b, m.Indices)
}

func (m *BucketRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = binary.AppendUvarint(b, uint64(m.Partition))
	return appendUints(b, m.Leaves)
}

func (m *GCRequest) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	return appendItems(b, m.Items)
}

// MaxUsageEntries bounds a usage reply.
const MaxUsageEntries = 1 << 20

// Reply fields are optional; a flag byte says which follow.
// WARNING: only append flags.
const (
	replyHasContext = 1 << iota
	replyHasSet
	replyHasItems
	replyMore
	replyHasUsage
	replyHasData
)

func (m *Reply) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Tag)
	b = appendStr(b, m.Node)
	b = binary.AppendUvarint(b, uint64(m.Code))
	b = appendStr(b, m.Message)
	b = binary.AppendUvarint(b, uint64(m.Count))
	var flags byte
	if !m.Context.IsEmpty() {
		flags |= replyHasContext
	}
	if m.Set != nil || m.SetBytes != nil {
		flags |= replyHasSet
	}
	if m.Items != nil {
		flags |= replyHasItems
	}
	if m.More {
		flags |= replyMore
	}
	if m.Usage != nil {
		flags |= replyHasUsage
	}
	if m.Data != nil {
		flags |= replyHasData
	}
	b = append(b, flags)
	if !m.Context.IsEmpty() {
		b = vclock.AppendContext(b, m.Context)
	}
	if m.SetBytes != nil {
		b = append(b, m.SetBytes...)
	} else if m.Set != nil {
		b = vclock.AppendSet(b, m.Set)
	}
	if m.Items != nil {
		b = binary.AppendUvarint(b, uint64(len(m.Items)))
		for _, it := range m.Items {
			b = appendStr(b, it.SK)
			b = vclock.AppendSet(b, it.Set)
		}
	}
	if m.Usage != nil {
		b = binary.AppendUvarint(b, uint64(len(m.Usage)))
		for _, u := range m.Usage {
			b = appendStr(b, u.Tenant)
			b = appendStr(b, u.Table)
			b = binary.AppendVarint(b, u.Bytes)
		}
	}
	if m.Data != nil {
		b = binary.AppendUvarint(b, uint64(len(m.Data)))
		b = append(b, m.Data...)
	}
	return b
}

func decodeReply(d *vclock.Decoder) *Reply {
	m := &Reply{Tag: d.Uvarint()}
	m.Node = d.String(tenants.MaxIDLen)
	m.Code = Code(d.Uvarint())
	m.Message = d.String(64 << 10)
	m.Count = uint32(d.Uvarint())
	flags := d.Byte()
	if flags&replyHasContext != 0 {
		m.Context = d.Context()
	}
	if flags&replyHasSet != 0 {
		m.Set = d.Set(MaxValueSize)
		if m.Set == nil {
			m.Set = vclock.Set{}
		}
	}
	if flags&replyHasItems != 0 {
		n := d.Uvarint()
		if n > MaxScanLimit {
			d.Fail(fmt.Sprintf("%d scan items, at most %d allowed", n, MaxScanLimit))
			return m
		}
		m.Items = make([]ScanItem, 0, n)
		for i := uint64(0); i < n && d.Err() == nil; i++ {
			m.Items = append(m.Items, ScanItem{SK: d.String(maxRawKey), Set: d.Set(MaxValueSize)})
		}
	}
	m.More = flags&replyMore != 0
	if flags&replyHasUsage != 0 {
		n := d.Uvarint()
		if n > MaxUsageEntries {
			d.Fail(fmt.Sprintf("%d usage entries, at most %d allowed", n, MaxUsageEntries))
			return m
		}
		m.Usage = make([]Usage, 0, min(n, 1024))
		for i := uint64(0); i < n && d.Err() == nil; i++ {
			m.Usage = append(m.Usage, Usage{Tenant: d.String(tenants.MaxIDLen), Table: d.String(tenants.MaxIDLen), Bytes: d.Varint()})
		}
	}
	if flags&replyHasData != 0 {
		m.Data = d.Bytes(MaxMessage)
		if m.Data == nil {
			m.Data = []byte{}
		}
	}
	if flags&^(replyHasContext|replyHasSet|replyHasItems|replyMore|replyHasUsage|replyHasData) != 0 {
		d.Fail(fmt.Sprintf("unknown reply flags %#x", flags))
	}
	return m
}
