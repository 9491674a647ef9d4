package artifact

import (
	"sync"
	"time"

	"k8s.io/component-base/metrics"
)

// usageCacheTTL bounds how often a scrape walks the store.
const usageCacheTTL = 15 * time.Second

var (
	storeSizeDesc = metrics.NewDesc("gotk_artifact_store_size_bytes",
		"Bytes the artifact store's files take on disk.", nil, nil, metrics.ALPHA, "")
	storeArtifactsDesc = metrics.NewDesc("gotk_artifact_store_artifacts",
		"Artifacts in the store, by lowercase kind.", []string{"kind"}, nil, metrics.ALPHA, "")
	volumeSizeDesc = metrics.NewDesc("gotk_artifact_store_volume_size_bytes",
		"Size of the filesystem holding the artifact store.", nil, nil, metrics.ALPHA, "")
	volumeAvailableDesc = metrics.NewDesc("gotk_artifact_store_volume_available_bytes",
		"Bytes still available to the server on the filesystem holding the artifact store.", nil, nil, metrics.ALPHA, "")
)

// StoreCollector reports a Store's Usage as metrics; register it with the
// server's registry (legacyregistry.CustomRegister).
type StoreCollector struct {
	metrics.BaseStableCollector
	store *Store
	now   func() time.Time

	mu      sync.Mutex
	last    Usage
	lastErr error
	at      time.Time
}

var _ metrics.StableCollector = &StoreCollector{}

// NewStoreCollector returns a collector of s's usage that walks the store
// at most every 15 seconds.
func NewStoreCollector(s *Store) *StoreCollector {
	return &StoreCollector{store: s, now: time.Now}
}

// DescribeWithStability implements metrics.StableCollector.
func (c *StoreCollector) DescribeWithStability(ch chan<- *metrics.Desc) {
	ch <- storeSizeDesc
	ch <- storeArtifactsDesc
	ch <- volumeSizeDesc
	ch <- volumeAvailableDesc
}

// CollectWithStability implements metrics.StableCollector. A store that
// cannot be walked reports nothing (the scrape shows the metrics missing).
func (c *StoreCollector) CollectWithStability(ch chan<- metrics.Metric) {
	u, err := c.usage()
	if err != nil {
		return
	}
	ch <- metrics.NewLazyConstMetric(storeSizeDesc, metrics.GaugeValue, float64(u.Bytes))
	for kind, n := range u.Artifacts {
		ch <- metrics.NewLazyConstMetric(storeArtifactsDesc, metrics.GaugeValue, float64(n), kind)
	}
	if u.VolumeBytes > 0 {
		ch <- metrics.NewLazyConstMetric(volumeSizeDesc, metrics.GaugeValue, float64(u.VolumeBytes))
		ch <- metrics.NewLazyConstMetric(volumeAvailableDesc, metrics.GaugeValue, float64(u.VolumeAvailableBytes))
	}
}

func (c *StoreCollector) usage() (Usage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.at.IsZero() || now.Sub(c.at) >= usageCacheTTL {
		c.last, c.lastErr = c.store.Usage()
		c.at = now
	}
	return c.last, c.lastErr
}
