package helm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"sort"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	hcommon "helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm/helmtest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrelease"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// The release state machine runs here without a cluster: Helm's in-memory
// storage driver keeps the releases and Helm's fake kube client stands in
// for the target, as in Helm's own action tests. Helm's actions, hooks,
// tests and storage are real; what the objects do in a cluster is not (the
// fake creates, updates and deletes nothing, and its waits succeed unless
// told to fail).

// errWait is the failure of a wait the fake is told to fail.
var errWait = errors.New("timed out waiting for the condition")

// fakeKube is Helm's fake kube client whose waits for the release's
// objects fail while failWaits > 0 (each failure counts one down); waits
// with Helm's hook-only strategy never fail, as they wait for nothing.
// Test hooks fail when FailingKubeClient.WatchUntilReadyError is set.
type fakeKube struct {
	*kubefake.FailingKubeClient
	failWaits int
	// strategies are the wait strategies of the waiters Helm asked for.
	strategies []kube.WaitStrategy
}

func (f *fakeKube) GetWaiter(ws kube.WaitStrategy) (kube.Waiter, error) {
	return f.GetWaiterWithOptions(ws)
}

func (f *fakeKube) GetWaiterWithOptions(ws kube.WaitStrategy, opts ...kube.WaitOption) (kube.Waiter, error) {
	f.strategies = append(f.strategies, ws)
	w, err := f.FailingKubeClient.GetWaiterWithOptions(ws, opts...)
	return &fakeWaiter{Waiter: w, kube: f, hooksOnly: ws == kube.HookOnlyStrategy}, err
}

type fakeWaiter struct {
	kube.Waiter
	kube      *fakeKube
	hooksOnly bool
}

func (w *fakeWaiter) fail() error {
	if w.hooksOnly || w.kube.failWaits <= 0 {
		return nil
	}
	w.kube.failWaits--
	return errWait
}

func (w *fakeWaiter) Wait(res kube.ResourceList, d time.Duration) error {
	if err := w.fail(); err != nil {
		return err
	}
	return w.Waiter.Wait(res, d)
}

func (w *fakeWaiter) WaitWithJobs(res kube.ResourceList, d time.Duration) error {
	if err := w.fail(); err != nil {
		return err
	}
	return w.Waiter.WaitWithJobs(res, d)
}

// world is a HelmRelease worker on Helm's fakes, with one chart source:
// the OCIRepository apps/app that chartRef() names.
type world struct {
	r    *Reconciler
	kube *fakeKube
	mem  *driver.Memory
	src  *Source
	// namespaces are the release and storage namespaces of each Helm
	// configuration the worker asked for.
	namespaces [][2]string
	// sources are the chart sources the worker read.
	sources []string
	store   *artifact.Store
	chart   []byte
}

var sourceKey = artifact.Key{Kind: "OCIRepository", Namespace: "apps", Name: "app"}

func newWorld(t *testing.T, chart []byte) *world {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{
		kube:  &fakeKube{FailingKubeClient: &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard}}},
		mem:   driver.NewMemory(),
		src:   &Source{Ready: string(metav1.ConditionTrue)},
		store: store,
	}
	w.publish(t, chart)
	host := fake.NewSimpleClientset()
	w.r = &Reconciler{
		GetHelmRelease: func(_, name string) (*helmv2.HelmRelease, error) { return nil, notFound("helmreleases", name) },
		GetKustomization: func(_, name string) (*kustomizev1.Kustomization, error) {
			return nil, notFound("kustomizations", name)
		},
		GetSource: func(kind, namespace, name string) (*Source, error) {
			w.sources = append(w.sources, kind+"/"+namespace+"/"+name)
			if kind != sourceKey.Kind || name != sourceKey.Name {
				return nil, notFound(kind, name)
			}
			return w.src, nil
		},
		Charts:           noCharts{},
		UpdateFinalizers: func(_ context.Context, o *helmv2.HelmRelease) (*helmv2.HelmRelease, error) { return o, nil },
		Store:            store,
		Host:             host,
		// Nothing listens there: only the inventory (status.inventory)
		// reads the target, and it keeps the last one when it cannot.
		Targets: &target.Targets{HostConfig: &rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second}, Host: host,
			Owner: ssa.Owner{Field: FieldManager, Group: helm.GroupName}, UserAgent: "helm-test"},
		Clusters: &helmrelease.Clusters{},
		Events:   &record.FakeRecorder{},
	}
	w.r.configure = func(_ *target.Target, releaseNamespace, storageNamespace string) (*action.Configuration, error) {
		w.namespaces = append(w.namespaces, [2]string{releaseNamespace, storageNamespace})
		w.mem.SetNamespace(storageNamespace)
		cfg := action.NewConfiguration()
		cfg.Releases = storage.Init(w.mem)
		cfg.KubeClient = w.kube
		cfg.Capabilities = hcommon.DefaultCapabilities
		cfg.SetHookOutputFunc(func(_, _, _ string) io.Writer { return io.Discard })
		return cfg, nil
	}
	return w
}

