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

func (m *Manager) bucketController(w sourceWorkers) (Controller, error) {
	inf := w.factory.Source().V1().Buckets()
	return loop.New(loop.Config[*sourcev1.Bucket]{
		Kind:     source.BucketKind,
		Workers:  m.opts.Concurrency,
		Informer: inf.Informer(),
		Get: func(namespace, name string) (*sourcev1.Bucket, error) {
			return inf.Lister().Buckets(namespace).Get(name)
		},
		UpdateStatus: func(ctx context.Context, obj *sourcev1.Bucket) error {
			_, err := w.flux.SourceV1().Buckets(obj.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: "source-controller"})
			return err
		},
		Reconciler: &sourcerec.BucketReconciler{Env: w.env},
		OnDelete: func(namespace, name string) {
			_ = m.opts.Store.Delete(artifact.Key{Kind: source.BucketKind, Namespace: namespace, Name: name})
		},
		Metrics: m.metrics,
	})
}
