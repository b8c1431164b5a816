package messaging

import (
	"fmt"
	"strings"
	"sync"
)

// DefaultPrefix starts every subject unless configured otherwise.
const DefaultPrefix = "rt"

// Subject templates, each a pattern for Subscribe and a …T template for
// Publish, with the payload they carry. Every subject starts with the
// configured prefix.
const (
	// subjNodeOpT: a replica operation on one node. Payload: a wire request
	// (put, replicate, get, scan); reply: wire.Reply.
	subjNodeOpT = "%s.node.%s.%s"
	// subjNodeAllT: every operation of one node (a node subscribes here).
	subjNodeAllT = "%s.node.%s.*"
	// subjGossipT: request-reply gossip with one node.
	subjGossipT = "%s.gossip.%s"
	// subjGossipAllT: gossip broadcast to every node and gateway.
	subjGossipAllT = "%s.gossip.all"
	// subjFeedT: change events of one tenant's table.
	subjFeedT = "%s.feed.%s.%s"
	// subjFeedTenantT: every feed subject of one tenant.
	subjFeedTenantT = "%s.feed.%s.>"
	// subjFeedAllT: every feed subject (the internal account exports it,
	// each tenant imports its own part).
	subjFeedAllT = "%s.feed.*.>"
	// subjFeedLogT: where a stamping node publishes a change event. Only
	// the JetStream feed stream listens; it stores the event once (by its
	// message ID) and republishes it on subjFeedT with its sequence.
	subjFeedLogT = "%s.feedlog.%s.%s"
	// subjFeedLogAllT: the feed stream's subjects.
	subjFeedLogAllT = "%s.feedlog.>"
	// subjSystemT: cluster-wide notices (catalog and tenant changes) that
	// gateways use to invalidate caches. Payload: a short JSON notice.
	subjSystemT = "%s.system.%s"
)

// Subjects builds subject names for one prefix.
type Subjects struct{ prefix string }

// NewSubjects validates prefix (dot-separated tokens of [A-Za-z0-9_-]).
func NewSubjects(prefix string) (Subjects, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	for _, tok := range strings.Split(prefix, ".") {
		if !ValidToken(tok) {
			return Subjects{}, fmt.Errorf("messaging: subject prefix %q: each dot-separated part must be 1-64 of [A-Za-z0-9_-]", prefix)
		}
	}
	return Subjects{prefix: prefix}, nil
}

// MustSubjects is NewSubjects for constant, known-good prefixes.
func MustSubjects(prefix string) Subjects {
	s, err := NewSubjects(prefix)
	if err != nil {
		panic(err)
	}
	return s
}

// ValidToken reports whether s can be one token of a subject.
func ValidToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Prefix returns the prefix.
func (s Subjects) Prefix() string { return s.prefix }

// NodeOp is the subject of operation op on node. It is built for every
// replica request, so by concatenation (one allocation) rather than
// fmt.Sprintf; subjNodeOpT is its shape.
func (s Subjects) NodeOp(node, op string) string {
	return s.prefix + ".node." + node + "." + op
}

// NodeOps remembers the subjects NodeOp built, for the request paths: a
// round sends to N nodes, and each subject built anew was an allocation.
// It is safe for concurrent use.
type NodeOps struct {
	subj Subjects
	mu   sync.RWMutex
	m    map[[2]string]string
}

// maxNodeOps bounds what NodeOps keeps (nodes come and go; a cluster has
// far fewer nodes times operations).
const maxNodeOps = 4096

// NewNodeOps returns an empty cache of s's node subjects.
func NewNodeOps(s Subjects) *NodeOps {
	return &NodeOps{subj: s, m: make(map[[2]string]string)}
}

// Get returns the subject of operation op on node (Subjects.NodeOp).
func (c *NodeOps) Get(node, op string) string {
	k := [2]string{node, op}
	c.mu.RLock()
	s, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return s
	}
	s = c.subj.NodeOp(node, op)
	c.mu.Lock()
	if len(c.m) >= maxNodeOps {
		clear(c.m)
	}
	c.m[k] = s
	c.mu.Unlock()
	return s
}

// NodeAll matches every operation of node.
func (s Subjects) NodeAll(node string) string { return fmt.Sprintf(subjNodeAllT, s.prefix, node) }

// Gossip is the gossip subject of one node.
func (s Subjects) Gossip(node string) string { return fmt.Sprintf(subjGossipT, s.prefix, node) }

// GossipAll is the gossip broadcast subject.
func (s Subjects) GossipAll() string { return fmt.Sprintf(subjGossipAllT, s.prefix) }

// Feed is the change-feed subject of one table.
func (s Subjects) Feed(tenant, table string) string {
	return fmt.Sprintf(subjFeedT, s.prefix, tenant, table)
}

// FeedTenant matches every feed subject of one tenant.
func (s Subjects) FeedTenant(tenant string) string {
	return fmt.Sprintf(subjFeedTenantT, s.prefix, tenant)
}

func (s Subjects) feedAll() string { return fmt.Sprintf(subjFeedAllT, s.prefix) }

// FeedLog is the subject a stamping node publishes a table's events on.
// It is built for every event, so by concatenation: Sprintf took three
// allocations (TestSubjects holds it to subjFeedLogT).
func (s Subjects) FeedLog(tenant, table string) string {
	return s.prefix + ".feedlog." + tenant + "." + table
}

func (s Subjects) feedLogAll() string { return fmt.Sprintf(subjFeedLogAllT, s.prefix) }

// System is the subject of one kind of cluster notice.
func (s Subjects) System(kind string) string { return fmt.Sprintf(subjSystemT, s.prefix, kind) }

// ParseNodeOp splits a subject built by NodeOp into node and operation.
func (s Subjects) ParseNodeOp(subject string) (node, op string, ok bool) {
	rest, found := strings.CutPrefix(subject, s.prefix+".node.")
	if !found {
		return "", "", false
	}
	node, op, ok = strings.Cut(rest, ".")
	return node, op, ok && ValidToken(node) && ValidToken(op)
}
