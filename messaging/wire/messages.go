package wire

import (
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// Protocol versions. A message starts with the sender's version; a node
// accepts any version in [ProtocolVersionMin, ProtocolVersionMax].
//
//	1: initial protocol.
//	2: a Tag is 64 bits, the coordinator's round in its high half (a
//	   version 1 node would answer with the round cut off).
const (
	ProtocolVersionMin = 2
	ProtocolVersionMax = 2
	ProtocolVersion    = 2
)

// Type identifies a message. WARNING: ONLY APPEND TO THIS LIST.
type Type byte

const (
	TypePut       Type = 1  // PutRequest: stamp a new version (coordinator → first replica)
	TypeReplicate Type = 2  // ReplicateRequest: store a stamped sibling set
	TypeGet       Type = 3  // GetRequest: read one item's sibling set
	TypeScan      Type = 4  // ScanRequest: read a range of one partition key
	TypeReply     Type = 5  // Reply: the answer to any request
	TypeUsage     Type = 6  // UsageRequest: bytes stored per tenant and table
	TypePurge     Type = 7  // PurgeRequest: reclaim a deleted tenant's or table's items
	TypeTransfer  Type = 8  // TransferRequest: a page of one ring partition's keys
	TypeStatus    Type = 9  // StatusRequest: the node's status as JSON in Reply.Data
	TypeAdmin     Type = 10 // AdminRequest: an operator's command to one node
	TypeMerkle    Type = 11 // MerkleRequest: hashes of tree nodes of one partition
	TypeBucket    Type = 12 // BucketRequest: the items of some tree leaves
	TypeGC        Type = 13 // GCRequest: remove tombstones every replica holds
)

// Limits on what a decoder accepts. A sibling set at the maximum (every
// sibling a maximum-size item) must fit in one message, so the NATS payload
// limit is raised to MaxMessage.
const (
	MaxItemSize  = 400 << 10 // one item's JSON
	MaxValueSize = MaxItemSize + 1<<10
	MaxForward   = 16 // nodes a stamper forwards to
	MaxScanLimit = 10000
	MaxTableName = 255 // a table's name (a subject token of its feed)
	MaxMessage   = 64 << 20
)

// Header is carried by every request. The reply echoes Tag so a
// coordinator can tell which round and which attempt an answer belongs
// to: the round's number in the high half (SetRound), the coordinator
// machine's own tag in the low half.
type Header struct {
	Tag uint64
}

// withRound puts a round's number in the high half of tag.
func withRound(tag uint64, round uint32) uint64 { return uint64(round)<<32 | tag&0xffffffff }

// SplitTag returns the round's number and the machine's tag.
func SplitTag(tag uint64) (round uint32, own uint64) { return uint32(tag >> 32), tag & 0xffffffff }

// SetRound puts round in the tag of a request (a message with a Header).
func SetRound(m Message, round uint32) {
	if h, ok := m.(interface{ header() *Header }); ok {
		h.header().Tag = withRound(h.header().Tag, round)
	}
}

func (h *Header) header() *Header { return h }

// PutRequest asks a replica to stamp a write with a new dot of its own and
// to forward the resulting sibling set to the other replicas, whose answers
// go straight to the coordinator's reply subject.
type PutRequest struct {
	Header
	Key         tenants.Key
	Context     vclock.Context // the client's context; empty for a blind write
	Value       []byte         // the item's JSON; empty for a delete
	Deleted     bool
	TTLMillis   int64 // 0: no expiry
	MaxSiblings uint32
	LWW         bool
	Forward     []string // node IDs to replicate the stamped set to
	Hints       []string // Hints[i], when set, is the owner Forward[i] stands in for
	WantSet     bool     // the reply should carry the stamped set
	// Write identifies the client request; retries on another stamper
	// carry the same value (see vclock.Version.Write).
	Write uint64
	// Hint, when set, names the replica this (fallback) stamper stands in
	// for: it stamps and keeps the version as a hint for it.
	Hint string
	// TableName is the table's name, for the change event the stamper
	// publishes on rt.feed.<tenant>.<table name>; empty (system items):
	// no event. Appended: older senders leave it out.
	TableName string
}

// ReplicateRequest asks a replica to merge a sibling set into its own.
// Hint, when set, names the intended owner this node stands in for.
type ReplicateRequest struct {
	Header
	Key  tenants.Key
	Set  vclock.Set
	Hint string
}

// GetRequest reads one item's sibling set. With Hints set, the node also
// returns the versions it keeps as hints for other replicas (it answers
// as a fallback in place of a replica that is down).
type GetRequest struct {
	Header
	Key   tenants.Key
	Hints bool
}

// ScanRequest reads the items of one partition key whose sort keys fall in
// [Start, End) (End empty: no upper bound), in sort-key order, or reverse.
//
// With Whole set it reads every item of the table in the key's ring
// partition instead (Key.PK is ignored): Start, End and the items' SK are
// then table suffixes (tenants.SplitTableSuffix gives partition and sort
// key), which order the partition's items.
type ScanRequest struct {
	Header
	Key     tenants.Key // Kind, Partition, Tenant, Table, PK; SK ignored
	Start   string
	End     string
	Reverse bool
	Limit   uint32
	Whole   bool
}

// UsageRequest asks a node for the bytes it stores per tenant and table.
type UsageRequest struct {
	Header
}

// PurgeRequest asks a node to delete every item of a tenant (Table empty)
// or of one table, in every partition. Idempotent.
type PurgeRequest struct {
	Header
	Tenant string
	Table  string
}

// TransferRequest asks for the keys of one ring partition and kind after
// After (a raw storage key; empty: from the start), for a node that takes
// the partition over. Items of the reply carry raw storage keys in SK; the
// first page's Count estimates the keys in the partition.
type TransferRequest struct {
	Header
	Kind      tenants.Kind
	Partition uint32
	After     string
	Limit     uint32
}

// StatusRequest asks a node for its status (membership view, transfers,
// hints, anti-entropy) as JSON in Reply.Data.
type StatusRequest struct {
	Header
}

// AdminRequest is an operator's command: "join", "leave", or a rate limit
// ("limit-transfer" bytes/s, "limit-hints" hints/s, "limit-aae" keys/s)
// set to Value.
type AdminRequest struct {
	Header
	Op    string
	Value float64
	Arg   string // "repair": "tenantID/tableID" to limit it to one table
}

// MerkleRequest asks for the hashes of nodes Indices of one level of a
// partition's Merkle tree; the reply's Data holds 16 bytes per node.
type MerkleRequest struct {
	Header
	Partition uint32
	Level     uint32
	Indices   []uint32
}

// BucketRequest asks for the items (raw storage keys in SK) of one
// partition that fall in the given leaves.
type BucketRequest struct {
	Header
	Partition uint32
	Leaves    []uint32
}

// GCRequest asks a node to remove tombstones: each item (raw key in SK)
// is removed if the node holds exactly that set, all tombstones.
type GCRequest struct {
	Header
	Items []ScanItem
}

// Usage is the bytes a node stores for one table of one tenant.
type Usage struct {
	Tenant, Table string
	Bytes         int64
}

// ScanItem is one item of a scan reply.
type ScanItem struct {
	SK  string
	Set vclock.Set
}

// Reply answers any request. Node is the replying node. Which fields are
// set depends on the request: Context and Set for a put (the stamped
// version's history and the stored set), Set for a get, Items and More for
// a scan.
type Reply struct {
	Tag     uint64
	Node    string
	Code    Code
	Message string
	Context vclock.Context
	Count   uint32 // siblings the item has after a put
	Set     vclock.Set
	// SetBytes, when not nil, is Set already encoded (vclock.AppendSet),
	// sent as it is in place of Set: a replica answers a get with the
	// bytes it stores. It decodes as Set.
	SetBytes []byte
	Items    []ScanItem
	More     bool
	Usage    []Usage
	Data     []byte // JSON payloads of status and admin replies
}

// Err returns the reply's error, or nil.
func (r *Reply) Err() error {
	if r.Code == CodeOK {
		return nil
	}
	return &Error{Code: r.Code, Message: r.Message}
}
