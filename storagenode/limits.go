package storagenode

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/time/rate"
)

// limits bound the background work of a node (transfers now; hint
// delivery and anti-entropy use the same mechanism) and can be changed
// while it runs, by `ringtable admin limits`.
type limits struct {
	mu       sync.Mutex
	transfer *rate.Limiter // bytes per second
	hints    *rate.Limiter // hints delivered per second
	aae      *rate.Limiter // keys repaired by anti-entropy per second
}

func newLimits(transferRate, hintRate, aaeRate float64) *limits {
	return &limits{
		transfer: rate.NewLimiter(rate.Limit(transferRate), burstFor(transferRate)),
		hints:    rate.NewLimiter(rate.Limit(hintRate), max(1, int(hintRate/10))),
		aae:      rate.NewLimiter(rate.Limit(aaeRate), max(1, int(aaeRate/10))),
	}
}

func (l *limits) waitHint(ctx context.Context) error {
	l.mu.Lock()
	lim := l.hints
	l.mu.Unlock()
	return lim.Wait(ctx)
}

// waitAAE waits until n keys may be repaired.
func (l *limits) waitAAE(ctx context.Context, n int) error {
	l.mu.Lock()
	lim := l.aae
	l.mu.Unlock()
	for n > 0 {
		k := min(n, lim.Burst())
		if err := lim.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// burstFor lets one page of up to 4 MiB through at any rate.
func burstFor(r float64) int { return max(int(r), 8<<20) }

func (l *limits) waitTransfer(ctx context.Context, n int64) error {
	l.mu.Lock()
	lim := l.transfer
	l.mu.Unlock()
	return lim.WaitN(ctx, int(min(n, int64(lim.Burst()))))
}

// set changes one limit.
func (l *limits) set(op string, v float64) error {
	if v <= 0 {
		return fmt.Errorf("limit %s=%g: must be positive", op, v)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch op {
	case "limit-transfer":
		l.transfer.SetLimit(rate.Limit(v))
		l.transfer.SetBurst(burstFor(v))
	case "limit-hints":
		l.hints.SetLimit(rate.Limit(v))
		l.hints.SetBurst(max(1, int(v/10)))
	case "limit-aae":
		l.aae.SetLimit(rate.Limit(v))
		l.aae.SetBurst(max(1, int(v/10)))
	default:
		return fmt.Errorf("unknown limit %q", op)
	}
	return nil
}

// Limits are a node's current background rate limits.
type Limits struct {
	TransferBytesPerSec float64 `json:"transfer_bytes_per_sec"`
	HintsPerSec         float64 `json:"hints_per_sec"`
	AAEKeysPerSec       float64 `json:"aae_keys_per_sec"`
}

func (l *limits) current() Limits {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Limits{TransferBytesPerSec: float64(l.transfer.Limit()), HintsPerSec: float64(l.hints.Limit()), AAEKeysPerSec: float64(l.aae.Limit())}
}
