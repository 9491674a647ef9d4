package reconcile

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

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
		func(ctx context.Context, obj *sourcev1.HelmRepository, opts metav1.UpdateOptions) error {
			_, err := w.flux.SourceV1().HelmRepositories(obj.Namespace).UpdateStatus(ctx, obj, opts)
			return err
		},
		&sourcerec.HelmRepositoryReconciler{Env: w.env})
}

func (m *Manager) helmChartController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().HelmCharts()
	repos := w.factory.Source().V1().HelmRepositories()
	c, err := sourceController(m, source.HelmChartKind, inf.Informer(),
		func(namespace, name string) (*sourcev1.HelmChart, error) {
			return inf.Lister().HelmCharts(namespace).Get(name)
		},
		func(ctx context.Context, obj *sourcev1.HelmChart, opts metav1.UpdateOptions) error {
			_, err := w.flux.SourceV1().HelmCharts(obj.Namespace).UpdateStatus(ctx, obj, opts)
			return err
		},
		&sourcerec.HelmChartReconciler{Env: w.env, GetHelmRepository: func(namespace, name string) (*sourcev1.HelmRepository, error) {
			return repos.Lister().HelmRepositories(namespace).Get(name)
		}})
	if err != nil {
		return nil, err
	}
	// As Flux watches sources: a new index revision re-reconciles the
	// charts that use the repository at once, not at their interval.
	_, err = repos.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj interface{}) {
			old, ok1 := oldObj.(*sourcev1.HelmRepository)
			repo, ok2 := newObj.(*sourcev1.HelmRepository)
			if !ok1 || !ok2 || repo.Status.Artifact == nil ||
				(old.Status.Artifact != nil && old.Status.Artifact.Revision == repo.Status.Artifact.Revision) {
				return
			}
			charts, err := inf.Lister().HelmCharts(repo.Namespace).List(labels.Everything())
			if err != nil {
				return
			}
			for _, ch := range charts {
				if ch.Spec.SourceRef.Kind == source.HelmRepositoryKind && ch.Spec.SourceRef.Name == repo.Name {
					c.Enqueue(ch.Namespace, ch.Name)
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
