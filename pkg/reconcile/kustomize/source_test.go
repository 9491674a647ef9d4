package kustomize

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// externalPublisher serves one tar.gz (a ConfigMap "published") the way a
// third-party controller does, counting the downloads.
type externalPublisher struct {
	url, digest string
	downloads   atomic.Int64
}

func newExternalPublisher(t *testing.T) *externalPublisher {
	t.Helper()
	dir := t.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: published\ndata:\n  from: external\n"
	if err := os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte(cm), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := artifact.Archive(context.Background(), dir, &buf, artifact.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	sum := sha256.Sum256(data)
	p := &externalPublisher{digest: "sha256:" + hex.EncodeToString(sum[:])}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.downloads.Add(1)
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL + "/externalartifact/apps/published/" + hex.EncodeToString(sum[:8]) + ".tar.gz"
	return p
}

// artifact is the status.artifact the publisher would write.
func (p *externalPublisher) artifact() *common.Artifact {
	return &common.Artifact{Path: "externalartifact/apps/published/x.tar.gz", URL: p.url, Revision: "v1@" + p.digest, Digest: p.digest}
}

var externalKey = artifact.Key{Kind: kustomize.ExternalArtifactKind, Namespace: "apps", Name: "published"}

func externalKustomization() *kustomizev1.Kustomization {
	obj := ks("app")
	obj.Spec.SourceRef = common.NamespacedObjectKindReference{Kind: kustomize.ExternalArtifactKind, Name: "published"}
	return obj
}

func TestBuild_ExternalArtifactIsDownloadedOncePerDigest(t *testing.T) {
	pub := newExternalPublisher(t)
	r := &Reconciler{Options: Options{Fetcher: artifact.NewFetcher(artifact.FetcherOptions{Dir: t.TempDir(), MaxCacheSize: 1 << 20})}}
	for i := 0; i < 2; i++ {
		objs, _, err := r.build(context.Background(), externalKustomization(), externalKey, pub.artifact())
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
		if len(objs) != 1 || objs[0].GetName() != "published" {
			t.Fatalf("build %d: objects %v", i, objs)
		}
	}
	if n := pub.downloads.Load(); n != 1 {
		t.Errorf("%d downloads for two builds of one digest, want 1", n)
	}

	wrong := pub.artifact()
	wrong.Digest = "sha256:" + strings.Repeat("0", 64)
	_, _, err := r.build(context.Background(), externalKustomization(), externalKey, wrong)
	outcome, reason := loop.Classify(err, "")
	if outcome != loop.Failed || reason != kustomize.ArtifactFailedReason ||
		!strings.Contains(err.Error(), "failed to fetch the artifact of ExternalArtifact/apps/published") ||
		!strings.Contains(err.Error(), "does not match its digest: expected "+wrong.Digest) {
		t.Errorf("wrong digest: outcome %v %q, error %v", outcome, reason, err)
	}
}

// TestReconcile_ExternalArtifactFailuresKeepTheAppliedState: a download
// the network policy refuses and a digest mismatch are Ready=False
// ArtifactFailed naming the object, before anything is applied (Targets
// is nil here), with the inventory and last applied revision untouched.
func TestReconcile_ExternalArtifactFailuresKeepTheAppliedState(t *testing.T) {
	pub := newExternalPublisher(t)
	loopback, err := netguard.Parse([]string{"loopback"})
	if err != nil {
		t.Fatal(err)
	}
	wrongDigest := pub.artifact()
	wrongDigest.Digest = "sha256:" + strings.Repeat("0", 64)
	for _, tt := range []struct {
		name        string
		guard       *netguard.Guard
		artifact    *common.Artifact
		wantOutcome loop.Outcome
		wantMessage string
	}{
		{"refused by the network policy", loopback, pub.artifact(), loop.Stalled, "(the server's --source-deny-networks)"},
		{"digest mismatch", nil, wrongDigest, loop.Failed, "artifact content does not match its digest: expected " + wrongDigest.Digest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obj := externalKustomization()
			obj.Finalizers = []string{Finalizer}
			obj.Status.Inventory = inv("apps_kept__ConfigMap")
			obj.Status.LastAppliedRevision = "v0@sha256:old"
			r := &Reconciler{
				Options: Options{Guard: tt.guard, Fetcher: artifact.NewFetcher(artifact.FetcherOptions{
					Dir: t.TempDir(), Download: artifact.DownloadOptions{Transport: netguard.Transport(nil)}})},
				GetSource: func(kind, namespace, name string) (*Source, error) {
					return &Source{Artifact: tt.artifact, Ready: metav1.ConditionTrue}, nil
				},
				Events: record.NewFakeRecorder(10),
			}
			res := r.Reconcile(context.Background(), obj)
			if outcome, reason := loop.Classify(res.Err, ""); outcome != tt.wantOutcome || reason != kustomize.ArtifactFailedReason {
				t.Errorf("outcome %v %q, want %v %s", outcome, reason, tt.wantOutcome, kustomize.ArtifactFailedReason)
			}
			ready := apimeta.FindStatusCondition(obj.Status.Conditions, common.ReadyCondition)
			if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != kustomize.ArtifactFailedReason ||
				!strings.Contains(ready.Message, "ExternalArtifact/apps/published") || !strings.Contains(ready.Message, tt.wantMessage) {
				t.Errorf("Ready = %+v, want False ArtifactFailed naming the object and %q", ready, tt.wantMessage)
			}
			if got := ids(obj.Status.Inventory); len(got) != 1 || got[0] != "apps_kept__ConfigMap" || obj.Status.LastAppliedRevision != "v0@sha256:old" {
				t.Errorf("inventory %v, last applied %q: want the previous state", got, obj.Status.LastAppliedRevision)
			}
			if tt.guard != nil && pub.downloads.Load() != 0 {
				t.Errorf("the publisher got %d downloads through a refused network", pub.downloads.Load())
			}
		})
	}
}

func TestReconcile_WaitsForAnExternalArtifactThatIsNotReady(t *testing.T) {
	pub := newExternalPublisher(t)
	for _, tt := range []struct {
		name   string
		source *Source
		want   string
	}{
		{"no artifact", &Source{Ready: metav1.ConditionTrue}, "Source 'ExternalArtifact/apps/published' is not ready, artifact not found"},
		{"Ready=False", &Source{Artifact: pub.artifact(), Ready: metav1.ConditionFalse, Message: "generating"},
			"Source 'ExternalArtifact/apps/published' is not ready: generating"},
		{"no Ready condition", &Source{Artifact: pub.artifact(), Ready: metav1.ConditionUnknown},
			"Source 'ExternalArtifact/apps/published' is not ready: it has no Ready=True condition"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obj := externalKustomization()
			obj.Finalizers = []string{Finalizer}
			r := &Reconciler{
				Options:   Options{DependencyRequeue: 7 * time.Second},
				GetSource: func(kind, namespace, name string) (*Source, error) { return tt.source, nil },
				Events:    record.NewFakeRecorder(10),
			}
			res := r.Reconcile(context.Background(), obj)
			if outcome, reason := loop.Classify(res.Err, ""); outcome != loop.Waited || reason != kustomize.ArtifactFailedReason || res.Err.Error() != tt.want {
				t.Errorf("outcome %v %q error %v, want Waited %s %q", outcome, reason, res.Err, kustomize.ArtifactFailedReason, tt.want)
			}
		})
	}
	if n := pub.downloads.Load(); n != 0 {
		t.Errorf("%d downloads while not ready", n)
	}
}
