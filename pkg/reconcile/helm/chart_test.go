package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// TestLoadChart_FromAnExternalArtifact: a chart that another server
// publishes through an ExternalArtifact is downloaded once per digest and
// loaded; a wrong digest fails the run, and an ExternalArtifact that is
// not Ready is waited for without a download.
func TestLoadChart_FromAnExternalArtifact(t *testing.T) {
	chart := chartOf(t, map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"})
	var downloads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downloads.Add(1)
		_, _ = w.Write(chart)
	}))
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(chart)
	src := &Source{Ready: string(metav1.ConditionTrue), Artifact: &common.Artifact{
		Path: "chart.tgz", URL: srv.URL + "/chart.tgz", Revision: "1.0.0", Digest: "sha256:" + hex.EncodeToString(sum[:])}}
	r := &Reconciler{
		Options: Options{Fetcher: artifact.NewFetcher(artifact.FetcherOptions{Dir: t.TempDir(), MaxCacheSize: 1 << 20})},
		GetSource: func(kind, namespace, name string) (*Source, error) {
			if kind != helm.ExternalArtifactKind || namespace != "apps" || name != "chart" {
				return nil, notFound(kind, name)
			}
			return src, nil
		},
	}
	obj := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec:       helmv2.HelmReleaseSpec{ChartRef: &common.NamespacedObjectKindReference{Kind: helm.ExternalArtifactKind, Name: "chart"}},
	}

	for i := 0; i < 2; i++ {
		ch, _, err := r.loadChart(context.Background(), obj)
		if err != nil {
			t.Fatalf("loadChart: %v", err)
		}
		if chartDescription(ch) != "app@1.0.0" {
			t.Fatalf("loaded %s", chartDescription(ch))
		}
	}
	if n := downloads.Load(); n != 1 {
		t.Errorf("%d downloads for two loads of one digest, want 1", n)
	}

	src.Artifact.Digest = "sha256:" + strings.Repeat("0", 64)
	_, _, err := r.loadChart(context.Background(), obj)
	if outcome, reason := loop.Classify(err, ""); outcome != loop.Failed || reason != helm.ArtifactFailedReason ||
		!strings.Contains(err.Error(), "failed to fetch the chart of ExternalArtifact/apps/chart") || !strings.Contains(err.Error(), "does not match its digest") {
		t.Errorf("wrong digest: %v %q %v", outcome, reason, err)
	}

	src.Ready, src.Message = string(metav1.ConditionFalse), "building"
	before := downloads.Load()
	_, _, err = r.loadChart(context.Background(), obj)
	if outcome, _ := loop.Classify(err, ""); outcome != loop.Waited || err.Error() != "ExternalArtifact/apps/chart is not ready: building" {
		t.Errorf("not ready: %v %v", outcome, err)
	}
	if downloads.Load() != before {
		t.Error("downloaded while not ready")
	}
}
