package artifact

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/testutil"
)

func TestStore_UsageCountsArtifactsAndBytes(t *testing.T) {
	s := newTestStore(t, StoreOptions{Keep: 5})
	a1 := put(t, s, testKey, 1)
	a2 := put(t, s, testKey, 2)
	b := put(t, s, Key{Kind: "Bucket", Namespace: "ns", Name: "b"}, 1)

	u, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if want := a1.Size + a2.Size + b.Size; u.Bytes != want {
		t.Errorf("Bytes = %d, want %d", u.Bytes, want)
	}
	if u.Artifacts["gitrepository"] != 2 || u.Artifacts["bucket"] != 1 || len(u.Artifacts) != 2 {
		t.Errorf("Artifacts = %v, want gitrepository: 2, bucket: 1", u.Artifacts)
	}
	if u.VolumeBytes <= 0 || u.VolumeAvailableBytes <= 0 || u.VolumeAvailableBytes > u.VolumeBytes {
		t.Errorf("volume %d bytes, %d available", u.VolumeBytes, u.VolumeAvailableBytes)
	}
}

func TestStoreCollector_ReportsUsageAndWalksAtMostEvery15s(t *testing.T) {
	s := newTestStore(t, StoreOptions{})
	a := put(t, s, testKey, 1)
	c := NewStoreCollector(s)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	reg := metrics.NewKubeRegistry()
	reg.CustomMustRegister(c)

	want := func(bytes int64, artifacts int) string {
		return `# HELP gotk_artifact_store_artifacts [ALPHA] Artifacts in the store, by lowercase kind.
# TYPE gotk_artifact_store_artifacts gauge
gotk_artifact_store_artifacts{kind="gitrepository"} ` + strconv.Itoa(artifacts) + `
# HELP gotk_artifact_store_size_bytes [ALPHA] Bytes the artifact store's files take on disk.
# TYPE gotk_artifact_store_size_bytes gauge
gotk_artifact_store_size_bytes ` + strconv.FormatInt(bytes, 10) + `
`
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(a.Size, 1)), "gotk_artifact_store_size_bytes", "gotk_artifact_store_artifacts"); err != nil {
		t.Error(err)
	}
	// A new artifact shows once the cached walk is 15s old, not before.
	b := put(t, s, testKey, 2)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(a.Size, 1)), "gotk_artifact_store_size_bytes", "gotk_artifact_store_artifacts"); err != nil {
		t.Errorf("within 15s: %v", err)
	}
	now = now.Add(15 * time.Second)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(a.Size+b.Size, 2)), "gotk_artifact_store_size_bytes", "gotk_artifact_store_artifacts"); err != nil {
		t.Errorf("after 15s: %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	volume := 0
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "gotk_artifact_store_volume_") && len(f.GetMetric()) == 1 && f.GetMetric()[0].GetGauge().GetValue() > 0 {
			volume++
		}
	}
	if volume != 2 {
		t.Errorf("%d volume metrics with a value, want 2", volume)
	}
}
