package testcluster

import (
	"context"
	"fmt"
	"time"

	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/tenants"
	"github.com/ringtable/ringtable/vclock"
)

// ItemKey returns the storage key of an item of a table, as the gateways
// compute it.
func (c *Cluster) ItemKey(tenant, table, pk, sk string) tenants.Key {
	c.t.Helper()
	c.mu.Lock()
	key := c.keys[tenant]
	c.mu.Unlock()
	t, err := c.ClientWithKey(0, key).DescribeTable(context.Background(), table)
	if err != nil {
		c.t.Fatalf("testcluster: describe %s: %v", table, err)
	}
	r := c.Gateways[0].GW.Ring()
	p := r.PartitionOf(ring.KeyHash(tenant, t.ID, pk))
	return tenants.Key{Kind: tenants.KindData, Partition: uint32(p), Tenant: tenant, Table: t.ID, PK: pk, SK: sk}
}

// Replicas returns the first n nodes of a key's preference list.
func (c *Cluster) Replicas(k tenants.Key, n int) []string {
	pl, _ := c.Gateways[0].GW.Ring().Preference(ring.Partition(k.Partition), n)
	out := make([]string, len(pl))
	for i, x := range pl {
		out[i] = string(x)
	}
	return out
}

// ReadReplica reads one key straight from one node's replica interface
// over NATS, bypassing every gateway.
func (c *Cluster) ReadReplica(node string, k tenants.Key) (vclock.Set, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn := c.nodes[node].conn
	data, err := conn.Request(ctx, conn.Subjects().NodeOp(node, "get"), wire.Encode(&wire.GetRequest{Key: k}))
	if err != nil {
		return nil, err
	}
	m, err := wire.Decode(data)
	if err != nil {
		return nil, err
	}
	r, ok := m.(*wire.Reply)
	if !ok {
		return nil, fmt.Errorf("unexpected %v", m.Type())
	}
	return r.Set, r.Err()
}

// Replicate stores a sibling set straight on one node.
func (c *Cluster) Replicate(node string, k tenants.Key, s vclock.Set) error {
	return c.replicate(node, &wire.ReplicateRequest{Key: k, Set: s})
}

// Hint stores a sibling set on one node as a hint for owner, as a
// fallback does for a replica that is down.
func (c *Cluster) Hint(node, owner string, k tenants.Key, s vclock.Set) error {
	return c.replicate(node, &wire.ReplicateRequest{Key: k, Set: s, Hint: owner})
}

// Stamp asks one node to stamp a blind write of value, as a coordinator
// does, without forwarding it.
func (c *Cluster) Stamp(node string, k tenants.Key, value []byte) error {
	return c.replicaOp(node, "put", &wire.PutRequest{Key: k, Value: value, MaxSiblings: 100})
}

func (c *Cluster) replicate(node string, req *wire.ReplicateRequest) error {
	return c.replicaOp(node, "replicate", req)
}

func (c *Cluster) replicaOp(node, op string, req wire.Message) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := c.nodes[node].conn
	data, err := conn.Request(ctx, conn.Subjects().NodeOp(node, op), wire.Encode(req))
	if err != nil {
		return err
	}
	m, err := wire.Decode(data)
	if err != nil {
		return err
	}
	return m.(*wire.Reply).Err()
}
