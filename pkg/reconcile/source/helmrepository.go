package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// HelmRepositoryReconciler turns a HelmRepository of type default into an
// artifact of its index. Flux stores index.yaml itself; this server's store
// keeps tar.gz archives, so the artifact is a tar.gz holding one file,
// index.yaml (as fetched). The revision is Flux's: the sha256 of the index
// with its entries sorted.
//
// A HelmRepository of type oci is a static object in Flux (since
// source-controller v1.2): nothing is fetched, no artifact is produced and
// the controller leaves it without status; HelmCharts read its spec.
type HelmRepositoryReconciler struct {
	// Env is shared by the source controllers; Events is set once the
	// workers start.
	*Env
}

var _ loop.Reconciler[*sourcev1.HelmRepository] = &HelmRepositoryReconciler{}

// Reconcile implements loop.Reconciler.
func (r *HelmRepositoryReconciler) Reconcile(ctx context.Context, obj *sourcev1.HelmRepository) loop.Result {
	ctx = netguard.WithContext(ctx, r.Guard)
	if obj.Spec.Type == source.HelmRepositoryTypeOCI {
		// As Flux's migration to a static object: drop what a former
		// default-type life left behind, then never requeue.
		if obj.Spec.Suspend {
			return loop.Result{}
		}
		_ = r.Store.Delete(helmRepositoryKey(obj))
		obj.Status = sourcev1.HelmRepositoryStatus{}
		return loop.Result{}
	}
	return r.run(obj, sourceState{
		suspend: obj.Spec.Suspend, interval: obj.Spec.Interval,
		request: &obj.Status.ReconcileRequestStatus, conditions: &obj.Status.Conditions,
		observedGeneration: &obj.Status.ObservedGeneration, failureReason: source.IndexationFailedReason,
	}, func() (string, error) { return r.reconcile(ctx, obj) })
}

func helmRepositoryKey(obj *sourcev1.HelmRepository) artifact.Key {
	return artifact.Key{Kind: source.HelmRepositoryKind, Namespace: obj.Namespace, Name: obj.Name}
}

// reconcile fetches the index and stores it when its revision changed; it
// returns the Ready message on success. On failure the last artifact stays.
func (r *HelmRepositoryReconciler) reconcile(ctx context.Context, obj *sourcev1.HelmRepository) (string, error) {
	client, err := r.helmRepository(ctx, obj.Namespace, &obj.Spec)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	// The index is stored as served (all of its fields, not only those
	// this server reads), as index.yaml in the archive.
	dir, err := os.MkdirTemp(r.TmpDir, "helmrepo-")
	if err != nil {
		return "", loop.Failf(source.StorageOperationFailedCondition, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(dir)
	index, err := client.FetchIndex(ctx, filepath.Join(dir, helm.IndexFile))
	if err != nil {
		return "", r.fetchFailed(obj, helmError(err, "failed to fetch Helm repository index from '%s'", obj.Spec.URL))
	}
	revision := helm.Revision(index)
	if a := obj.Status.Artifact; a != nil && a.Revision == revision && obj.Status.ObservedGeneration == obj.Generation && r.Store.Exists(a.Path) {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
		return storedMessage(revision), nil
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)

	key := helmRepositoryKey(obj)
	stored, err := r.Store.Put(ctx, key, dir, artifact.ArchiveOptions{MaxSize: r.MaxFetchSize})
	if err != nil {
		return "", storageFailed(&obj.Status.Conditions, obj.Generation, "failed to store the index of revision %s: %w", revision, err)
	}
	previous := obj.Status.Artifact
	obj.Status.Artifact = storedArtifact("helmrepositories", obj.Namespace, obj.Name, revision, stored)
	obj.Status.URL = obj.Status.Artifact.URL
	msg := storedMessage(revision)
	markStored(&obj.Status.Conditions, obj.Generation, common.SucceededReason, msg)
	if previous == nil || previous.Revision != revision {
		r.Events.Eventf(obj, corev1.EventTypeNormal, "NewArtifact", "stored fetched index of size %d from '%s'", stored.Size, obj.Spec.URL)
	}
	r.gc(obj, key, stored.Path)
	return msg, nil
}

func (r *HelmRepositoryReconciler) fetchFailed(obj *sourcev1.HelmRepository, err error) error {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: source.FetchFailedCondition, Status: metav1.ConditionTrue,
		Reason: reasonOf(err, source.IndexationFailedReason), Message: err.Error(), ObservedGeneration: obj.Generation})
	return err
}

// helmError maps pkg/helm errors to loop errors with Flux's reasons.
func helmError(err error, format string, args ...interface{}) error {
	if errors.Is(err, helm.ErrAuthentication) {
		return loop.Failf(source.AuthenticationFailedReason, format+": %w", append(args, err)...)
	}
	return loop.Failf(source.IndexationFailedReason, format+": %w", append(args, err)...)
}
