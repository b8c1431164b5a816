package storagenode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/internal/clock"
	"github.com/ringtable/ringtable/ring"
	"github.com/ringtable/ringtable/storagenode/engine"
)

// Config configures a storage node.
type Config struct {
	// ID names the node on the ring and in subjects.
	ID string
	// Q is the cluster's number of ring partitions (default 256): purges
	// visit every partition's prefix.
	Q int
	// Engine configures the store; its Dir defaults to DataDir/<ID>.
	Engine engine.Config
	// PruneLimit bounds the entries of a version's past (default 50, as
	// Riak's small_vclock): the actors are storage-node incarnations, so
	// real histories stay far below it.
	PruneLimit int
	// ScanReplyBytes bounds the items of one scan reply (default 8 MiB;
	// the item that crosses it is still sent): items of hundreds of KiB
	// would otherwise make a page larger than a message may be.
	ScanReplyBytes int
	// SiblingWarn is the sibling count above which a stamped write is
	// logged and counted (default 25); tables may ask for less.
	SiblingWarn int
	// ReadWorkers serve scans and the other long reads concurrently
	// (default 4 per CPU), and gets while many of them are slow: Badger
	// reads block on I/O, and one subscription delivers in order.
	ReadWorkers int
	// SlowGet is how long a get answered on the subscription's goroutine
	// may take without counting as slow (default 250µs; see getPlacer).
	SlowGet time.Duration
	// Membership: Bootstrap lists the initial members of a new cluster
	// (each node of it must be given the same list); Seeds are nodes to
	// contact to join an existing one. A node with neither starts a
	// cluster of its own. With AutoJoin off, a new node waits for
	// `ringtable admin join`.
	Bootstrap []string
	Seeds     []string
	AutoJoin  bool
	Weight    int
	// GossipInterval is the period of gossip with one random peer (and a
	// seed) (default 1s).
	GossipInterval time.Duration
	// RemoveFromBus, when set, takes a member that has left the ring out
	// of the bus's own clustering (its embedded NATS server out of
	// JetStream's quorum); it returns nil once that is done or was. An
	// active node calls it for each departed member it knows of, retrying
	// while it fails.
	RemoveFromBus func(ctx context.Context, member string) error
	// TransferN is how many replicas of each partition a node takes over
	// when the ring changes (default 3, the default N of tables).
	TransferN int
	// TransferRate bounds partition transfers, in bytes per second
	// (default 64 MiB/s); changeable at run time.
	TransferRate float64
	// HintInterval is the period of hint delivery (default 1s); HintRate
	// bounds it in hints per second (default 1000).
	HintInterval time.Duration
	HintRate     float64
	// AAEInterval is the period of background anti-entropy (default 10m;
	// 0 turns it off, leaving on-demand repair); AAERate bounds the keys it
	// repairs per second (default 5000); TombstoneGrace is how long a
	// tombstone every replica holds is kept before it is removed (default
	// 10 days).
	AAEInterval    time.Duration
	AAERate        float64
	TombstoneGrace time.Duration
	// Feed configures the change events of the versions this node stamps.
	Feed FeedConfig
	// Clock stamps versions (Modified, dots' Stamp).
	Clock clock.Clock
	// MinFreeDisk is the free space the node keeps on its data
	// directory's file system (default 256 MiB; 0: no reserve). Below it
	// the node refuses new values (deletes are taken): Badger writes its
	// tables through memory mappings, and a full file system makes a
	// flush fault and the process die.
	MinFreeDisk int64
	// Logger and Registerer receive logs and metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// DefaultConfig returns a node configuration whose data lives under
// dataDir/id.
func DefaultConfig(id, dataDir string) Config {
	return Config{
		ID:             id,
		Q:              ring.DefaultQ,
		Engine:         engine.DefaultConfig(filepath.Join(dataDir, id), id),
		PruneLimit:     50,
		ScanReplyBytes: 8 << 20,
		SiblingWarn:    25,
		ReadWorkers:    4 * runtime.GOMAXPROCS(0),
		SlowGet:        250 * time.Microsecond,
		AutoJoin:       true,
		GossipInterval: time.Second,
		TransferN:      3,
		TransferRate:   64 << 20,
		HintInterval:   time.Second,
		HintRate:       1000,
		AAEInterval:    10 * time.Minute,
		AAERate:        5000,
		TombstoneGrace: 10 * 24 * time.Hour,
		Feed:           DefaultFeedConfig(),
		MinFreeDisk:    256 << 20,
		Clock:          clock.Real{},
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if !ring.ValidNodeID(ring.NodeID(c.ID)) {
		return fmt.Errorf("storagenode: node ID %q must be 1-64 of [A-Za-z0-9_-]", c.ID)
	}
	if c.Engine.NodeID != c.ID {
		return errors.New("storagenode: engine node ID differs from node ID")
	}
	if c.Q < 1 || c.Q > ring.MaxQ {
		return fmt.Errorf("storagenode: Q=%d out of range", c.Q)
	}
	if c.HintInterval <= 0 || c.HintRate <= 0 || c.AAEInterval < 0 || c.AAERate <= 0 || c.TombstoneGrace < 0 {
		return errors.New("storagenode: HintInterval, HintRate, AAERate must be positive")
	}
	if c.GossipInterval <= 0 || c.TransferN < 1 || c.TransferRate <= 0 || c.Weight < 0 {
		return errors.New("storagenode: GossipInterval, TransferN and TransferRate must be positive")
	}
	if c.PruneLimit < 1 || c.ReadWorkers < 1 || c.SlowGet <= 0 || c.Clock == nil || c.ScanReplyBytes < 1 {
		return errors.New("storagenode: PruneLimit, ReadWorkers, SlowGet, ScanReplyBytes and Clock must be set")
	}
	if c.MinFreeDisk < 0 {
		return fmt.Errorf("storagenode: MinFreeDisk %d must be 0 (no reserve) or positive", c.MinFreeDisk)
	}
	if err := c.Feed.validate(); err != nil {
		return err
	}
	return c.Engine.Validate()
}
