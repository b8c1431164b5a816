// Command etcdload loads an etcd cluster in the reference shape of the
// comparison (concurrent clients, fixed-size values, random keys) and
// reports ops/s and latency percentiles in the columns of
// `ringtable bench --csv`.
//
// Writes are plain Puts (etcd acknowledges a put once a majority has it in
// its fsynced raft log). Reads are Gets of preloaded keys, linearizable
// (a ReadIndex round through the leader, the counterpart of a quorum read)
// or serializable (answered by the member the client reached, from its
// local state, no quorum).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ringtable/ringtable/bench/internal/openloop"
	"github.com/ringtable/ringtable/bench/internal/result"
)

type config struct {
	endpoints                       []string
	clients, conns, keys, valueSize int
	duration                        time.Duration
	ops, csv, label, latencyLog     string
	rate                            float64
	maxInflight                     int
}

func main() {
	var c config
	var endpoints string
	flag.StringVar(&endpoints, "endpoints", "127.0.0.1:2379", "comma-separated client URLs of the members")
	flag.IntVar(&c.clients, "clients", 64, "concurrent clients (goroutines)")
	flag.IntVar(&c.conns, "conns", 8, "gRPC connections the clients are spread over")
	flag.IntVar(&c.keys, "keys", 100000, "size of the key space (preloaded before reads)")
	flag.IntVar(&c.valueSize, "value-size", 1024, "bytes per value")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long to measure each operation kind")
	flag.StringVar(&c.ops, "ops", "write,read-linearizable,read-serializable", "operation kinds to measure, in order (also rate: puts sent open loop at --rate)")
	flag.Float64Var(&c.rate, "rate", 0, "puts per second of the rate case (0: half the put rate measured before it)")
	flag.IntVar(&c.maxInflight, "max-inflight", 4096, "rate case: requests in flight at most; beyond, due requests are dropped and counted as errors")
	flag.StringVar(&c.latencyLog, "latency-log", "", "rate case: write each request's due time and latency (ms since the start, CSV) to this file, to see when the slow ones happened")
	flag.StringVar(&c.csv, "csv", "", "append one result row per operation kind to this CSV file")
	flag.StringVar(&c.label, "label", "etcd", "label of the CSV rows (reads get -linearizable or -serializable appended)")
	flag.Parse()
	c.endpoints = strings.Split(endpoints, ",")
	if c.clients < 1 || c.conns < 1 || c.keys < 1 || c.rate < 0 || c.maxInflight < 1 {
		log.Fatal("etcdload: clients, conns, keys and max-inflight must be at least 1, rate at least 0")
	}
	if err := run(c); err != nil {
		log.Fatal("etcdload: ", err)
	}
}

func run(c config) error {
	var cls []*clientv3.Client
	for range c.conns {
		cl, err := clientv3.New(clientv3.Config{Endpoints: c.endpoints, DialTimeout: 5 * time.Second})
		if err != nil {
			return err
		}
		defer cl.Close()
		cls = append(cls, cl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := cls[0].Put(ctx, "etcdload-ready", "1")
	cancel()
	if err != nil {
		return fmt.Errorf("first put: %w", err)
	}
	b := &bench{c: c, cls: cls, value: string(result.Value(c.valueSize))}
	preloaded := false
	var puts float64 // the closed-loop put rate, once measured
	for _, op := range strings.Split(c.ops, ",") {
		switch op {
		case "write":
			puts = b.measure(c.label, "write", b.put).Rate
		case "rate":
			rate, err := openloop.Pick(c.rate, puts)
			if err != nil {
				return err
			}
			b.openLoop(rate)
		case "read-linearizable", "read-serializable":
			if !preloaded {
				fmt.Fprintf(os.Stderr, "etcdload: preloading %d keys...\n", c.keys)
				if err := b.preload(); err != nil {
					return err
				}
				preloaded = true
			}
			var opts []clientv3.OpOption
			if op == "read-serializable" {
				opts = append(opts, clientv3.WithSerializable())
			}
			b.measure(c.label+strings.TrimPrefix(op, "read"), "read", func(cl *clientv3.Client, rng *rand.Rand) error {
				return b.get(cl, rng, opts)
			})
		default:
			return fmt.Errorf("unknown operation %q (want write, read-linearizable, read-serializable or rate)", op)
		}
	}
	return nil
}

type bench struct {
	c     config
	cls   []*clientv3.Client
	value string
}

func key(k int) string { return "key" + strconv.Itoa(k) }

func (b *bench) put(cl *clientv3.Client, rng *rand.Rand) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cl.Put(ctx, key(rng.IntN(b.c.keys)), b.value)
	return err
}

func (b *bench) get(cl *clientv3.Client, rng *rand.Rand, opts []clientv3.OpOption) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cl.Get(ctx, key(rng.IntN(b.c.keys)), opts...)
	if err == nil && (len(resp.Kvs) != 1 || len(resp.Kvs[0].Value) != len(b.value)) {
		err = fmt.Errorf("get: %d values, not the preloaded one", len(resp.Kvs))
	}
	return err
}

