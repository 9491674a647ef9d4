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

// statusClient is what the loop needs of a kind's generated client in one
// namespace.
type statusClient[T any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	UpdateStatus(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// statusWriter returns the loop's UpdateStatus and GetLive for a kind,
// writing as fieldManager.
func statusWriter[T loop.Object, C statusClient[T]](client func(namespace string) C, fieldManager string) (
	func(ctx context.Context, obj T) error, func(ctx context.Context, namespace, name string) (T, error)) {
	update := func(ctx context.Context, obj T) error {
		_, err := client(obj.GetNamespace()).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: fieldManager})
		return err
	}
	get := func(ctx context.Context, namespace, name string) (T, error) {
		return client(namespace).Get(ctx, name, metav1.GetOptions{})
	}
	return update, get
}

// sourceController builds the loop of a source kind: status written as
// source-controller, artifacts dropped from the store when the object goes.
func sourceController[T loop.Object, C statusClient[T]](m *Manager, kind string, inf cache.SharedIndexInformer,
	get func(namespace, name string) (T, error), client func(namespace string) C,
	reconciler loop.Reconciler[T]) (*loop.Controller[T], error) {
	update, getLive := statusWriter[T](client, "source-controller")
	return loop.New(loop.Config[T]{
		Kind:         kind,
		Workers:      m.opts.Concurrency,
		Informer:     inf,
		Get:          get,
		UpdateStatus: update,
		GetLive:      getLive,
		Reconciler:   reconciler,
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
		w.flux.SourceV1().GitRepositories,
		&sourcerec.GitRepositoryReconciler{Env: w.env, GetGitRepository: get})
}

func (m *Manager) ociRepositoryController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().OCIRepositories()
	return sourceController(m, source.OCIRepositoryKind, inf.Informer(),
		func(namespace, name string) (*sourcev1.OCIRepository, error) {
			return inf.Lister().OCIRepositories(namespace).Get(name)
		},
		w.flux.SourceV1().OCIRepositories,
		&sourcerec.OCIRepositoryReconciler{Env: w.env})
}

func (m *Manager) bucketController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().Buckets()
	return sourceController(m, source.BucketKind, inf.Informer(),
		func(namespace, name string) (*sourcev1.Bucket, error) {
			return inf.Lister().Buckets(namespace).Get(name)
		},
		w.flux.SourceV1().Buckets,
		&sourcerec.BucketReconciler{Env: w.env})
}
