package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	reg            prometheus.Registerer
	cs             []prometheus.Collector
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	quorumFail     *prometheus.CounterVec
	readRepairs    prometheus.Counter
	lateReplies    prometheus.Counter
	slowReads      prometheus.Counter
	speculateDelay prometheus.Gauge
	siblings       prometheus.Histogram
	handoffs       prometheus.Counter
}

// newMetrics registers the gateway's metrics; rounds tells how many
// rounds are open, feeds how many change feed streams.
func newMetrics(reg prometheus.Registerer, rounds, feeds func() int) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringtable_gateway_requests_total", Help: "HTTP requests by operation and status.",
		}, []string{"op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ringtable_gateway_request_duration_seconds", Help: "HTTP request latency by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16),
		}, []string{"op"}),
		quorumFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringtable_gateway_quorum_failures_total", Help: "Rounds that did not reach their quorum.",
		}, []string{"op"}),
		readRepairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringtable_gateway_read_repairs_total", Help: "Read-repair messages sent to stale replicas.",
		}),
		slowReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringtable_gateway_slow_reads_total",
			Help: "Gets that asked their spare replicas after the speculation delay, short of R answers.",
		}),
		speculateDelay: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ringtable_gateway_speculation_delay_seconds",
			Help: "How long a get that asked R replicas now waits for them before it asks the others too.",
		}),
		lateReplies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringtable_gateway_late_replies_total",
			Help: "Replies that came after their round had ended, to a later round on the same reply subject (dropped).",
		}),
		siblings: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ringtable_gateway_siblings_seen", Help: "Versions of an item returned by a read.",
			Buckets: []float64{1, 2, 3, 5, 10, 25, 50, 100},
		}),
		handoffs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringtable_gateway_http_handoffs_total",
			Help: "Connections the fast path handed to net/http, at their first request other than an item's read or write.",
		}),
	}
	open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ringtable_gateway_rounds_open",
		Help: "Replica rounds open, those whose client has its answer and that still wait for replicas included.",
	}, func() float64 { return float64(rounds()) })
	streams := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ringtable_gateway_feed_streams_open",
		Help: "Change feed streams (SSE) open at this gateway, of all tenants.",
	}, func() float64 { return float64(feeds()) })
	m.cs = []prometheus.Collector{m.requests, m.latency, m.quorumFail, m.readRepairs, m.lateReplies, m.slowReads, m.speculateDelay, m.siblings, m.handoffs, open, streams}
	if reg != nil {
		for _, c := range m.cs {
			_ = reg.Register(c)
		}
	}
	return m
}

func (m *metrics) observe(op string, status int, d time.Duration) {
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(op).Observe(d.Seconds())
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.cs {
		m.reg.Unregister(c)
	}
}
