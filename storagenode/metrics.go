package storagenode

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringtable/ringtable/storagenode/engine"
)

type metrics struct {
	reg            prometheus.Registerer
	cs             []prometheus.Collector
	requests       *prometheus.CounterVec
	siblings       prometheus.Histogram
	siblingWarn    prometheus.Counter
	siblingRefused prometheus.Counter
	hintsDelivered prometheus.Counter
	slowGets       prometheus.Counter
	deferredGets   prometheus.Counter
}

// add registers a collector owned by another part of the node.
func (m *metrics) add(c prometheus.Collector) {
	m.cs = append(m.cs, c)
	if m.reg != nil {
		_ = m.reg.Register(c)
	}
}

func newMetrics(reg prometheus.Registerer, node string, eng *engine.Engine) *metrics {
	labels := prometheus.Labels{"node": node}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringtable_node_requests_total", Help: "Replica requests served, by operation and result code.", ConstLabels: labels,
		}, []string{"op", "code"}),
		siblings: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ringtable_node_siblings", Help: "Siblings of an item after a stamped write.", ConstLabels: labels,
			Buckets: []float64{1, 2, 3, 5, 10, 25, 50, 100},
		}),
		siblingWarn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringtable_node_sibling_warnings_total", Help: "Stamped writes that left an item above the sibling warning threshold.", ConstLabels: labels,
		}),
		siblingRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringtable_node_sibling_limit_refusals_total", Help: "Writes refused because the item would exceed its table's sibling maximum.", ConstLabels: labels,
		}),
	}
	m.hintsDelivered = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringtable_node_hints_delivered_total", Help: "Hinted keys delivered to their owner and forgotten.", ConstLabels: labels,
	})
	m.slowGets = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringtable_node_slow_inline_gets_total", Help: "Gets answered on the subscription's goroutine that took longer than the node's SlowGet.", ConstLabels: labels,
	})
	m.deferredGets = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringtable_node_deferred_gets_total", Help: "Gets handed to the read workers because too many inline gets were slow.", ConstLabels: labels,
	})
	st := eng.Stats()
	m.cs = []prometheus.Collector{m.requests, m.siblings, m.siblingWarn, m.siblingRefused, m.hintsDelivered, m.slowGets, m.deferredGets,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ringtable_node_commit_batches_total", Help: "Group commits (one sync each).", ConstLabels: labels,
		}, func() float64 { return float64(st.Batches.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ringtable_node_commit_seconds_total", Help: "Time spent committing batches to Badger.", ConstLabels: labels,
		}, func() float64 { return float64(st.CommitNanos.Load()) / 1e9 }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ringtable_node_syncs_total", Help: "Syncs that made committed batches durable.", ConstLabels: labels,
		}, func() float64 { return float64(st.Syncs.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ringtable_node_sync_seconds_total", Help: "Time spent syncing.", ConstLabels: labels,
		}, func() float64 { return float64(st.SyncNanos.Load()) / 1e9 }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ringtable_node_committed_updates_total", Help: "Updates made durable.", ConstLabels: labels,
		}, func() float64 { return float64(st.Updates.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ringtable_node_set_cache_hits_total", Help: "Reads of stored sets answered by the node's cache of recent sets.", ConstLabels: labels,
		}, func() float64 { return float64(st.CacheHits.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ringtable_node_set_cache_misses_total", Help: "Reads of stored sets that went to Badger.", ConstLabels: labels,
		}, func() float64 { return float64(st.CacheMisses.Load()) }),
	}
	if reg != nil {
		for _, c := range m.cs {
			if err := reg.Register(c); err != nil {
				// Already registered (a restarted node in one process): the
				// old collectors keep reporting; do not fail the node.
				continue
			}
		}
	}
	return m
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.cs {
		m.reg.Unregister(c)
	}
}
