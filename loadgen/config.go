package loadgen

import (
	"errors"
	"fmt"
	"time"
)

// Config describes one load run.
type Config struct {
	Table       string        // created if missing
	Concurrency int           // concurrent clients
	Keys        int           // size of the key space
	ValueSize   int           // bytes of JSON per item
	ReadRatio   float64       // fraction of operations that are reads
	Duration    time.Duration // how long to measure
	Zipf        bool          // zipfian key choice (s=1.1) instead of uniform
	Preload     bool          // write every key once before measuring
	R, W        int           // per-request quorums; 0: the table's
	Seed        int64
}

// DefaultConfig mirrors the figures in the README: 64 clients, 1 KiB
// values, 50/50 reads and updates.
func DefaultConfig() Config {
	return Config{Table: "bench", Concurrency: 64, Keys: 100000, ValueSize: 1024, ReadRatio: 0.5, Duration: 30 * time.Second, Seed: 1}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Concurrency < 1 || c.Concurrency > 10000:
		return fmt.Errorf("loadgen: concurrency %d: must be 1-10000", c.Concurrency)
	case c.Keys < 1:
		return errors.New("loadgen: keys must be at least 1")
	case c.ValueSize < 16 || c.ValueSize > 400<<10:
		return fmt.Errorf("loadgen: value size %d: must be 16 bytes to 400 KiB", c.ValueSize)
	case c.ReadRatio < 0 || c.ReadRatio > 1:
		return fmt.Errorf("loadgen: read ratio %g: must be between 0 and 1", c.ReadRatio)
	case c.Duration <= 0:
		return errors.New("loadgen: duration must be positive")
	case c.Table == "":
		return errors.New("loadgen: no table")
	}
	return nil
}
