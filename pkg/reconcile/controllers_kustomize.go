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
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/informers/externalversions"
	kustomizerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/kustomize"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/watch"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// Informer indexes of Kustomizations, to find the ones to reconcile when
// a source gets a new artifact or a dependency becomes ready.
const (
	bySourceIndex    = "sourceRef"
	byDependsOnIndex = "dependsOn"
	// byReadyExprIndex holds only the dependencies with a readyExpr: any
	// change to those may make the expression true.
	byReadyExprIndex = "dependsOnReadyExpr"
)

// kustomizationIndexers index Kustomizations by "Kind/namespace/name" of
// their source and of each dependency (with a readyExpr, in a second index).
var kustomizationIndexers = cache.Indexers{
	bySourceIndex: func(obj interface{}) ([]string, error) {
		k, ok := obj.(*kustomizev1.Kustomization)
		if !ok {
			return nil, nil
		}
		return []string{kustomizerec.SourceKey(k)}, nil
	},
	byDependsOnIndex: func(obj interface{}) ([]string, error) {
		k, ok := obj.(*kustomizev1.Kustomization)
		if !ok {
			return nil, nil
		}
		var keys []string
		for _, d := range k.Spec.DependsOn {
			keys = append(keys, dependencyKey(d.Kind, kustomize.KustomizationKind, d.Namespace, k.Namespace, d.Name))
		}
		return keys, nil
	},
	byReadyExprIndex: func(obj interface{}) ([]string, error) {
		k, ok := obj.(*kustomizev1.Kustomization)
		if !ok {
			return nil, nil
		}
		var keys []string
		for _, d := range k.Spec.DependsOn {
			if d.ReadyExpr != "" {
				keys = append(keys, dependencyKey(d.Kind, kustomize.KustomizationKind, d.Namespace, k.Namespace, d.Name))
			}
		}
		return keys, nil
	},
}

// kustomizeSources reads source objects from the shared informers.
type kustomizeSources struct {
	factory externalversions.SharedInformerFactory
}

func (s kustomizeSources) informers() map[string]cache.SharedIndexInformer {
	src := s.factory.Source().V1()
	return map[string]cache.SharedIndexInformer{
		kustomize.GitRepositoryKind:    src.GitRepositories().Informer(),
		kustomize.OCIRepositoryKind:    src.OCIRepositories().Informer(),
		kustomize.BucketKind:           src.Buckets().Informer(),
		kustomize.ExternalArtifactKind: src.ExternalArtifacts().Informer(),
	}
}

func (s kustomizeSources) get(kind, namespace, name string) (*kustomizerec.Source, error) {
	src := s.factory.Source().V1()
	switch kind {
	case kustomize.GitRepositoryKind:
		return toSource(src.GitRepositories().Lister().GitRepositories(namespace).Get(name))
	case kustomize.OCIRepositoryKind:
		return toSource(src.OCIRepositories().Lister().OCIRepositories(namespace).Get(name))
	case kustomize.BucketKind:
		return toSource(src.Buckets().Lister().Buckets(namespace).Get(name))
	case kustomize.ExternalArtifactKind:
		return toSource(src.ExternalArtifacts().Lister().ExternalArtifacts(namespace).Get(name))
	}
	return nil, unsupportedSource(kind)
}

// toSource is what the Kustomization worker needs of a source object read
// by a lister or a client.
func toSource[T runtime.Object](obj T, err error) (*kustomizerec.Source, error) {
	if err != nil {
		return nil, err
	}
	artifact, conds := sourceStatus(obj)
	out := &kustomizerec.Source{Artifact: artifact, Ready: metav1.ConditionUnknown}
	if c := apimeta.FindStatusCondition(conds, common.ReadyCondition); c != nil {
		out.Ready, out.Message = c.Status, c.Message
	}
	return out, nil
}

func unsupportedSource(kind string) error {
	return loop.Stallf(kustomize.ArtifactFailedReason, "source kind %q is not supported", kind)
}

