package reconcile

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// leaderMetrics say whether this replica runs the workers, and how often
// it lost the workers' Lease while running (alerts watch both).
type leaderMetrics struct {
	leader *metrics.Gauge
	lost   *metrics.Counter
}

func newLeaderMetrics() *leaderMetrics {
	m := &leaderMetrics{
		leader: metrics.NewGauge(&metrics.GaugeOpts{
			Name:           "gotk_workers_leader",
			Help:           "1 while this replica holds the workers' Lease and runs the workers, else 0.",
			StabilityLevel: metrics.ALPHA,
		}),
		lost: metrics.NewCounter(&metrics.CounterOpts{
			Name:           "gotk_workers_lease_lost_total",
			Help:           "Times this replica lost the workers' Lease while running them (they stopped until it is regained).",
			StabilityLevel: metrics.ALPHA,
		}),
	}
	legacyregistry.MustRegister(m.leader, m.lost)
	return m
}

func (m *leaderMetrics) running(on bool) {
	if m == nil {
		return
	}
	v := 0.0
	if on {
		v = 1
	}
	m.leader.Set(v)
}

func (m *leaderMetrics) lostLease() {
	if m != nil {
		m.lost.Inc()
	}
}
