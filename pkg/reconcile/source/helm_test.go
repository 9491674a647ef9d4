package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

func testChart(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	content := "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n"
	if err := tw.WriteHeader(&tar.Header{Name: name + "/Chart.yaml", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(content))
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func newHelmEnv(t *testing.T) (*Env, *record.FakeRecorder) {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events := record.NewFakeRecorder(100)
	return &Env{
		Secret: func(_ context.Context, ns, name string) (*corev1.Secret, error) {
			if name != "auth" {
				return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
			}
			return &corev1.Secret{Data: map[string][]byte{"username": []byte("u"), "password": []byte("p")}}, nil
		},
		Store: store, Events: events, TmpDir: t.TempDir(),
	}, events
}

func TestHelmReconcilers_IndexThenChart(t *testing.T) {
	versions := []string{"1.0.0", "2.0.0"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/index.yaml" {
			fmt.Fprint(w, "apiVersion: v1\nentries:\n  app:\n")
			for _, v := range versions {
				fmt.Fprintf(w, "  - version: %s\n    urls: [app-%s.tgz]\n", v, v)
			}
			return
		}
		v := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/app-"), ".tgz")
		w.Write(testChart(t, "app", v))
	}))
	defer srv.Close()
	env, _ := newHelmEnv(t)
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "repo", Generation: 1},
		Spec:       sourcev1.HelmRepositorySpec{URL: srv.URL, Interval: "1m", SecretRef: &common.LocalObjectReference{Name: "auth"}},
	}
	chart := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", Generation: 1},
		Spec: sourcev1.HelmChartSpec{Chart: "app", Version: ">=1.0.0 <2.0.0", Interval: "1m",
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: source.HelmRepositoryKind, Name: "repo"}},
	}
	var current *sourcev1.HelmRepository
	cr := &HelmChartReconciler{Env: env, GetHelmRepository: func(ns, name string) (*sourcev1.HelmRepository, error) {
		if current == nil {
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "helmrepositories"}, name)
		}
		return current, nil
	}}
	rr := &HelmRepositoryReconciler{Env: env}
	ctx := context.Background()

	if res := cr.Reconcile(ctx, chart); outcome(res.Err) != loop.Waited {
		t.Errorf("no HelmRepository: %v, want waiting", res.Err)
	}
	if res := rr.Reconcile(ctx, repo); res.Err != nil {
		t.Fatal(res.Err)
	}
	first := repo.Status.Artifact
	if first == nil || !strings.HasPrefix(first.Revision, "sha256:") {
		t.Fatalf("HelmRepository artifact %+v", first)
	}
	if res := rr.Reconcile(ctx, repo); res.Err != nil || repo.Status.Artifact.LastUpdateTime != first.LastUpdateTime {
		t.Errorf("an unchanged index was stored again (%v)", res.Err)
	}
	current = repo
	if res := cr.Reconcile(ctx, chart); res.Err != nil {
		t.Fatal(res.Err)
	}
	if a := chart.Status.Artifact; a == nil || a.Revision != "1.0.0" || chart.Status.ObservedSourceArtifactRevision != first.Revision ||
		!apimeta.IsStatusConditionTrue(chart.Status.Conditions, common.ReadyCondition) {
		t.Fatalf("HelmChart status %+v", chart.Status)
	}

	versions = append(versions, "1.1.0")
	rr.Reconcile(ctx, repo)
	if res := cr.Reconcile(ctx, chart); res.Err != nil || chart.Status.Artifact.Revision != "1.1.0" {
		t.Errorf("after 1.1.0: %v, revision %s", res.Err, chart.Status.Artifact.Revision)
	}

	chart.Spec.Version = ">=3.0.0"
	chart.Generation = 2
	if res := cr.Reconcile(ctx, chart); outcome(res.Err) != loop.Failed || !strings.Contains(res.Err.Error(), "no 'app' chart with version matching '>=3.0.0'") ||
		chart.Status.Artifact.Revision != "1.1.0" {
		t.Errorf("no matching version: %v, artifact %+v", res.Err, chart.Status.Artifact)
	}

	chart.Spec.SourceRef.Kind = source.GitRepositoryKind
	cr.GetGitRepository = func(ns, name string) (*sourcev1.GitRepository, error) {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "gitrepositories"}, name)
	}
	if res := cr.Reconcile(ctx, chart); outcome(res.Err) != loop.Waited || !strings.Contains(res.Err.Error(), "GitRepository '") {
		t.Errorf("missing GitRepository source: %v, want waiting", res.Err)
	}

	// type oci: a static object, as in Flux; the former artifact goes.
	repo.Spec.Type = source.HelmRepositoryTypeOCI
	path := repo.Status.Artifact.Path
	if res := rr.Reconcile(ctx, repo); res.Err != nil || res.RequeueAfter != 0 || repo.Status.Artifact != nil || len(repo.Status.Conditions) != 0 || env.Store.Exists(path) {
		t.Errorf("type oci: %+v, status %+v", res, repo.Status)
	}
}

func outcome(err error) loop.Outcome {
	o, _ := loop.Classify(err, "")
	return o
}