// kustomizationController builds the Kustomization worker: it reconciles
// on spec changes, at the interval, when its source has a new artifact
// revision and when a dependency becomes ready.
func (m *Manager) kustomizationController(w sourceWorkers, loopback *rest.Config) (Controller, *kustomizerec.Reconciler, error) {
	cl, err := m.clientsFor(loopback, "kustomize-controller")
	if err != nil {
		return nil, nil, err
	}
	inf := w.factory.Kustomize().V1().Kustomizations()
	if err := inf.Informer().AddIndexers(kustomizationIndexers); err != nil {
		return nil, nil, err
	}
	get := func(namespace, name string) (*kustomizev1.Kustomization, error) {
		return inf.Lister().Kustomizations(namespace).Get(name)
	}
	sources := kustomizeSources{factory: w.factory}
	rec := &kustomizerec.Reconciler{
		Options:          m.kustomizeOptions(),
		GetSource:        sources.get,
		GetKustomization: get,
		GetHelmRelease: func(namespace, name string) (*helmv2.HelmRelease, error) {
			return w.factory.Helm().V2().HelmReleases().Lister().HelmReleases(namespace).Get(name)
		},
		UpdateFinalizers: func(ctx context.Context, obj *kustomizev1.Kustomization) (*kustomizev1.Kustomization, error) {
			return cl.flux.KustomizeV1().Kustomizations(obj.Namespace).Update(ctx, obj, metav1.UpdateOptions{FieldManager: "kustomize-controller"})
		},
		UpdateStatus: func(ctx context.Context, obj *kustomizev1.Kustomization) (*kustomizev1.Kustomization, error) {
			return cl.flux.KustomizeV1().Kustomizations(obj.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: "kustomize-controller"})
		},
		Store:   m.opts.Store,
		Host:    cl.host,
		Targets: m.targets(),
	}
	// Applied objects carry the owner labels; the informers list and
	// watch only those. The labels select, they never attribute: see
	// ObjectChanged.
	watches := watch.New(watch.Options{LabelSelector: kustomize.GroupName + "/name", Handler: rec.ObjectChanged})
	rec.Watches = watches
	updateStatus, getLive := statusWriter[*kustomizev1.Kustomization](cl.flux.KustomizeV1().Kustomizations, "kustomize-controller")
	c, err := loop.New(loop.Config[*kustomizev1.Kustomization]{
		Kind:         kustomize.KustomizationKind,
		Workers:      m.opts.Concurrency,
		Informer:     inf.Informer(),
		Get:          get,
		UpdateStatus: updateStatus,
		GetLive:      getLive,
		Reconciler:   rec,
		OnDelete:     rec.Forget,
		Metrics:      m.metrics,
	})
	if err != nil {
		return nil, nil, err
	}
	rec.Enqueue = c.Enqueue
	enqueueIndexed := func(index, key string) {
		objs, err := inf.Informer().GetIndexer().ByIndex(index, key)
		if err != nil {
			return
		}
		for _, o := range objs {
			if k, ok := o.(*kustomizev1.Kustomization); ok {
				c.Enqueue(k.Namespace, k.Name)
			}
		}
	}
	// A new artifact revision of a source reconciles its Kustomizations at
	// once, not at their interval.
	for kind, si := range sources.informers() {
		err := onNewArtifact(si, func(namespace, name string) {
			enqueueIndexed(bySourceIndex, kustomizerec.SourceKeyOf(kind, namespace, name))
		})
		if err != nil {
			return nil, nil, err
		}
	}
	// A HelmRelease that became ready releases the Kustomizations waiting
	// for it.
	if err := onBecameReady(w.factory.Helm().V2().HelmReleases().Informer(), func(namespace, name string) {
		enqueueIndexed(byDependsOnIndex, helm.HelmReleaseKind+"/"+namespace+"/"+name)
	}); err != nil {
		return nil, nil, err
	}
	// Any change to a dependency may make a readyExpr true: the
	// Kustomizations waiting for it with one look again at once.
	for kind, di := range map[string]cache.SharedIndexInformer{
		kustomize.KustomizationKind: inf.Informer(),
		helm.HelmReleaseKind:        w.factory.Helm().V2().HelmReleases().Informer(),
	} {
		if err := onChange(di, func(namespace, name string) {
			objs, err := inf.Informer().GetIndexer().ByIndex(byReadyExprIndex, kind+"/"+namespace+"/"+name)
			if err != nil {
				return
			}
			for _, o := range objs {
				if k, ok := o.(*kustomizev1.Kustomization); ok && waitingForDependency(k) {
					c.Enqueue(k.Namespace, k.Name)
				}
			}
		}); err != nil {
			return nil, nil, err
		}
	}
	// A Kustomization that became ready (or applied a new revision)
	// releases the ones waiting for it.
	_, err = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj interface{}) {
			o, ok1 := oldObj.(*kustomizev1.Kustomization)
			n, ok2 := newObj.(*kustomizev1.Kustomization)
			if !ok1 || !ok2 {
				return
			}
			ready := apimeta.IsStatusConditionTrue(n.Status.Conditions, common.ReadyCondition)
			if !ready {
				return
			}
			if !apimeta.IsStatusConditionTrue(o.Status.Conditions, common.ReadyCondition) ||
				o.Status.LastAppliedRevision != n.Status.LastAppliedRevision ||
				o.Status.ObservedGeneration != n.Status.ObservedGeneration {
				enqueueIndexed(byDependsOnIndex, kustomize.KustomizationKind+"/"+n.Namespace+"/"+n.Name)
			}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	return watchingController{Controller: c, watches: watches}, rec, nil
}