// publish makes chart the source's artifact.
func (w *world) publish(t *testing.T, chart []byte) {
	t.Helper()
	stored, err := w.store.PutArchive(context.Background(), sourceKey, bytes.NewReader(chart))
	if err != nil {
		t.Fatal(err)
	}
	w.src.Artifact = &common.Artifact{Path: stored.Path, Revision: "1", Digest: stored.Digest}
	w.chart = chart
}

// storePending stores revision version of apps/web with status, as a
// worker stopped in the middle of an action leaves it.
func (w *world) storePending(t *testing.T, version int, status rcommon.Status) {
	t.Helper()
	ch, err := loader.LoadArchive(bytes.NewReader(w.chart))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rel := &release.Release{Name: "web", Namespace: "apps", Version: version, Chart: ch, Config: map[string]any{},
		Info: &release.Info{Status: status, FirstDeployed: now, LastDeployed: now, Description: "interrupted"}}
	w.mem.SetNamespace("apps")
	if err := storage.Init(w.mem).Create(rel); err != nil {
		t.Fatal(err)
	}
}

// reconcile runs the worker once on obj and returns its result and how
// it ended.
func (w *world) reconcile(t *testing.T, obj *helmv2.HelmRelease) (loop.Result, loop.Outcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := w.r.Reconcile(ctx, obj)
	outcome, _ := loop.Classify(res.Err, "")
	return res, outcome
}

// history is the release's revisions in storage namespace ns, oldest
// first.
func (w *world) history(t *testing.T, ns, name string) []*release.Release {
	t.Helper()
	w.mem.SetNamespace(ns)
	hist, err := storage.Init(w.mem).History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []*release.Release
	for _, h := range hist {
		rel, err := toRelease(h)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rel)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// statuses is the status of each revision, oldest first: "deployed",
// "superseded", ...
func statuses(hist []*release.Release) []string {
	out := make([]string, len(hist))
	for i, rel := range hist {
		out[i] = string(rel.Info.Status)
	}
	return out
}

// webRelease is a HelmRelease apps/web of the world's chart.
func webRelease(mutate ...func(*helmv2.HelmReleaseSpec)) *helmv2.HelmRelease {
	obj := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web", Generation: 1, Finalizers: []string{Finalizer}},
		Spec: helmv2.HelmReleaseSpec{Interval: "10m",
			ChartRef: &common.NamespacedObjectKindReference{Kind: sourceKey.Kind, Name: sourceKey.Name}},
	}
	for _, m := range mutate {
		m(&obj.Spec)
	}
	return obj
}

// chartFiles is a chart of one ConfigMap and, when tests are named, a
// test hook Pod for each.
func chartFiles(t *testing.T, name, version string, tests ...string) []byte {
	t.Helper()
	files := map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n",
		"values.yaml":       "replicaCount: 1\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: {{ .Values.replicaCount | quote }}\n",
	}
	for _, test := range tests {
		files["templates/"+test+".yaml"] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + test +
			"\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers: [{name: t, image: busybox}]\n"
	}
	return helmtest.Chart(t, files)
}

// chartOf is the chart app@1.0.0 of templates (paths under the chart).
func chartOf(t *testing.T, templates map[string]string) []byte {
	t.Helper()
	files := map[string]string{"Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n"}
	maps.Copy(files, templates)
	return helmtest.Chart(t, files)
}

func notFound(resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
}

// noCharts is a ChartClient with no HelmCharts: the world's releases use
// spec.chartRef.
type noCharts struct{}

func (noCharts) Get(_ context.Context, _, name string) (*sourcev1.HelmChart, error) {
	return nil, notFound("helmcharts", name)
}
func (noCharts) Create(context.Context, *sourcev1.HelmChart) error { return nil }
func (noCharts) Update(context.Context, *sourcev1.HelmChart) error { return nil }
func (noCharts) Delete(context.Context, string, string) error      { return nil }
