package source

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
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
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm/helmtest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// helmSecrets are the Secrets of namespace "ns" the test Env serves.
type helmSecrets map[string]map[string][]byte

func newHelmEnv(t *testing.T, secrets helmSecrets) (*Env, *record.FakeRecorder) {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events := record.NewFakeRecorder(100)
	return &Env{
		Secret: func(_ context.Context, ns, name string) (*corev1.Secret, error) {
			data, ok := secrets[name]
			if !ok || ns != "ns" {
				return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
			}
			return &corev1.Secret{Data: data}, nil
		},
		Store: store, Events: events, TmpDir: t.TempDir(), MaxFetchSize: 1 << 20,
	}, events
}

func basicAuth(user, pass string) map[string][]byte {
	return map[string][]byte{"username": []byte(user), "password": []byte(pass)}
}

func dockerConfig(host, user, pass string) map[string][]byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth)}
}

// loadArtifact reads a HelmChart's artifact with the SDK's loader, as the
// HelmRelease worker does.
func loadArtifact(t *testing.T, env *Env, obj *sourcev1.HelmChart) map[string]string {
	t.Helper()
	rc, _, err := env.Store.OpenFor(artifact.Key{Kind: source.HelmChartKind, Namespace: obj.Namespace, Name: obj.Name}, obj.Status.Artifact.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ch, err := loader.LoadArchive(rc)
	if err != nil {
		t.Fatalf("the SDK cannot load the artifact: %v", err)
	}
	files := map[string]string{"Chart.yaml/version": ch.Metadata.Version}
	for _, f := range ch.Raw {
		files[f.Name] = string(f.Data)
	}
	for _, d := range ch.Dependencies() {
		files["charts/"+d.Name()] = d.Metadata.Version
	}
	return files
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
				fmt.Fprintf(w, "  - name: app\n    version: %s\n    urls: [app-%s.tgz]\n", v, v)
			}
			return
		}
		v := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/app-"), ".tgz")
		w.Write(helmtest.SimpleChart(t, "app", v))
	}))
	defer srv.Close()
	env, _ := newHelmEnv(t, helmSecrets{"auth": basicAuth("u", "p")})
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
	if files := loadArtifact(t, env, chart); files["Chart.yaml/version"] != "1.0.0" {
		t.Errorf("artifact %v", files)
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

func TestHelmChart_FromOCIHelmRepository(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "oci-user", Password: "oci-pw"})
	push := helmtest.PushOptions{Username: "oci-user", Password: "oci-pw"}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		helmtest.Push(t, reg.Host, "charts", helmtest.Chart(t, map[string]string{
			"Chart.yaml":       "apiVersion: v2\nname: app\nversion: " + v + "\n",
			"values.yaml":      "image:\n  tag: dev\n",
			"values-prod.yaml": "image:\n  tag: prod\n",
		}), push)
	}
	env, _ := newHelmEnv(t, helmSecrets{
		"pull":  dockerConfig(reg.Host, "oci-user", "oci-pw"),
		"basic": basicAuth("oci-user", "oci-pw"),
		"wrong": dockerConfig(reg.Host, "oci-user", "nope"),
	})
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "oci", Generation: 1},
		Spec: sourcev1.HelmRepositorySpec{URL: reg.URL("charts"), Type: source.HelmRepositoryTypeOCI, Insecure: true, Interval: "1m",
			SecretRef: &common.LocalObjectReference{Name: "pull"}},
	}
	ctx := context.Background()
	if res := (&HelmRepositoryReconciler{Env: env}).Reconcile(ctx, repo); res.Err != nil || repo.Status.Artifact != nil || len(repo.Status.Conditions) != 0 {
		t.Fatalf("an oci HelmRepository is static: %+v %+v", res, repo.Status)
	}
	chart := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", Generation: 1},
		Spec: sourcev1.HelmChartSpec{Chart: "app", Version: ">=1.0.0 <2.0.0", Interval: "1m",
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: source.HelmRepositoryKind, Name: "oci"}},
	}
	cr := &HelmChartReconciler{Env: env, GetHelmRepository: func(string, string) (*sourcev1.HelmRepository, error) { return repo, nil }}
	if res := cr.Reconcile(ctx, chart); res.Err != nil {
		t.Fatal(res.Err)
	}
	ready := apimeta.FindStatusCondition(chart.Status.Conditions, common.ReadyCondition)
	if a := chart.Status.Artifact; a == nil || a.Revision != "1.1.0" || ready == nil || ready.Reason != source.ChartPullSucceededReason ||
		ready.Message != "pulled 'app' chart with version '1.1.0'" || chart.Status.ObservedChartName != "app" {
		t.Fatalf("HelmChart status %+v", chart.Status)
	}
	if files := loadArtifact(t, env, chart); files["Chart.yaml/version"] != "1.1.0" {
		t.Errorf("artifact %v", files)
	}
	stored := chart.Status.Artifact.LastUpdateTime
	if res := cr.Reconcile(ctx, chart); res.Err != nil || chart.Status.Artifact.LastUpdateTime != stored {
		t.Errorf("an unchanged version was pulled again (%v)", res.Err)
	}

	t.Run("values files, username and password", func(t *testing.T) {
		repo.Spec.SecretRef.Name = "basic"
		defer func() { repo.Spec.SecretRef.Name = "pull" }()
		chart.Spec.ValuesFiles = []string{"values.yaml", "values-prod.yaml"}
		chart.Spec.Version = "1.0.0"
		chart.Generation++
		if res := cr.Reconcile(ctx, chart); res.Err != nil {
			t.Fatal(res.Err)
		}
		files := loadArtifact(t, env, chart)
		if files["Chart.yaml/version"] != "1.0.0" || files["values.yaml"] != "image:\n  tag: prod\n" || chart.Status.Artifact.Revision != "1.0.0" {
			t.Errorf("artifact %v, status %+v", files, chart.Status.Artifact)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		repo.Spec.SecretRef.Name = "wrong"
		defer func() { repo.Spec.SecretRef.Name = "pull" }()
		chart.Spec.Version = "*"
		chart.Generation++
		res := cr.Reconcile(ctx, chart)
		if o, reason := loop.Classify(res.Err, ""); o != loop.Failed || reason != source.AuthenticationFailedReason || strings.Contains(res.Err.Error(), "nope") {
			t.Errorf("wrong password: %v (%s)", res.Err, reason)
		}
		if chart.Status.Artifact.Revision != "1.0.0" {
			t.Errorf("the last artifact did not stay: %+v", chart.Status.Artifact)
		}
	})
	t.Run("unsupported provider", func(t *testing.T) {
		repo.Spec.Provider = "aws"
		defer func() { repo.Spec.Provider = "" }()
		chart.Generation++
		if res := cr.Reconcile(ctx, chart); outcome(res.Err) != loop.Stalled || !strings.Contains(res.Err.Error(), "spec.provider 'aws'") {
			t.Errorf("provider aws: %v", res.Err)
		}
	})
}

