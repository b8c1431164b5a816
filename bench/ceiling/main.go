// Command ceiling measures the ideal that ringtable's quorum path is
// compared with: a bare quorum round over embedded NATS to three Badger
// replicas, with ringtable's durability (SyncWrites and group commit) and
// nothing else: no HTTP, no versioning, no coordinator.
//
// One process runs an embedded NATS server, the replicas (each with its own
// connection and Badger directory) and the clients (sharing one connection
// and one reply router, as a gateway does). Each client sends its request
// to every replica and waits for the quorum: for a write, that many
// durable acknowledgements; for a read, that many replies carrying the
// value. It prints one line per measured operation kind and appends the
// same figures to --csv in the columns of `ringtable bench --csv`.
//
// With --http it measures nothing itself: it serves the same rounds over
// HTTP to `ringtable bench`, which then loads it as it loads a gateway
// (http.go).
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ringtable/ringtable/bench/internal/openloop"
	"github.com/ringtable/ringtable/bench/internal/result"
	"github.com/ringtable/ringtable/messaging"
)

type config struct {
	replicas, quorum, clients, keys, valueSize int
	duration                                   time.Duration
	ops                                        string
	dir, csv, label, http                      string
	rate                                       float64
	maxInflight                                int
	latencyLog                                 string
}

func main() {
	var c config
	flag.IntVar(&c.replicas, "replicas", 3, "replicas every request is sent to (N)")
	flag.IntVar(&c.quorum, "quorum", 2, "replies a round waits for (R and W)")
	flag.IntVar(&c.clients, "clients", 64, "concurrent clients")
	flag.IntVar(&c.keys, "keys", 100000, "size of the key space (preloaded before reads)")
	flag.IntVar(&c.valueSize, "value-size", 1024, "bytes per value")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long to measure each operation kind")
	flag.StringVar(&c.ops, "ops", "write,read", "operation kinds to measure, in order: write, read, rate (writes sent open loop at --rate)")
	flag.Float64Var(&c.rate, "rate", 0, "writes per second of the rate case (0: half the write rate measured before it)")
	flag.IntVar(&c.maxInflight, "max-inflight", 4096, "rate case: requests in flight at most; beyond, due requests are dropped and counted as errors")
	flag.StringVar(&c.latencyLog, "latency-log", "", "rate case: write each request's due time and latency (ms since the start, CSV) to this file, to see when the slow ones happened")
	flag.StringVar(&c.dir, "dir", "", "directory for the replicas' Badger data (default: a temporary one, removed after)")
	flag.StringVar(&c.csv, "csv", "", "append one result row per operation kind to this CSV file")
	flag.StringVar(&c.label, "label", "ceiling", "label of the CSV rows")
	flag.StringVar(&c.http, "http", "", "instead of measuring, serve the rounds over HTTP on this address, to be loaded by ringtable bench, until interrupted")
	flag.Parse()
	if c.quorum < 1 || c.quorum > c.replicas || c.clients < 1 || c.keys < 1 || c.rate < 0 || c.maxInflight < 1 {
		log.Fatal("ceiling: need 1 <= quorum <= replicas, clients >= 1, keys >= 1, rate >= 0, max-inflight >= 1")
	}
	if err := run(c); err != nil {
		log.Fatal("ceiling: ", err)
	}
}

func run(c config) error {
	if c.dir == "" {
		d, err := os.MkdirTemp("", "ceiling-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		c.dir = d
	}
	sc := messaging.DefaultServerConfig()
	sc.Listen = "127.0.0.1:0"
	ns, err := messaging.StartServer(sc)
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	dial := func(name string) (*messaging.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return messaging.Connect(ctx, messaging.ClientConfig{URLs: []string{ns.ClientURL()}, Name: name, Prefix: "ceiling"})
	}
	var puts, gets []string
	for i := 1; i <= c.replicas; i++ {
		id := "n" + strconv.Itoa(i) // as ringtable dev names its nodes
		conn, err := dial(id)
		if err != nil {
			return err
		}
		rep, err := startReplica(conn, id, filepath.Join(c.dir, id))
		if err != nil {
			conn.Close()
			return err
		}
		defer rep.close()
		puts, gets = append(puts, conn.Subjects().NodeOp(id, "put")), append(gets, conn.Subjects().NodeOp(id, "get"))
	}
	conn, err := dial("clients")
	if err != nil {
		return err
	}
	defer conn.Close()
	caller, err := conn.NewCaller()
	if err != nil {
		return err
	}
	defer caller.Close()
	b := &bench{c: c, caller: caller, puts: puts, gets: gets, value: result.Value(c.valueSize)}
	if c.http != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return b.serveHTTP(ctx, c.http)
	}
	var writes float64 // the closed-loop write rate, once measured
	for _, op := range strings.Split(c.ops, ",") {
		switch op {
		case "write":
			writes = b.measure("write", b.write).Rate
		case "rate":
			rate, err := openloop.Pick(c.rate, writes)
			if err != nil {
				return err
			}
			b.openLoop(rate)
		case "read":
			fmt.Fprintf(os.Stderr, "ceiling: preloading %d keys...\n", c.keys)
			if err := b.preload(); err != nil {
				return err
			}
			b.measure("read", b.read)
		default:
			return fmt.Errorf("unknown operation %q (want write, read or rate)", op)
		}
	}
	return nil
}

type bench struct {
	c          config
	caller     *messaging.Caller
	puts, gets []string
	value      []byte
	late       atomic.Int64 // replies of earlier rounds, not counted
}

