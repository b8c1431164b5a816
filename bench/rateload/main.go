// Command rateload is an open-loop load generator: it sends PUTs to a
// ringtable gateway at a fixed rate, whether or not earlier ones have
// answered, and reports the latency percentiles at that rate.
//
// Each request's latency is counted from the moment it was due, not from
// when it was sent, so a stalled server is charged for the requests that
// queued behind the stall (no coordinated omission; bench/internal/openloop).
// Requests that would exceed --max-inflight are not sent and count as
// errors. Like
// `ringtable bench`, it updates each key with the context of its last
// write, so updates do not pile up siblings.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/ringtable/ringtable/bench/internal/openloop"
	"github.com/ringtable/ringtable/bench/internal/result"
	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/loadgen"
)

func main() {
	gw := flag.String("gateway", "http://127.0.0.1:8080", "gateway URL")
	apiKey := flag.String("api-key", os.Getenv("RINGTABLE_API_KEY"), "tenant API key (default: $RINGTABLE_API_KEY)")
	table := flag.String("table", "bench", "table to write (created if missing)")
	rate := flag.Float64("rate", 1000, "PUTs per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	keys := flag.Int("keys", 100000, "size of the key space (uniform)")
	valueSize := flag.Int("value-size", 1024, "bytes per item")
	maxInflight := flag.Int("max-inflight", 4096, "requests in flight at most; beyond, due requests are dropped and counted as errors")
	csvPath := flag.String("csv", "", "append one result row to this CSV file")
	label := flag.String("label", "ringtable-rate", "label of the CSV row")
	latencyLog := flag.String("latency-log", "", "write each request's due time and latency (ms since the start, CSV) to this file, to see when the slow ones happened")
	flag.Parse()
	if *apiKey == "" || *rate <= 0 || *keys < 1 || *maxInflight < 1 {
		log.Fatal("rateload: need --api-key (or RINGTABLE_API_KEY), --rate > 0, --keys >= 1, --max-inflight >= 1")
	}
	cl := client.New(*gw, nil).WithAPIKey(*apiKey)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, err := cl.CreateTable(ctx, client.Table{Name: *table, PartitionKey: "k"})
	cancel()
	if err != nil && !client.IsStatus(err, http.StatusConflict) {
		log.Fatalf("rateload: create table %q: %v", *table, err)
	}
	items, err := loadgen.NewItems(cl, *table, *maxInflight)
	if err != nil {
		log.Fatal("rateload: ", err)
	}
	l := &loader{items: items, value: result.Value(*valueSize), ctxs: map[int]string{}, maxInflight: *maxInflight}
	l.tally.Rec, l.tally.Log = &l.rec, openloop.NewLatencyLog(*latencyLog)
	elapsed, first := l.run(*rate, *duration, *keys)
	if err := l.tally.Log.Write(); err != nil {
		log.Fatal("rateload: ", err)
	}
	s := l.rec.Summary(elapsed)
	row := result.Row{Label: *label, Op: "write", Concurrency: *maxInflight, Keys: *keys, Dist: "uniform", ValueSize: *valueSize}
	fmt.Printf("target %.0f PUT/s for %v: ", *rate, *duration)
	result.Print(row, s)
	if first != nil {
		log.Printf("rateload: %d errors, the first: %v", s.Errors, first)
	}
	if err := result.Append(*csvPath, row, s); err != nil {
		log.Fatal("rateload: csv: ", err)
	}
}

type loader struct {
	items       *loadgen.Items
	value       []byte
	maxInflight int
	rec         result.Recorder
	tally       openloop.Tally // into rec, and its log if asked for

	mu   sync.Mutex
	ctxs map[int]string // the latest context of each key
}

// run sends the requests on schedule and waits for the last answer.
func (l *loader) run(rate float64, duration time.Duration, keys int) (time.Duration, error) {
	f := openloop.Send(openloop.Config{Rate: rate, Duration: duration, MaxInflight: l.maxInflight},
		func(int) error { return l.put(rand.IntN(keys)) }, l.tally.Add)
	return f.Wait(), l.tally.First()
}

func (l *loader) put(k int) error {
	l.mu.Lock()
	prev := l.ctxs[k]
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Keys are uniform over a large space: two writes of one key in flight
	// together, which would leave siblings to resolve, are rare.
	tok, _, err := l.items.Put(ctx, "key"+strconv.Itoa(k), l.value, 0, prev)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.ctxs[k] = tok
	l.mu.Unlock()
	return nil
}
