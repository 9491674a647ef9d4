package reconcile

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	sourcerec "github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
)

// sourceController builds the loop of a source kind: status written as
// source-controller, artifacts dropped from the store when the object goes.
func sourceController[T loop.Object](m *Manager, kind string, inf cache.SharedIndexInformer,
	get func(namespace, name string) (T, error),
	updateStatus func(ctx context.Context, obj T, opts metav1.UpdateOptions) error,
	reconciler loop.Reconciler[T]) (*loop.Controller[T], error) {
	return loop.New(loop.Config[T]{
		Kind:     kind,
		Workers:  m.opts.Concurrency,
		Informer: inf,
		Get:      get,
		UpdateStatus: func(ctx context.Context, obj T) error {
			return updateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: "source-controller"})
		},
		Reconciler: reconciler,
		OnDelete: func(namespace, name string) {
			_ = m.opts.Store.Delete(artifact.Key{Kind: kind, Namespace: namespace, Name: name})
		},
		Metrics: m.metrics,
	})
}

func (m *Manager) gitRepositoryController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().GitRepositories()
	get := func(namespace, name string) (*sourcev1.GitRepository, error) {
		return inf.Lister().GitRepositories(namespace).Get(name)
	}
	return sourceController(m, source.GitRepositoryKind, inf.Informer(), get,
		func(ctx context.Context, obj *sourcev1.GitRepository, opts metav1.UpdateOptions) error {
			_, err := w.flux.SourceV1().GitRepositories(obj.Namespace).UpdateStatus(ctx, obj, opts)
			return err
		},
		&sourcerec.GitRepositoryReconciler{Env: w.env, GetGitRepository: get})
}

func (m *Manager) ociRepositoryController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().OCIRepositories()
	return sourceController(m, source.OCIRepositoryKind, inf.Informer(),
		func(namespace, name string) (*sourcev1.OCIRepository, error) {
			return inf.Lister().OCIRepositories(namespace).Get(name)
		},
		func(ctx context.Context, obj *sourcev1.OCIRepository, opts metav1.UpdateOptions) error {
			_, err := w.flux.SourceV1().OCIRepositories(obj.Namespace).UpdateStatus(ctx, obj, opts)
			return err
		},
		&sourcerec.OCIRepositoryReconciler{Env: w.env})
}

func (m *Manager) bucketController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().Buckets()
	return sourceController(m, source.BucketKind, inf.Informer(),
		func(namespace, name string) (*sourcev1.Bucket, error) {
			return inf.Lister().Buckets(namespace).Get(name)
		},
		func(ctx context.Context, obj *sourcev1.Bucket, opts metav1.UpdateOptions) error {
			_, err := w.flux.SourceV1().Buckets(obj.Namespace).UpdateStatus(ctx, obj, opts)
			return err
		},
		&sourcerec.BucketReconciler{Env: w.env})
}
