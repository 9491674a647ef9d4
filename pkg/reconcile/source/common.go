package source

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// artifactURL is where a user (with RBAC on the artifact subresource) can
// download an object's artifact through kube-apiserver.
func artifactURL(resource, namespace, name string) string {
	return fmt.Sprintf("/apis/source.toolkit.fluxcd.io/v1/namespaces/%s/%s/%s/artifact", namespace, resource, name)
}

func reasonOf(err error, fallback string) string {
	_, reason := loop.Classify(err, fallback)
	if reason == "" {
		return fallback
	}
	return reason
}

// run is what every source kind does around its own reconcile function:
// honour suspend, record the handled reconcile request, summarise Ready /
// Reconciling / Stalled from the outcome, observe the generation (on
// success or stall only), emit a
// Warning event on failure, and requeue at the interval.
func (e *Env) run(obj sourceObject, s sourceState, reconcile func() (string, error)) loop.Result {
	if s.suspend {
		return loop.Result{}
	}
	interval, err := s.interval.Parse()
	if err != nil {
		// Validation makes this impossible; be safe.
		interval = 10 * time.Minute
	}
	loop.RecordReconcileRequest(obj, s.request)
	if s.successReason == "" {
		s.successReason = common.SucceededReason
	}
	msg, err := reconcile()
	loop.Summarize(s.conditions, loop.Summary{
		Err: err, Generation: obj.GetGeneration(),
		SuccessReason: s.successReason, SuccessMessage: msg,
		FailureReason: s.failureReason,
	})
	// The generation counts as observed once it was fully handled (or can
	// not be until it changes), as in Flux: after a transient failure the
	// next run must not skip as if the new spec had been built.
	if outcome, _ := loop.Classify(err, ""); outcome == loop.Succeeded || outcome == loop.Stalled {
		*s.observedGeneration = obj.GetGeneration()
	}
	if err != nil {
		e.Events.Event(obj, corev1.EventTypeWarning, reasonOf(err, s.failureReason), err.Error())
	}
	return loop.Result{Err: err, RequeueAfter: interval}
}

// sourceObject is a source kind's object.
type sourceObject interface {
	runtime.Object
	GetGeneration() int64
	GetAnnotations() map[string]string
}

// sourceState points run at the fields it reads and writes.
type sourceState struct {
	suspend            bool
	interval           common.Duration
	request            *common.ReconcileRequestStatus
	conditions         *[]metav1.Condition
	observedGeneration *int64
	// successReason is Ready's reason on success (default Succeeded).
	successReason string
	// failureReason is reported for errors that carry no reason.
	failureReason string
}

// getSecret reads a Secret an object refers to in field (e.g.
// "spec.secretRef"); failures carry reason and never the Secret's data.
func (e *Env) getSecret(ctx context.Context, namespace, name, field, reason string) (*corev1.Secret, error) {
	secret, err := e.Secret(ctx, namespace, name)
	switch {
	case apierrors.IsNotFound(err) || (err == nil && secret == nil):
		return nil, loop.Failf(reason, "secret '%s/%s' (%s) not found", namespace, name, field)
	case err != nil:
		return nil, loop.Failf(reason, "failed to get secret '%s/%s' (%s): %w", namespace, name, field, err)
	}
	return secret, nil
}

// setFetchFailed records FetchFailed=True with err's reason (or fallback).
func setFetchFailed(conds *[]metav1.Condition, generation int64, err error, fallbackReason string) {
	apimeta.SetStatusCondition(conds, metav1.Condition{Type: source.FetchFailedCondition, Status: metav1.ConditionTrue,
		Reason: reasonOf(err, fallbackReason), Message: err.Error(), ObservedGeneration: generation})
}

// storageFailed records a failed store as StorageOperationFailed (reason
// ArchiveOperationFailed) and returns it as a Failure.
func storageFailed(conds *[]metav1.Condition, generation int64, format string, args ...interface{}) error {
	err := loop.Failf(source.ArchiveOperationFailedReason, format, args...)
	apimeta.SetStatusCondition(conds, metav1.Condition{Type: source.StorageOperationFailedCondition, Status: metav1.ConditionTrue,
		Reason: source.ArchiveOperationFailedReason, Message: err.Error(), ObservedGeneration: generation})
	return err
}

// storedArtifact is status.artifact for what the store just wrote.
func storedArtifact(resource, namespace, name, revision string, stored *artifact.Artifact) *common.Artifact {
	size := stored.Size
	return &common.Artifact{
		Path:           stored.Path,
		URL:            artifactURL(resource, namespace, name),
		Revision:       revision,
		Digest:         stored.Digest,
		LastUpdateTime: metav1.NewTime(stored.LastUpdateTime),
		Size:           &size,
	}
}

// markStored sets ArtifactInStorage=True and clears StorageOperationFailed.
func markStored(conds *[]metav1.Condition, generation int64, reason, msg string) {
	apimeta.RemoveStatusCondition(conds, source.StorageOperationFailedCondition)
	apimeta.SetStatusCondition(conds, metav1.Condition{Type: source.ArtifactInStorageCondition, Status: metav1.ConditionTrue,
		Reason: reason, Message: msg, ObservedGeneration: generation})
}

// gc drops an object's older artifacts; a failure only warns (the next run
// retries).
func (e *Env) gc(obj runtime.Object, key artifact.Key, keep string) {
	if _, err := e.Store.GC(key, keep); err != nil {
		e.Events.Eventf(obj, corev1.EventTypeWarning, source.StorageOperationFailedCondition, "garbage collection failed: %v", err)
	}
}
