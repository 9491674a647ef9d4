package reconcile

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	sourcerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
)

func (m *Manager) helmRepositoryController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().HelmRepositories()
	return sourceController(m, source.HelmRepositoryKind, inf.Informer(),
		func(namespace, name string) (*sourcev1.HelmRepository, error) {
			return inf.Lister().HelmRepositories(namespace).Get(name)
		},
		w.flux.SourceV1().HelmRepositories,
		&sourcerec.HelmRepositoryReconciler{Env: w.env})
}

func (m *Manager) helmChartController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().HelmCharts()
	repos := w.factory.Source().V1().HelmRepositories()
	gits := w.factory.Source().V1().GitRepositories()
	buckets := w.factory.Source().V1().Buckets()
	c, err := sourceController(m, source.HelmChartKind, inf.Informer(),
		func(namespace, name string) (*sourcev1.HelmChart, error) {
			return inf.Lister().HelmCharts(namespace).Get(name)
		},
		w.flux.SourceV1().HelmCharts,
		&sourcerec.HelmChartReconciler{Env: w.env,
			GetHelmRepository: func(namespace, name string) (*sourcev1.HelmRepository, error) {
				return repos.Lister().HelmRepositories(namespace).Get(name)
			},
			GetGitRepository: func(namespace, name string) (*sourcev1.GitRepository, error) {
				return gits.Lister().GitRepositories(namespace).Get(name)
			},
			GetBucket: func(namespace, name string) (*sourcev1.Bucket, error) {
				return buckets.Lister().Buckets(namespace).Get(name)
			},
			ListHelmRepositories: func(namespace string) ([]*sourcev1.HelmRepository, error) {
				return repos.Lister().HelmRepositories(namespace).List(labels.Everything())
			},
		})
	if err != nil {
		return nil, err
	}
	// As Flux watches sources: a new artifact revision of a source
	// re-reconciles the charts that use it at once, not at their interval.
	enqueueCharts := func(kind, namespace, name string) {
		charts, err := inf.Lister().HelmCharts(namespace).List(labels.Everything())
		if err != nil {
			return
		}
		for _, ch := range charts {
			if ch.Spec.SourceRef.Kind == kind && ch.Spec.SourceRef.Name == name {
				c.Enqueue(ch.Namespace, ch.Name)
			}
		}
	}
	for kind, si := range map[string]cache.SharedIndexInformer{
		source.HelmRepositoryKind: repos.Informer(),
		source.GitRepositoryKind:  gits.Informer(),
		source.BucketKind:         buckets.Informer(),
	} {
		if err := onNewArtifact(si, func(namespace, name string) { enqueueCharts(kind, namespace, name) }); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// onNewArtifact calls fn with a source's namespace and name whenever its
// status shows an artifact of a new revision. Objects are created without
// a status, so updates are the only place a new artifact shows up.
func onNewArtifact(inf cache.SharedIndexInformer, fn func(namespace, name string)) error {
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj interface{}) {
			oldArtifact, _ := sourceStatus(oldObj)
			newArtifact, _ := sourceStatus(newObj)
			if newArtifact == nil || (oldArtifact != nil && oldArtifact.Revision == newArtifact.Revision) {
				return
			}
			if m, ok := newObj.(metav1.Object); ok {
				fn(m.GetNamespace(), m.GetName())
			}
		},
	})
	return err
}

// sourceStatus is the artifact and conditions in a source's status.
func sourceStatus(obj interface{}) (*common.Artifact, []metav1.Condition) {
	switch o := obj.(type) {
	case *sourcev1.HelmRepository:
		return o.Status.Artifact, o.Status.Conditions
	case *sourcev1.GitRepository:
		return o.Status.Artifact, o.Status.Conditions
	case *sourcev1.Bucket:
		return o.Status.Artifact, o.Status.Conditions
	case *sourcev1.OCIRepository:
		return o.Status.Artifact, o.Status.Conditions
	case *sourcev1.ExternalArtifact:
		return o.Status.Artifact, o.Status.Conditions
	}
	return nil, nil
}
