package reconcile

import (
	"context"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/informers/externalversions"
	sourcelisters "github.com/gitops-apiserver/gitops-apiserver/pkg/generated/listers/source/v1"
	helmrec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// Informer indexes of HelmReleases: by the chart source they release
// ("Kind/namespace/name") and by each dependency ("Kind/namespace/name").
const (
	byChartSourceIndex = "chartSource"
	byDependencyIndex  = "dependency"
)

var helmReleaseIndexers = cache.Indexers{
	byChartSourceIndex: func(obj interface{}) ([]string, error) {
		hr, ok := obj.(*helmv2.HelmRelease)
		if !ok {
			return nil, nil
		}
		if ref := hr.Spec.ChartRef; ref != nil {
			ns := ref.Namespace
			if ns == "" {
				ns = hr.Namespace
			}
			return []string{ref.Kind + "/" + ns + "/" + ref.Name}, nil
		}
		if c := hr.Spec.Chart; c != nil {
			ns := c.Spec.SourceRef.Namespace
			if ns == "" {
				ns = hr.Namespace
			}
			return []string{helm.HelmChartKind + "/" + ns + "/" + hr.Namespace + "-" + hr.Name}, nil
		}
		return nil, nil
	},
	byDependencyIndex: func(obj interface{}) ([]string, error) {
		hr, ok := obj.(*helmv2.HelmRelease)
		if !ok {
			return nil, nil
		}
		var keys []string
		for _, d := range hr.Spec.DependsOn {
			keys = append(keys, dependencyKey(d.Kind, helm.HelmReleaseKind, d.Namespace, hr.Namespace, d.Name))
		}
		return keys, nil
	},
}

// dependencyKey is "Kind/namespace/name" of a dependency, defaulting the
// kind and namespace to the dependent's.
func dependencyKey(kind, ownKind, namespace, ownNamespace, name string) string {
	if kind == "" {
		kind = ownKind
	}
	if namespace == "" {
		namespace = ownNamespace
	}
	return kind + "/" + namespace + "/" + name
}

// helmReleaseController builds the HelmRelease worker: it reconciles on
// spec changes, at the interval, when its chart has a new artifact and
// when a dependency becomes ready.
func (m *Manager) helmReleaseController(w sourceWorkers, loopback *rest.Config) (*loop.Controller[*helmv2.HelmRelease], *helmrec.Reconciler, error) {
	cl, err := m.clientsFor(loopback, "helm-controller")
	if err != nil {
		return nil, nil, err
	}
	inf := w.factory.Helm().V2().HelmReleases()
	if err := inf.Informer().AddIndexers(helmReleaseIndexers); err != nil {
		return nil, nil, err
	}
	getHR := func(namespace, name string) (*helmv2.HelmRelease, error) {
		return inf.Lister().HelmReleases(namespace).Get(name)
	}
	ks := w.factory.Kustomize().V1().Kustomizations()
	src := w.factory.Source().V1()
	rec := &helmrec.Reconciler{
		Options: helmrec.Options{
			NoCrossNamespaceRefs: m.opts.NoCrossNamespaceRefs,
			DependencyRequeue:    10 * time.Second,
			MaxChartSize:         m.opts.MaxFetchSize,
			Guard:                m.opts.SourceGuard,
			Fetcher:              m.fetcher,
		},
		GetHelmRelease: getHR,
		GetKustomization: func(namespace, name string) (*kustomizev1.Kustomization, error) {
			return ks.Lister().Kustomizations(namespace).Get(name)
		},
		GetSource: chartSources{w.factory}.get,
		Charts:    helmCharts{client: cl.flux, lister: src.HelmCharts().Lister()},
		UpdateFinalizers: func(ctx context.Context, obj *helmv2.HelmRelease) (*helmv2.HelmRelease, error) {
			return cl.flux.HelmV2().HelmReleases(obj.Namespace).Update(ctx, obj, metav1.UpdateOptions{FieldManager: helmrec.FieldManager})
		},
		UpdateStatus: func(ctx context.Context, obj *helmv2.HelmRelease) (*helmv2.HelmRelease, error) {
			return cl.flux.HelmV2().HelmReleases(obj.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: helmrec.FieldManager})
		},
		Store:    m.opts.Store,
		Host:     cl.host,
		Targets:  m.helmTargets(),
		Clusters: m.helmClusters,
	}
	updateStatus, getLive := statusWriter[*helmv2.HelmRelease](cl.flux.HelmV2().HelmReleases, helmrec.FieldManager)
	c, err := loop.New(loop.Config[*helmv2.HelmRelease]{
		Kind: helm.HelmReleaseKind, Workers: m.opts.Concurrency, Informer: inf.Informer(),
		Get: getHR, UpdateStatus: updateStatus, GetLive: getLive,
		Reconciler: rec, OnDelete: rec.Forget, Metrics: m.metrics,
	})
	if err != nil {
		return nil, nil, err
	}
	enqueueIndexed := func(index, key string) {
		objs, err := inf.Informer().GetIndexer().ByIndex(index, key)
		if err != nil {
			return
		}
		for _, o := range objs {
			if hr, ok := o.(*helmv2.HelmRelease); ok {
				c.Enqueue(hr.Namespace, hr.Name)
			}
		}
	}
	// A new chart artifact releases at once, not at the interval.
	for kind, si := range map[string]cache.SharedIndexInformer{
		helm.HelmChartKind:        src.HelmCharts().Informer(),
		helm.OCIRepositoryKind:    src.OCIRepositories().Informer(),
		helm.ExternalArtifactKind: src.ExternalArtifacts().Informer(),
	} {
		if err := onNewChartArtifact(si, func(namespace, name string) {
			enqueueIndexed(byChartSourceIndex, kind+"/"+namespace+"/"+name)
		}); err != nil {
			return nil, nil, err
		}
	}
	// A dependency (HelmRelease or Kustomization) that became ready
	// releases the HelmReleases waiting for it.
	for kind, di := range map[string]cache.SharedIndexInformer{
		helm.HelmReleaseKind:        inf.Informer(),
		kustomize.KustomizationKind: ks.Informer(),
	} {
		if err := onBecameReady(di, func(namespace, name string) {
			enqueueIndexed(byDependencyIndex, kind+"/"+namespace+"/"+name)
		}); err != nil {
			return nil, nil, err
		}
	}
	return c, rec, nil
}

