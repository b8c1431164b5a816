package gateway

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ringtable/ringtable/tenants"
)

// principal is who a request acts as: the operator (admin key) or a
// tenant.
type principal struct {
	admin  bool
	tenant *tenants.Tenant
}

// authenticate reads the bearer key of a request.
func (g *Gateway) authenticate(r *http.Request) (principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return principal{}, fmt.Errorf("%w: send Authorization: Bearer <API key>", ErrUnauthorized)
	}
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || secret == "" {
		return principal{}, fmt.Errorf("%w: the Authorization header must be \"Bearer <API key>\"", ErrUnauthorized)
	}
	d := tenants.DigestOf(secret)
	if g.cfg.AdminKey != "" && d.Matches(g.adminDigest) {
		return principal{admin: true}, nil
	}
	t, err := g.reg.authenticate(r.Context(), secret, d)
	if err != nil {
		return principal{}, err
	}
	return principal{tenant: t}, nil
}

// limiters holds one token bucket per tenant at this gateway.
type limiters struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// allow takes a token from the tenant's bucket, or says how long until one
// is available.
func (l *limiters) allow(t *tenants.Tenant, now time.Time) (bool, time.Duration) {
	q := t.Quotas
	l.mu.Lock()
	lim, ok := l.m[t.ID]
	if !ok {
		if len(l.m) > 100000 {
			clear(l.m)
		}
		lim = rate.NewLimiter(rate.Limit(q.RequestsPerSecond), q.Burst)
		l.m[t.ID] = lim
	} else if lim.Limit() != rate.Limit(q.RequestsPerSecond) || lim.Burst() != q.Burst {
		// The quota was changed.
		lim.SetLimitAt(now, rate.Limit(q.RequestsPerSecond))
		lim.SetBurstAt(now, q.Burst)
	}
	l.mu.Unlock()
	if lim.AllowN(now, 1) {
		return true, 0
	}
	res := lim.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	res.CancelAt(now)
	return false, wait
}

// wait takes a token from the tenant's bucket, waiting for one: for the
// inner steps of a long request (a table scan's partitions).
func (l *limiters) wait(ctx context.Context, t *tenants.Tenant) error {
	l.mu.Lock()
	lim, ok := l.m[t.ID]
	l.mu.Unlock()
	if !ok {
		return nil // the request itself was admitted before its limiter existed
	}
	return lim.Wait(ctx)
}

// RateLimitedError is a request over its tenant's rate.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	// Rounded up: a wait under half a millisecond read "retry after 0s".
	after := max(time.Millisecond, (e.RetryAfter + time.Millisecond - 1).Truncate(time.Millisecond))
	return fmt.Sprintf("request rate quota exceeded: retry after %v", after)
}

// retryAfterMillis is the wait in whole milliseconds, rounded up and at
// least 1.
func (e *RateLimitedError) retryAfterMillis() int64 {
	return max(1, (e.RetryAfter + time.Millisecond - 1).Milliseconds())
}

// retryAfterSeconds renders a Retry-After header value (whole seconds, at
// least 1).
func (e *RateLimitedError) retryAfterSeconds() string {
	return fmt.Sprint(max(1, int(math.Ceil(e.RetryAfter.Seconds()))))
}

// QuotaError is a request that would exceed a size quota; nothing of it is
// stored.
type QuotaError struct{ Msg string }

func (e *QuotaError) Error() string { return e.Msg }