// gitArtifact stores files as the artifact of GitRepository ns/name.
func gitArtifact(t *testing.T, env *Env, name, revision string, files map[string]string) *sourcev1.GitRepository {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := env.Store.Put(context.Background(), artifact.Key{Kind: source.GitRepositoryKind, Namespace: "ns", Name: name}, dir, artifact.ArchiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Status: sourcev1.GitRepositoryStatus{Artifact: &common.Artifact{Path: stored.Path, Revision: revision}}}
}

func TestHelmChart_FromGitRepositoryBuildsDependenciesWithHelmRepositoryCredentials(t *testing.T) {
	private := helmtest.NewRepository(t, helmtest.Options{Username: "dep-user", Password: "dep-pw"})
	private.Publish(t, helmtest.SimpleChart(t, "redis", "1.2.0"))
	env, _ := newHelmEnv(t, helmSecrets{"dep-auth": basicAuth("dep-user", "dep-pw")})
	git := gitArtifact(t, env, "charts", "main@sha1:0123456789abcdef0123456789abcdef01234567", map[string]string{
		"charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n" +
			"- name: redis\n  version: ^1.0.0\n  repository: " + private.URL + "/\n" +
			"- name: common\n  version: 0.1.0\n  repository: file://../common\n",
		"charts/app/.helmignore":         "*.md\n",
		"charts/app/README.md":           "not packaged\n",
		"charts/app/templates/cm.yaml":   "kind: ConfigMap\n",
		"charts/common/Chart.yaml":       "apiVersion: v2\nname: common\nversion: 0.1.0\n",
		"charts/common/templates/_x.tpl": "{{/* x */}}\n",
	})
	helmRepos := map[string][]*sourcev1.HelmRepository{
		"ns": {{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "private"},
			Spec: sourcev1.HelmRepositorySpec{URL: private.URL, SecretRef: &common.LocalObjectReference{Name: "dep-auth"}}}},
	}
	chart := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", Generation: 1},
		Spec: sourcev1.HelmChartSpec{Chart: "./charts/app", Interval: "1m", ReconcileStrategy: source.ReconcileStrategyRevision,
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: source.GitRepositoryKind, Name: "charts"}},
	}
	cr := &HelmChartReconciler{Env: env,
		GetGitRepository:     func(string, string) (*sourcev1.GitRepository, error) { return git, nil },
		ListHelmRepositories: func(ns string) ([]*sourcev1.HelmRepository, error) { return helmRepos[ns], nil },
	}
	ctx := context.Background()
	if res := cr.Reconcile(ctx, chart); res.Err != nil {
		t.Fatal(res.Err)
	}
	files := loadArtifact(t, env, chart)
	if chart.Status.Artifact.Revision != "0.1.0+0123456789ab" || files["charts/redis"] != "1.2.0" || files["charts/common"] != "0.1.0" ||
		files["README.md"] != "" || files["templates/cm.yaml"] == "" {
		t.Errorf("revision %s, artifact %v", chart.Status.Artifact.Revision, files)
	}
	digest := chart.Status.Artifact.Digest

	// The same source builds the same artifact.
	chart.Generation++
	if res := cr.Reconcile(ctx, chart); res.Err != nil || chart.Status.Artifact.Digest != digest {
		t.Errorf("rebuilt with digest %s, first %s (%v)", chart.Status.Artifact.Digest, digest, res.Err)
	}

	// Only this namespace's HelmRepositories lend their credentials.
	helmRepos = map[string][]*sourcev1.HelmRepository{"other": helmRepos["ns"]}
	chart.Generation++
	res := cr.Reconcile(ctx, chart)
	if o, reason := loop.Classify(res.Err, ""); o != loop.Failed || reason != source.AuthenticationFailedReason {
		t.Errorf("without a HelmRepository for the dependency: %v (%s)", res.Err, reason)
	}
	if chart.Status.Artifact.Digest != digest {
		t.Error("the last artifact did not stay")
	}

	// A file:// dependency outside the source stalls.
	git = gitArtifact(t, env, "charts", "main@sha1:1111111111111111111111111111111111111111", map[string]string{
		"charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: x\n  version: '*'\n  repository: file://../../../x\n",
	})
	chart.Generation++
	if res := cr.Reconcile(ctx, chart); outcome(res.Err) != loop.Stalled || !strings.Contains(res.Err.Error(), "outside the source") {
		t.Errorf("escaping file:// dependency: %v", res.Err)
	}
	if c := apimeta.FindStatusCondition(chart.Status.Conditions, source.FetchFailedCondition); c == nil || !strings.Contains(c.Message, "dependency 'x'") {
		t.Errorf("FetchFailed %+v", c)
	}
}