// helmTargets is the cache of clients for HelmReleases' target clusters.
func (m *Manager) helmTargets() *target.Targets {
	m.helmTargetsOnce.Do(func() {
		host, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(m.opts.HostConfig), "gitops-apiserver/helm-controller"))
		if err != nil {
			klog.ErrorS(err, "Client for the host cluster")
		}
		m.helmTargetsCache = &target.Targets{
			Owner:                 ssa.Owner{Field: helmrec.FieldManager, Group: helm.GroupName},
			UserAgent:             "gitops-apiserver/helm-controller",
			HostConfig:            m.opts.HostConfig,
			Host:                  host,
			AllowExec:             m.opts.AllowKubeConfigExec,
			DefaultServiceAccount: m.opts.DefaultServiceAccount,
			QPS:                   200,
			Burst:                 400,
			Guard:                 m.opts.SourceGuard,
		}
	})
	return m.helmTargetsCache
}

// onNewChartArtifact calls fn when a chart source gets a new artifact.
func onNewChartArtifact(inf cache.SharedIndexInformer, fn func(namespace, name string)) error {
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj interface{}) {
			o, n := chartArtifact(oldObj), chartArtifact(newObj)
			if n == nil || (o != nil && o.Revision == n.Revision && o.Digest == n.Digest) {
				return
			}
			if m, ok := newObj.(metav1.Object); ok {
				fn(m.GetNamespace(), m.GetName())
			}
		},
	})
	return err
}