func key(k int) []byte { return []byte("key" + strconv.Itoa(k)) }

// Every request starts with roundLen bytes that round fills with the
// round's number, and every reply starts with the same bytes: a round's
// reply subject is reused by later rounds (messaging.Caller), so the
// slowest replica's reply to one round reaches a later one, which must not
// count it toward its quorum, as a gateway does not.
const roundLen = 4

// putPayload is room for the round's number, a 2-byte key length, the key,
// then the value.
func putPayload(k, v []byte) []byte {
	p := make([]byte, roundLen, roundLen+2+len(k)+len(v))
	p = append(p, byte(len(k)>>8), byte(len(k)))
	return append(append(p, k...), v...)
}

// getPayload is room for the round's number, then the key.
func getPayload(k []byte) []byte {
	return append(make([]byte, roundLen, roundLen+len(k)), k...)
}

// round numbers payload, sends it to every subject, waits for need good
// replies of this round and returns the first (without the number).
func (b *bench) round(subjects []string, payload []byte, need int, good func([]byte) bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Late replies of earlier rounds on the same subject share the buffer,
	// and a reply that finds it full is dropped: a replica that falls
	// behind (a flush) answers a run of earlier rounds at once, which must
	// not crowd out this round's replies, since the ideal round does not
	// ask again as a gateway does.
	call := b.caller.Open(128)
	defer call.Close()
	binary.BigEndian.PutUint32(payload, call.Round())
	for _, s := range subjects {
		if err := call.Send(s, payload); err != nil {
			return nil, err
		}
	}
	var first []byte
	for got, answered := 0, 0; got < need; {
		select {
		case m := <-call.Replies():
			if len(m.Data) < roundLen || binary.BigEndian.Uint32(m.Data) != call.Round() {
				b.late.Add(1)
				continue
			}
			if answered++; good(m.Data[roundLen:]) {
				if got++; got == 1 {
					first = m.Data[roundLen:]
				}
			} else if answered-got > len(subjects)-need {
				return nil, errors.New("quorum not met")
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return first, nil
}

func ack(p []byte) bool { return len(p) == 1 && p[0] == 'k' }

func (b *bench) write(rng *rand.Rand) error { return b.writeKey(rng.IntN(b.c.keys)) }

func (b *bench) writeKey(k int) error {
	_, err := b.round(b.puts, putPayload(key(k), b.value), b.c.quorum, ack)
	return err
}

func (b *bench) read(rng *rand.Rand) error {
	_, err := b.round(b.gets, getPayload(key(rng.IntN(b.c.keys))), b.c.quorum, func(p []byte) bool { return len(p) == len(b.value) })
	return err
}

// preload writes every key to every replica.
func (b *bench) preload() error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, b.c.clients)
	for range b.c.clients {
		wg.Go(func() {
			for k := int(next.Add(1) - 1); k < b.c.keys; k = int(next.Add(1) - 1) {
				if _, err := b.round(b.puts, putPayload(key(k), b.value), len(b.puts), ack); err != nil {
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
func (b *bench) measure(name string, op func(*rand.Rand) error) result.Stats {
	var rec result.Recorder
	var once sync.Once
	var firstErr error
	deadline := time.Now().Add(b.c.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range b.c.clients {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(rng); err != nil {
					rec.Err()
					once.Do(func() { firstErr = err })
					continue
				}
				rec.Ok(time.Since(t0))
			}
		})
	}
	wg.Wait()
	row := result.Row{Label: b.c.label, Op: name, Concurrency: b.c.clients, Keys: b.c.keys, Dist: "uniform", ValueSize: b.c.valueSize}
	if name == "read" {
		row.ReadRatio = 1
	}
	return b.report(row, rec.Summary(time.Since(start)), firstErr)
}

// openLoop sends writes at rate for the configured duration, whether or
// not earlier ones have answered, as bench/rateload does to a gateway: the
// latency at a given rate that ringtable's is held against.
func (b *bench) openLoop(rate float64) {
	var rec result.Recorder
	lat := openloop.NewLatencyLog(b.c.latencyLog)
	elapsed, firstErr := openloop.Measure(openloop.Config{Rate: rate, Duration: b.c.duration, MaxInflight: b.c.maxInflight},
		&rec, lat, func(int) error { return b.writeKey(rand.IntN(b.c.keys)) })
	if err := lat.Write(); err != nil {
		log.Print("ceiling: ", err)
	}
	fmt.Printf("target %.0f writes/s for %v: ", rate, b.c.duration)
	row := result.Row{Label: b.c.label + "-rate", Op: "write", Concurrency: b.c.maxInflight, Keys: b.c.keys, Dist: "uniform", ValueSize: b.c.valueSize}
	b.report(row, rec.Summary(elapsed), firstErr)
}

// report prints a case's figures and appends them to the CSV file.
func (b *bench) report(row result.Row, s result.Stats, firstErr error) result.Stats {
	result.Print(row, s)
	if n := b.late.Swap(0); n > 0 {
		fmt.Fprintf(os.Stderr, "ceiling: %d replies to earlier rounds reached later ones and were not counted\n", n)
	}
	if firstErr != nil {
		log.Printf("ceiling: %d %s errors, the first: %v", s.Errors, row.Label, firstErr)
	}
	if err := result.Append(b.c.csv, row, s); err != nil {
		log.Print("ceiling: csv: ", err)
	}
	return s
}
