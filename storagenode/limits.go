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
}

func newLimits(transferRate float64) *limits {
	return &limits{transfer: rate.NewLimiter(rate.Limit(transferRate), burstFor(transferRate))}
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
	default:
		return fmt.Errorf("unknown limit %q", op)
	}
	return nil
}

// Limits are a node's current background rate limits.
type Limits struct {
	TransferBytesPerSec float64 `json:"transfer_bytes_per_sec"`
}

func (l *limits) current() Limits {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Limits{TransferBytesPerSec: float64(l.transfer.Limit())}
}
