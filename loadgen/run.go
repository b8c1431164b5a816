package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
)

// Progress receives live counts about once a second.
type Progress func(elapsed time.Duration, reads, writes, errs int64)

// Run creates the table if needed, optionally preloads the key space, and
// drives the load for cfg.Duration.
func Run(ctx context.Context, cl *client.Client, cfg Config, progress Progress) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := cl.CreateTable(ctx, client.Table{Name: cfg.Table, PartitionKey: "k"}); err != nil && !client.IsStatus(err, http.StatusConflict) {
		return nil, fmt.Errorf("loadgen: create table %q: %w", cfg.Table, err)
	}
	it, err := NewItems(cl, cfg.Table, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	r := &runner{items: it, cfg: cfg, value: makeValue(cfg.ValueSize)}
	for i := range r.ctxs {
		r.ctxs[i].m = map[int]keyState{}
	}
	if cfg.Preload {
		if err := r.preload(ctx); err != nil {
			return nil, err
		}
	}
	return r.measure(ctx, progress), nil
}

type runner struct {
	items *Items
	cfg   Config
	value []byte
	ctxs  [64]ctxShard // latest context per key, sharded

	reads, writes, errs atomic.Int64
	preResolved         atomic.Int64 // keys the preload found written already
}

type ctxShard struct {
	mu sync.Mutex
	m  map[int]keyState
}

// keyState is what the writers know of a key.
type keyState struct {
	tok      string // the latest context seen
	siblings bool   // the last write's answer said the item has siblings
}

// context returns the context the next write of k carries, and whether
// that writer should first read k to resolve its siblings. Only one
// writer is told to: the others go on with the latest context.
func (r *runner) context(k int) (tok string, resolve bool) {
	s := &r.ctxs[k%len(r.ctxs)]
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[k]
	if st.siblings {
		s.m[k] = keyState{tok: st.tok}
	}
	return st.tok, st.siblings
}

// remember records a context seen for k and, for a write's answer,
// whether the item has siblings (reads see them all: their context
// resolves them).
func (r *runner) remember(k int, tok string, siblings int) {
	if tok == "" {
		return
	}
	s := &r.ctxs[k%len(r.ctxs)]
	s.mu.Lock()
	s.m[k] = keyState{tok: tok, siblings: siblings > 1}
	s.mu.Unlock()
}

func makeValue(size int) []byte {
	// {"v":"xxxx..."} padded to exactly size bytes.
	pad := size - len(`{"v":""}`)
	return []byte(`{"v":"` + strings.Repeat("x", pad) + `"}`)
}

func keyName(k int) string { return "key" + strconv.Itoa(k) }

func (r *runner) preload(ctx context.Context) error {
	next := atomic.Int64{}
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range r.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= r.cfg.Keys || ctx.Err() != nil {
					return
				}
				tok, siblings, resolved, err := r.putBlind(ctx, keyName(k))
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				if resolved {
					r.preResolved.Add(1)
				}
				r.remember(k, tok, siblings)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("loadgen: preload: %w", err)
	}
	return ctx.Err()
}

// putBlind writes key without a context, as the first write of a key
// this run has not seen. If the answer says the item has siblings, or the
// table's sibling maximum refuses the write, the key held versions the
// run did not know of (an earlier run's on the same table, or a racing
// writer's): it reads the key and writes again with the read's context,
// which supersedes every version the read saw, rather than leave a
// sibling that no later write of the run may come to resolve. resolved
// says it did.
func (r *runner) putBlind(ctx context.Context, key string) (tok string, siblings int, resolved bool, err error) {
	tok, siblings, err = r.items.Put(ctx, key, r.value, r.cfg.W, "")
	if err == nil && siblings <= 1 || err != nil && !client.IsStatus(err, http.StatusConflict) {
		return tok, siblings, false, err
	}
	tok, siblings, err = r.rewrite(ctx, key)
	return tok, siblings, true, err
}

// rewrite reads key and writes it again with the read's context, which
// supersedes every version the read saw.
func (r *runner) rewrite(ctx context.Context, key string) (string, int, error) {
	rtok, err := r.items.Get(ctx, key, r.cfg.R)
	if err != nil {
		return "", 0, fmt.Errorf("read %s to resolve its siblings: %w", key, err)
	}
	return r.items.Put(ctx, key, r.value, r.cfg.W, rtok)
}

type worker struct {
	readLat, writeLat []time.Duration
	readErr, writeErr int
	notFound          int
	resolved          int // writes that read the item first to resolve its siblings
	maxSiblings       int // the most siblings a write's answer reported
	errs              map[string]int
}

