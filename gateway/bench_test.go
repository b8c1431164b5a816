package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// Quorum rounds through the HTTP API of one gateway over a 3-node
// in-process cluster (real NATS, real Badger with durable group commit),
// N=3 R=2 W=2, 1 KiB items, 64 concurrent clients. The tenant's request
// rate is not what is measured: its quota is set out of the way.
func benchCluster(b *testing.B) (*client.Client, []byte) {
	c := testcluster.New(b, testcluster.Options{})
	nk, err := c.Admin(0).CreateTenant(context.Background(), "bench", client.Quotas{RequestsPerSecond: 1e6, Burst: 1e6})
	if err != nil {
		b.Fatal(err)
	}
	cl := c.ClientWithKey(0, nk.APIKey)
	if _, err := cl.CreateTable(context.Background(), client.Table{Name: "b", PartitionKey: "k"}); err != nil {
		b.Fatal(err)
	}
	return cl, []byte(`{"v":"` + strings.Repeat("x", 1024-8) + `"}`)
}

func BenchmarkPut(b *testing.B) {
	cl, val := benchCluster(b)
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := client.Key{PK: fmt.Sprintf("k%d", n.Add(1))}
			if _, err := cl.Put(context.Background(), "b", k, val, client.Options{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	cl, val := benchCluster(b)
	const keys = 1000
	for i := range keys {
		if _, err := cl.Put(context.Background(), "b", client.Key{PK: fmt.Sprintf("k%d", i)}, val, client.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := client.Key{PK: fmt.Sprintf("k%d", n.Add(1)%keys)}
			if _, err := cl.Get(context.Background(), "b", k, client.Options{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
