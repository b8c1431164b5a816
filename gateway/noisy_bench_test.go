package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// BenchmarkNoisyNeighbour measures one tenant's read latency on a gateway,
// alone and while another tenant floods the same gateway far above its
// request-rate quota (4 clients in a tight loop, each ignoring the 429s and
// their Retry-After). It reports the quiet tenant's p99 in
// each case; the noisy case also reports the ratio to the alone case
// measured in the same run.
func BenchmarkNoisyNeighbour(b *testing.B) {
	c := testcluster.New(b, testcluster.Options{})
	ctx := context.Background()
	quiet := c.Client(0)
	if _, err := quiet.CreateTable(ctx, client.Table{Name: "t", PartitionKey: "k"}); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := quiet.Put(ctx, "t", client.Key{PK: fmt.Sprint(i)}, []byte(`{"v":1}`), client.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	nk, err := c.Admin(0).CreateTenant(ctx, "noisy", client.Quotas{RequestsPerSecond: 50, Burst: 50})
	if err != nil {
		b.Fatal(err)
	}
	noisy := c.ClientWithKey(0, nk.APIKey)
	// readP99 runs b.N reads of the quiet tenant from 8 clients.
	readP99 := func() float64 {
		var mu sync.Mutex
		var lat []time.Duration
		var n atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for int(n.Add(1)) <= b.N {
					t0 := time.Now()
					if _, err := quiet.Get(ctx, "t", client.Key{PK: fmt.Sprint(n.Load() % 100)}, client.Options{}); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		slices.Sort(lat)
		return float64(lat[len(lat)*99/100]) / 1e6
	}
	b.ResetTimer()
	alone := readP99()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var limited atomic.Int64
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := noisy.ListTables(ctx); client.IsStatus(err, 429) {
					limited.Add(1)
				}
			}
		}()
	}
	noisyP99 := readP99()
	close(stop)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(alone, "p99-alone-ms")
	b.ReportMetric(noisyP99, "p99-noisy-ms")
	b.ReportMetric(noisyP99/alone, "p99-ratio")
	b.ReportMetric(float64(limited.Load())/time.Since(start).Seconds(), "429s/s")
}
