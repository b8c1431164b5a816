package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/internal/clock"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/tenants"
)

// Config configures a gateway.
type Config struct {
	// Q is the number of ring partitions; it must match the cluster's.
	Q int
	// StartTimeout bounds how long New waits for a storage node to tell
	// it the member list (default 30s).
	StartTimeout time.Duration
	// N, R and W are the defaults for new tables (3/2/2: R+W>N).
	N, R, W int
	// RoundTimeout is how long one replica round may take before the
	// coordinator moves on (default 1s).
	RoundTimeout time.Duration
	// SpeculateAfter is the longest a get that asked only R replicas
	// waits for them before it asks the others too (default 25ms, well
	// above a loaded read's p99 on one machine): a paused or busy replica
	// then costs at most that much, not a round timeout.
	SpeculateAfter time.Duration
	// SpeculateQuantile makes a get wait less when recent answers were
	// faster: the delay follows this quantile of the times the replicas
	// asked first took to answer over the last two seconds, within
	// speculateFloor and SpeculateAfter (default 0.99; 0: always
	// SpeculateAfter).
	SpeculateQuantile float64
	// ReadRepairEvery makes one get in that many ask every replica, so
	// that read repair reaches the replicas the others leave out (default
	// 10; 1: every get asks every replica). Anti-entropy repairs the rest.
	ReadRepairEvery int
	// SiblingWarn and MaxSiblings are the defaults for new tables (25 and
	// 100): above the first a write is logged and counted, above the second
	// a write that would add a sibling is refused.
	SiblingWarn, MaxSiblings int
	// CatalogTTL bounds how long a cached table definition is trusted
	// without a change notice (default 30s), in case a notice was missed.
	CatalogTTL time.Duration
	// AdminKey authorises the admin API; empty disables it.
	AdminKey string
	// Quotas are the defaults of new tenants.
	Quotas tenants.Quotas
	// KeyTTL bounds how long a cached API key or tenant is trusted without
	// a change notice (default 2s): the bound on revocation delay when a
	// notice is lost.
	KeyTTL time.Duration
	// UsageInterval is how often stored bytes per tenant are collected
	// from the nodes (default 5s).
	UsageInterval time.Duration
	// PurgeGrace delays reclaiming a deleted tenant's or table's items
	// (default 30s), so writes in flight when it was deleted land first;
	// PurgeInterval is how often pending purges are retried (default 30s).
	PurgeGrace, PurgeInterval time.Duration
	// FeedKeepAlive is how often an idle change feed stream sends a
	// comment (default 15s), so proxies and clients know it is alive, and
	// checks that its table was not dropped.
	FeedKeepAlive time.Duration
	// MaxFeedsPerTenant bounds the change feed streams one tenant keeps
	// open at this gateway (default 64): each holds a reader of the
	// stream, and a tenant's streams are not paced by its request rate.
	MaxFeedsPerTenant int
	// ScanPageTime bounds the time a page of a table scan takes (default
	// 5s): a page ends early, with a cursor, rather than outlast a client's
	// or a proxy's timeout on a sparse table or a slow request rate.
	ScanPageTime time.Duration
	// ShutdownGrace is how long a shutdown waits for requests in flight
	// (default 5s) before it closes the connections still open.
	ShutdownGrace time.Duration
	Clock         clock.Clock
	Logger        *slog.Logger
	// Registerer receives the gateway's metrics; Gatherer serves /metrics.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Q:                 ring.DefaultQ,
		StartTimeout:      30 * time.Second,
		N:                 3,
		R:                 2,
		W:                 2,
		RoundTimeout:      time.Second,
		SpeculateAfter:    25 * time.Millisecond,
		SpeculateQuantile: 0.99,
		ReadRepairEvery:   10,
		SiblingWarn:       25,
		MaxSiblings:       100,
		CatalogTTL:        30 * time.Second,
		Quotas:            tenants.DefaultQuotas(),
		KeyTTL:            2 * time.Second,
		UsageInterval:     5 * time.Second,
		PurgeGrace:        30 * time.Second,
		PurgeInterval:     30 * time.Second,
		ShutdownGrace:     5 * time.Second,
		ScanPageTime:      5 * time.Second,
		FeedKeepAlive:     15 * time.Second,
		MaxFeedsPerTenant: 64,
		Clock:             clock.Real{},
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Q < 1 || c.Q > ring.MaxQ || c.StartTimeout <= 0 {
		return errors.New("gateway: Q and StartTimeout must be set")
	}
	if c.N < 1 || c.R < 1 || c.W < 1 || c.R > c.N || c.W > c.N {
		return fmt.Errorf("gateway: defaults n=%d r=%d w=%d: need 1 ≤ r,w ≤ n", c.N, c.R, c.W)
	}
	if c.RoundTimeout <= 0 || c.CatalogTTL <= 0 {
		return errors.New("gateway: RoundTimeout and CatalogTTL must be positive")
	}
	if c.SpeculateAfter <= 0 || c.ReadRepairEvery < 1 {
		return errors.New("gateway: SpeculateAfter and ReadRepairEvery must be positive")
	}
	if !(c.SpeculateQuantile >= 0 && c.SpeculateQuantile < 1) {
		return fmt.Errorf("gateway: SpeculateQuantile %v: need 0 (a fixed delay) or a quantile below 1, such as 0.99", c.SpeculateQuantile)
	}
	if c.MaxSiblings < 1 || c.SiblingWarn < 1 {
		return errors.New("gateway: sibling limits must be positive")
	}
	if c.Clock == nil {
		return errors.New("gateway: Clock must be set")
	}
	if c.ShutdownGrace < 0 {
		return errors.New("gateway: ShutdownGrace must not be negative")
	}
	if c.KeyTTL <= 0 || c.UsageInterval <= 0 || c.PurgeGrace < 0 || c.PurgeInterval <= 0 || c.ScanPageTime <= 0 || c.FeedKeepAlive <= 0 || c.MaxFeedsPerTenant <= 0 {
		return errors.New("gateway: KeyTTL, UsageInterval, PurgeInterval, ScanPageTime, FeedKeepAlive and MaxFeedsPerTenant must be positive")
	}
	if err := c.Quotas.Validate(); err != nil {
		return fmt.Errorf("gateway: default quotas: %w", err)
	}
	return nil
}