func outcome(err error) loop.Outcome {
	o, _ := loop.Classify(err, "")
	return o
}

func TestHelmRepository_CertSecretRefTrustsTheRepository(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    urls: [app-1.0.0.tgz]\n")
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	env, _ := newHelmEnv(t, helmSecrets{"ca": {"ca.crt": ca}, "bad": {"ca.crt": []byte("not PEM")}})
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tls", Generation: 1},
		Spec:       sourcev1.HelmRepositorySpec{URL: srv.URL, Interval: "1m"},
	}
	rr := &HelmRepositoryReconciler{Env: env}
	if res := rr.Reconcile(context.Background(), repo); outcome(res.Err) != loop.Failed || !strings.Contains(res.Err.Error(), "certificate") {
		t.Errorf("without the CA: %v", res.Err)
	}
	repo.Spec.CertSecretRef = &common.LocalObjectReference{Name: "bad"}
	if res := rr.Reconcile(context.Background(), repo); outcome(res.Err) != loop.Failed || !strings.Contains(res.Err.Error(), "spec.certSecretRef") {
		t.Errorf("with a bad CA: %v", res.Err)
	}
	repo.Spec.CertSecretRef.Name = "ca"
	if res := rr.Reconcile(context.Background(), repo); res.Err != nil || repo.Status.Artifact == nil {
		t.Errorf("with the CA: %v, %+v", res.Err, repo.Status)
	}
}

// TestHelmRepository_TimeoutBoundsTheIndexFetch: a repository that never
// answers fails the run after spec.timeout, not Flux's default minute.
func TestHelmRepository_TimeoutBoundsTheIndexFetch(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	env, _ := newHelmEnv(t, nil)
	timeout := common.Duration("1s")
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "slow", Generation: 1},
		Spec:       sourcev1.HelmRepositorySpec{URL: srv.URL, Interval: "1m", Timeout: &timeout},
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- (&HelmRepositoryReconciler{Env: env}).Reconcile(context.Background(), repo).Err }()
	select {
	case err := <-done:
		if outcome(err) != loop.Failed {
			t.Fatalf("err = %v, want a failure", err)
		}
		t.Logf("failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(15 * time.Second):
		t.Fatal("the run did not end within 15s of a 1s spec.timeout")
	}
}