// preload puts every key once.
func (b *bench) preload() error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, b.c.clients)
	for i := range b.c.clients {
		cl := b.cls[i%len(b.cls)]
		wg.Go(func() {
			for k := int(next.Add(1) - 1); k < b.c.keys; k = int(next.Add(1) - 1) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := cl.Put(ctx, key(k), b.value)
				cancel()
				if err != nil {
					errs <- fmt.Errorf("preload: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// measure runs op from every client for the configured duration.
func (b *bench) measure(label, name string, op func(*clientv3.Client, *rand.Rand) error) result.Stats {
	var rec result.Recorder
	var once sync.Once
	var firstErr error
	deadline := time.Now().Add(b.c.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range b.c.clients {
		cl, rng := b.cls[i%len(b.cls)], rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(cl, rng); err != nil {
					rec.Err()
					once.Do(func() { firstErr = err })
					continue
				}
				rec.Ok(time.Since(t0))
			}
		})
	}
	wg.Wait()
	row := result.Row{Label: label, Op: name, Concurrency: b.c.clients, Keys: b.c.keys, Dist: "uniform", ValueSize: b.c.valueSize}
	if name == "read" {
		row.ReadRatio = 1
	}
	return report(b.c.csv, row, rec.Summary(time.Since(start)), firstErr)
}

// openLoop sends puts at rate for the configured duration, whether or not
// earlier ones have answered, spread over the connections as the closed
// loop's clients are.
func (b *bench) openLoop(rate float64) {
	var rec result.Recorder
	lat := openloop.NewLatencyLog(b.c.latencyLog)
	elapsed, firstErr := openloop.Measure(openloop.Config{Rate: rate, Duration: b.c.duration, MaxInflight: b.c.maxInflight},
		&rec, lat, func(i int) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := b.cls[i%len(b.cls)].Put(ctx, key(rand.IntN(b.c.keys)), b.value)
			return err
		})
	if err := lat.Write(); err != nil {
		log.Print("etcdload: ", err)
	}
	fmt.Printf("target %.0f puts/s for %v: ", rate, b.c.duration)
	row := result.Row{Label: b.c.label + "-rate", Op: "write", Concurrency: b.c.maxInflight, Keys: b.c.keys, Dist: "uniform", ValueSize: b.c.valueSize}
	report(b.c.csv, row, rec.Summary(elapsed), firstErr)
}

// report prints a case's figures and appends them to the CSV file.
func report(csvPath string, row result.Row, s result.Stats, firstErr error) result.Stats {
	result.Print(row, s)
	if firstErr != nil {
		log.Printf("etcdload: %d %s errors, the first: %v", s.Errors, row.Label, firstErr)
	}
	if err := result.Append(csvPath, row, s); err != nil {
		log.Print("etcdload: csv: ", err)
	}
	return s
}