// watchingController runs the informers on applied objects for as long as
// the Kustomization controller runs (they are built anew with it after a
// lost and regained Lease).
type watchingController struct {
	Controller
	watches *watch.Informers
}

func (w watchingController) Run(ctx context.Context) error {
	w.watches.Start(ctx)
	return w.Controller.Run(ctx)
}

// onChange calls fn for every update of an object (not resyncs).
func onChange(inf cache.SharedIndexInformer, fn func(namespace, name string)) error {
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj interface{}) {
			o, ok1 := oldObj.(metav1.Object)
			n, ok2 := newObj.(metav1.Object)
			if ok1 && ok2 && o.GetResourceVersion() != n.GetResourceVersion() {
				fn(n.GetNamespace(), n.GetName())
			}
		},
	})
	return err
}

// waitingForDependency reports whether k's last run waited for a
// dependency, so that only those runs are repeated at once.
func waitingForDependency(k *kustomizev1.Kustomization) bool {
	c := apimeta.FindStatusCondition(k.Status.Conditions, common.ReadyCondition)
	return c != nil && c.Reason == kustomize.DependencyNotReadyReason
}

// kustomizeOptions are the Kustomization worker's server-wide settings.
func (m *Manager) kustomizeOptions() kustomizerec.Options {
	return kustomizerec.Options{
		NoCrossNamespaceRefs:  m.opts.NoCrossNamespaceRefs,
		AllowRemoteBases:      m.opts.AllowRemoteBases,
		TmpDir:                m.opts.TmpDir,
		MaxFetchSize:          m.opts.MaxFetchSize,
		Fetcher:               m.fetcher,
		AllowKubeConfigExec:   m.opts.AllowKubeConfigExec,
		DefaultServiceAccount: m.opts.DefaultServiceAccount,
		MaxArtifactSize:       m.opts.MaxBuildSize,
		MaxArtifactFiles:      m.opts.MaxBuildFiles,
		BuildMemory:           m.buildMemory,
		DependencyRequeue:     10 * time.Second,
		Guard:                 m.opts.SourceGuard,
	}
}

// targets is the cache of apply managers, shared by the worker and /diff.
func (m *Manager) targets() *target.Targets {
	m.targetsOnce.Do(func() {
		host, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(m.opts.HostConfig), "gitops-apiserver/kustomize-controller"))
		if err != nil {
			klog.ErrorS(err, "Client for the host cluster")
		}
		m.applyTargets = &target.Targets{
			Owner:                 ssa.Owner{Field: kustomizerec.FieldManager, Group: kustomize.GroupName},
			UserAgent:             "gitops-apiserver/kustomize-controller",
			HostConfig:            m.opts.HostConfig,
			Host:                  host,
			AllowExec:             m.opts.AllowKubeConfigExec,
			DefaultServiceAccount: m.opts.DefaultServiceAccount,
			QPS:                   200,
			Burst:                 400,
			Guard:                 m.opts.SourceGuard,
		}
	})
	return m.applyTargets
}
