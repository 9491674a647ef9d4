package reconcile

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
)

func (m *Manager) gitRepositoryController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().GitRepositories()
	return loop.New(loop.Config[*sourcev1.GitRepository]{
		Kind:     "GitRepository",
		Workers:  m.opts.Concurrency,
		Informer: inf.Informer(),
		Get: func(namespace, name string) (*sourcev1.GitRepository, error) {
			return inf.Lister().GitRepositories(namespace).Get(name)
		},
		UpdateStatus: func(ctx context.Context, obj *sourcev1.GitRepository) error {
			_, err := w.flux.SourceV1().GitRepositories(obj.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: "source-controller"})
			return err
		},
		Reconciler: &source.GitRepositoryReconciler{Env: w.env, GetGitRepository: func(namespace, name string) (*sourcev1.GitRepository, error) {
			return inf.Lister().GitRepositories(namespace).Get(name)
		}},
		OnDelete: func(namespace, name string) {
			_ = m.opts.Store.Delete(artifact.Key{Kind: "GitRepository", Namespace: namespace, Name: name})
		},
		Metrics: m.metrics,
	})
}