func (r *runner) measure(ctx context.Context, progress Progress) *Report {
	// At the end of the run no request begins, and those under way end as
	// they would: a write cut off at the deadline may still be stored on
	// some replica, a version no client saw, which the next run on the
	// table would meet as a sibling that its reads need not show.
	stop, cancel := context.WithTimeout(ctx, r.cfg.Duration)
	defer cancel()
	start := time.Now()
	workers := make([]*worker, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{errs: map[string]int{}}
		workers[i] = w
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r.work(ctx, stop, w, rand.New(rand.NewPCG(uint64(r.cfg.Seed), seed)))
		}(uint64(i))
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			if progress != nil {
				progress(time.Since(start), r.reads.Load(), r.writes.Load(), r.errs.Load())
			}
		}
	}
	elapsed := time.Since(start)
	rep := &Report{Config: r.cfg, Elapsed: elapsed, Errors: map[string]int{}, PreloadResolved: int(r.preResolved.Load())}
	var rl, wl []time.Duration
	var re, we int
	for _, w := range workers {
		rl, wl = append(rl, w.readLat...), append(wl, w.writeLat...)
		re, we = re+w.readErr, we+w.writeErr
		rep.NotFound += w.notFound
		rep.Resolved += w.resolved
		rep.MaxSiblings = max(rep.MaxSiblings, w.maxSiblings)
		for k, v := range w.errs {
			rep.Errors[k] += v
		}
	}
	rep.Reads, rep.Writes = summarise(rl, re, elapsed), summarise(wl, we, elapsed)
	return rep
}

// work runs one client's requests under ctx until stop ends.
func (r *runner) work(ctx, stop context.Context, w *worker, rng *rand.Rand) {
	var zipf *rand.Zipf
	if r.cfg.Zipf && r.cfg.Keys > 1 {
		zipf = rand.NewZipf(rng, 1.1, 1, uint64(r.cfg.Keys-1))
	}
	for stop.Err() == nil {
		k := rng.IntN(r.cfg.Keys)
		if zipf != nil {
			k = int(zipf.Uint64())
		}
		key := keyName(k)
		t0 := time.Now()
		if rng.Float64() < r.cfg.ReadRatio {
			tok, err := r.items.Get(ctx, key, r.cfg.R)
			d := time.Since(t0)
			switch {
			case err == nil:
				w.readLat = append(w.readLat, d)
				r.remember(k, tok, 1)
				r.reads.Add(1)
			case client.IsStatus(err, http.StatusNotFound):
				w.notFound++
				w.readLat = append(w.readLat, d)
				r.reads.Add(1)
			case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
				return
			default:
				w.readErr++
				w.errs["read: "+kind(err)]++
				r.errs.Add(1)
				waitOut(stop, err)
			}
			continue
		}
		vctx, resolve := r.context(k)
		if resolve {
			// An earlier write's answer said the item has siblings: as an
			// application would, read it and write with the read's
			// context, which resolves them, rather than let them pile up
			// to the table's maximum.
			w.resolved++
			if rtok, gerr := r.items.Get(ctx, key, r.cfg.R); gerr == nil {
				vctx = rtok
			}
		}
		var tok string
		var siblings int
		var err error
		if vctx == "" {
			var resolved bool
			tok, siblings, resolved, err = r.putBlind(ctx, key)
			if resolved {
				w.resolved++
			}
		} else {
			tok, siblings, err = r.items.Put(ctx, key, r.value, r.cfg.W, vctx)
		}
		for try := 0; try < 5 && client.IsStatus(err, http.StatusConflict); try++ {
			// Too many siblings even so (other writers added more in
			// between): read and resolve again.
			w.resolved++
			tok, siblings, err = r.rewrite(ctx, key)
		}
		d := time.Since(t0)
		switch {
		case err == nil:
			w.writeLat = append(w.writeLat, d)
			w.maxSiblings = max(w.maxSiblings, siblings)
			r.remember(k, tok, siblings)
			r.writes.Add(1)
		case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
			return
		default:
			w.writeErr++
			w.errs["write: "+kind(err)]++
			r.errs.Add(1)
			waitOut(stop, err)
		}
	}
}

// waitOut waits as long as a refusal over the tenant's request rate asks:
// asking again at once would only be refused again, thousands of times a
// second, and measure the refusals.
func waitOut(ctx context.Context, err error) {
	var e *client.Error
	if !errors.As(err, &e) || e.RetryAfter <= 0 {
		return
	}
	t := time.NewTimer(e.RetryAfter)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// kind names an error for the summary: the API's code, or the transport
// failure.
func kind(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return strconv.Itoa(e.Status) + " " + e.Code
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// Named, since a dial, a write and a read each time out in their
		// own way.
		return "timeout: " + err.Error()
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "bad response"
	}
	return "transport: " + err.Error()
}