// onBecameReady calls fn when an object turns Ready (or is Ready at a new
// generation).
func onBecameReady(inf cache.SharedIndexInformer, fn func(namespace, name string)) error {
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj interface{}) {
			o, n := readiness(oldObj), readiness(newObj)
			if n.ready && (!o.ready || o.observed != n.observed) {
				if m, ok := newObj.(metav1.Object); ok {
					fn(m.GetNamespace(), m.GetName())
				}
			}
		},
	})
	return err
}

type readyState struct {
	ready    bool
	observed int64
}

func readiness(obj interface{}) readyState {
	switch o := obj.(type) {
	case *helmv2.HelmRelease:
		return readyState{loop.ReadyAt(o.Generation, o.Status.ObservedGeneration, o.Status.Conditions), o.Status.ObservedGeneration}
	case *kustomizev1.Kustomization:
		return readyState{loop.ReadyAt(o.Generation, o.Status.ObservedGeneration, o.Status.Conditions), o.Status.ObservedGeneration}
	}
	return readyState{}
}

func chartArtifact(obj interface{}) *common.Artifact {
	switch o := obj.(type) {
	case *sourcev1.HelmChart:
		return o.Status.Artifact
	case *sourcev1.OCIRepository:
		return o.Status.Artifact
	case *sourcev1.ExternalArtifact:
		return o.Status.Artifact
	}
	return nil
}

// chartSources reads chart sources from the shared informers.
type chartSources struct {
	factory externalversions.SharedInformerFactory
}

func (s chartSources) get(kind, namespace, name string) (*helmrec.Source, error) {
	src := s.factory.Source().V1()
	switch kind {
	case helm.HelmChartKind:
		return toChartSource(src.HelmCharts().Lister().HelmCharts(namespace).Get(name))
	case helm.OCIRepositoryKind:
		return toChartSource(src.OCIRepositories().Lister().OCIRepositories(namespace).Get(name))
	case helm.ExternalArtifactKind:
		return toChartSource(src.ExternalArtifacts().Lister().ExternalArtifacts(namespace).Get(name))
	}
	return nil, loop.Stallf(helm.ArtifactFailedReason, "chart source kind %q is not supported", kind)
}

func toChartSource[T runtime.Object](obj T, err error) (*helmrec.Source, error) {
	if err != nil {
		return nil, err
	}
	out := &helmrec.Source{Artifact: chartArtifact(obj)}
	var conds []metav1.Condition
	switch o := any(obj).(type) {
	case *sourcev1.HelmChart:
		conds = o.Status.Conditions
	case *sourcev1.OCIRepository:
		conds = o.Status.Conditions
	case *sourcev1.ExternalArtifact:
		conds = o.Status.Conditions
	}
	if c := apimeta.FindStatusCondition(conds, common.ReadyCondition); c != nil {
		out.Ready, out.Message = string(c.Status), c.Message
	}
	return out, nil
}

// helmCharts writes the HelmCharts made from spec.chart through the
// loopback API and reads them from the cache.
type helmCharts struct {
	client versioned.Interface
	lister sourcelisters.HelmChartLister
}

func (h helmCharts) Get(_ context.Context, namespace, name string) (*sourcev1.HelmChart, error) {
	return h.lister.HelmCharts(namespace).Get(name)
}

func (h helmCharts) Create(ctx context.Context, chart *sourcev1.HelmChart) error {
	_, err := h.client.SourceV1().HelmCharts(chart.Namespace).Create(ctx, chart, metav1.CreateOptions{FieldManager: helmrec.FieldManager})
	return err
}

func (h helmCharts) Update(ctx context.Context, chart *sourcev1.HelmChart) error {
	_, err := h.client.SourceV1().HelmCharts(chart.Namespace).Update(ctx, chart, metav1.UpdateOptions{FieldManager: helmrec.FieldManager})
	return err
}

func (h helmCharts) Delete(ctx context.Context, namespace, name string) error {
	return h.client.SourceV1().HelmCharts(namespace).Delete(ctx, name, metav1.DeleteOptions{})
}
