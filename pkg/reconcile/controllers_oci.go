package reconcile

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	sourcerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
)

func (m *Manager) ociRepositoryController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().OCIRepositories()
	return loop.New(loop.Config[*sourcev1.OCIRepository]{
		Kind:     source.OCIRepositoryKind,
		Workers:  m.opts.Concurrency,
		Informer: inf.Informer(),
		Get: func(namespace, name string) (*sourcev1.OCIRepository, error) {
			return inf.Lister().OCIRepositories(namespace).Get(name)
		},
		UpdateStatus: func(ctx context.Context, obj *sourcev1.OCIRepository) error {
			_, err := w.flux.SourceV1().OCIRepositories(obj.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: "source-controller"})
			return err
		},
		Reconciler: &sourcerec.OCIRepositoryReconciler{Env: w.env},
		OnDelete: func(namespace, name string) {
			_ = m.opts.Store.Delete(artifact.Key{Kind: source.OCIRepositoryKind, Namespace: namespace, Name: name})
		},
		Metrics: m.metrics,
	})
}
