package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/bucket"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// defaultBucketTimeout is Flux's default for spec.timeout.
const defaultBucketTimeout = 60 * time.Second

// BucketReconciler turns a Bucket into an artifact of the objects it holds
// (under spec.prefix, after the ignore rules). The revision is Flux's: the
// sha256 of the sorted "<key> <etag>" listing, so an unchanged bucket is
// only listed, not downloaded.
type BucketReconciler struct {
	// Env is shared by the source controllers; Events is set once the
	// workers start.
	*Env
}

var _ loop.Reconciler[*sourcev1.Bucket] = &BucketReconciler{}

// Reconcile implements loop.Reconciler.
func (r *BucketReconciler) Reconcile(ctx context.Context, obj *sourcev1.Bucket) loop.Result {
	ctx = netguard.WithContext(ctx, r.Guard)
	return r.run(obj, sourceState{
		suspend: obj.Spec.Suspend, interval: obj.Spec.Interval,
		request: &obj.Status.ReconcileRequestStatus, conditions: &obj.Status.Conditions,
		observedGeneration: &obj.Status.ObservedGeneration, failureReason: source.BucketOperationFailedReason,
	}, func() (string, error) { return r.reconcile(ctx, obj) })
}

// reconcile lists, fetches and stores; it returns the Ready message on
// success. On failure the last artifact stays in status and in storage.
func (r *BucketReconciler) reconcile(ctx context.Context, obj *sourcev1.Bucket) (string, error) {
	client, err := r.client(ctx, obj)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	timeout := bucketTimeout(obj)

	listCtx, cancel := context.WithTimeout(ctx, timeout)
	ix, err := client.Index(listCtx)
	cancel()
	if err != nil {
		return "", r.fetchFailed(obj, loop.Failf(bucketReason(err), "%w", err))
	}
	revision := ix.Revision()

	if a := obj.Status.Artifact; a != nil && a.Revision == revision && obj.Status.ObservedGeneration == obj.Generation && r.Store.Exists(a.Path) {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
		return storedMessage(revision), nil
	}

	dir, err := os.MkdirTemp(r.TmpDir, "bucket-")
	if err != nil {
		return "", loop.Failf(source.DirCreationFailedReason, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(dir)
	fetchCtx, cancel := context.WithTimeout(ctx, timeout)
	err = client.Download(fetchCtx, ix, dir)
	cancel()
	if err != nil {
		return "", r.fetchFailed(obj, loop.Failf(bucketReason(err), "failed to fetch the objects of revision %s: %w", revision, err))
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)

	key := artifact.Key{Kind: source.BucketKind, Namespace: obj.Namespace, Name: obj.Name}
	// The same patterns as the listing, so .sourceignore rules that
	// re-include a default exclusion hold in the archive too.
	stored, err := r.Store.Put(ctx, key, dir, artifact.ArchiveOptions{Ignore: ix.Patterns, MaxSize: r.MaxFetchSize})
	if err != nil {
		return "", storageFailed(&obj.Status.Conditions, obj.Generation, "failed to store the artifact of revision %s: %w", revision, err)
	}
	previous := obj.Status.Artifact
	obj.Status.Artifact = storedArtifact("buckets", obj.Namespace, obj.Name, revision, stored)
	obj.Status.URL = obj.Status.Artifact.URL
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	msg := storedMessage(revision)
	markStored(&obj.Status.Conditions, obj.Generation, common.SucceededReason, msg)
	if previous == nil || previous.Digest != stored.Digest {
		r.Events.Eventf(obj, corev1.EventTypeNormal, "NewArtifact", "stored artifact with %d fetched files from '%s' bucket", len(ix.Objects), obj.Spec.BucketName)
	}
	r.gc(obj, key, stored.Path)
	return msg, nil
}

// fetchFailed records err as the FetchFailed condition and returns it.
func (r *BucketReconciler) fetchFailed(obj *sourcev1.Bucket, err error) error {
	setFetchFailed(&obj.Status.Conditions, obj.Generation, err, source.BucketOperationFailedReason)
	return err
}

func bucketTimeout(obj *sourcev1.Bucket) time.Duration {
	if obj.Spec.Timeout != nil {
		if d, err := obj.Spec.Timeout.Parse(); err == nil && d > 0 {
			return d
		}
	}
	return defaultBucketTimeout
}

// bucketReason maps bucket errors to Flux's condition reasons.
func bucketReason(err error) string {
	if errors.Is(err, bucket.ErrAuthentication) {
		return source.AuthenticationFailedReason
	}
	return source.BucketOperationFailedReason
}

// unsupported says what this server cannot or will not do; retrying cannot
// help.
func (r *BucketReconciler) unsupported(obj *sourcev1.Bucket) error {
	if obj.Spec.Provider == source.AWSProvider && obj.Spec.SecretRef == nil && r.Lockdown && !r.AllowServerCloudIdentity {
		return loop.Stallf(source.BucketOperationFailedReason,
			"spec.provider: provider 'aws' without spec.secretRef would use this server's own cloud identity, "+
				"which tenants may not borrow in multi-tenant lockdown (--no-cross-namespace-refs); set spec.secretRef, "+
				"or start the server with --allow-server-cloud-identity")
	}
	switch p := obj.Spec.Provider; p {
	case "", source.GenericProvider, source.AWSProvider:
	case source.GCPProvider:
		return loop.Stallf(source.BucketOperationFailedReason,
			"spec.provider: provider '%s' is not supported yet; use provider 'generic' with the storage's S3-compatible endpoint (storage.googleapis.com with HMAC keys)", p)
	default:
		return loop.Stallf(source.BucketOperationFailedReason, "spec.provider: provider '%s' is not supported yet", p)
	}
	if obj.Spec.STS != nil {
		return loop.Stallf(source.BucketOperationFailedReason, "spec.sts: Security Token Service credentials are not supported yet; use spec.secretRef")
	}
	if obj.Spec.ServiceAccountName != "" {
		return loop.Stallf(source.BucketOperationFailedReason, "spec.serviceAccountName: workload identity is not supported yet; use spec.secretRef")
	}
	return nil
}

// secretName is "namespace/name" of a Secret that obj refers to, for messages.
func secretName(obj *sourcev1.Bucket, name string) string {
	return fmt.Sprintf("%s/%s", obj.Namespace, name)
}
