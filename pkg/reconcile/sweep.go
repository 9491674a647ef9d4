package reconcile

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/informers/externalversions"
)

// sweepOrphanArtifacts deletes the artifacts of objects that no longer
// exist: objects deleted while the server was down never got their delete
// event. It waits for the informer caches, so an object is only taken for
// gone once the cache has seen every object.
func sweepOrphanArtifacts(ctx context.Context, store *artifact.Store, factory externalversions.SharedInformerFactory) {
	src := factory.Source().V1()
	kinds := []struct {
		kind   string
		synced cache.InformerSynced
		exists func(namespace, name string) error
	}{
		{source.GitRepositoryKind, src.GitRepositories().Informer().HasSynced, func(ns, n string) error {
			_, err := src.GitRepositories().Lister().GitRepositories(ns).Get(n)
			return err
		}},
		{source.OCIRepositoryKind, src.OCIRepositories().Informer().HasSynced, func(ns, n string) error {
			_, err := src.OCIRepositories().Lister().OCIRepositories(ns).Get(n)
			return err
		}},
		{source.BucketKind, src.Buckets().Informer().HasSynced, func(ns, n string) error {
			_, err := src.Buckets().Lister().Buckets(ns).Get(n)
			return err
		}},
		{source.HelmRepositoryKind, src.HelmRepositories().Informer().HasSynced, func(ns, n string) error {
			_, err := src.HelmRepositories().Lister().HelmRepositories(ns).Get(n)
			return err
		}},
		{source.HelmChartKind, src.HelmCharts().Informer().HasSynced, func(ns, n string) error {
			_, err := src.HelmCharts().Lister().HelmCharts(ns).Get(n)
			return err
		}},
	}
	logger := klog.FromContext(ctx)
	for _, k := range kinds {
		if !cache.WaitForCacheSync(ctx.Done(), k.synced) {
			return
		}
		keys, err := store.Keys(k.kind)
		if err != nil {
			logger.Error(err, "Listing stored artifacts", "kind", k.kind)
			continue
		}
		for _, key := range keys {
			if err := k.exists(key.Namespace, key.Name); !apierrors.IsNotFound(err) {
				continue
			}
			if err := store.Delete(key); err != nil {
				logger.Error(err, "Deleting the artifacts of a deleted object", "kind", k.kind, "namespace", key.Namespace, "name", key.Name)
				continue
			}
			logger.Info("Deleted the artifacts of an object deleted while the server was down", "kind", k.kind, "namespace", key.Namespace, "name", key.Name)
		}
	}
}
