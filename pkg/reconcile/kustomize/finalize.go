package kustomize

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// finalize prunes the applied objects when the deletion policy says so and
// releases the finalizer. A failure is reported but never keeps the
// Kustomization from going away (as in Flux).
func (r *Reconciler) finalize(ctx context.Context, obj *kustomizev1.Kustomization) loop.Result {
	if !hasFinalizer(obj) {
		return loop.Result{}
	}
	policy := obj.Spec.DeletionPolicy
	if policy == "" {
		policy = kustomize.DeletionPolicyMirrorPrune
	}
	prune := policy == kustomize.DeletionPolicyDelete || policy == kustomize.DeletionPolicyWaitForTermination ||
		(policy == kustomize.DeletionPolicyMirrorPrune && obj.Spec.Prune)
	if prune && !obj.Spec.Suspend && obj.Status.Inventory != nil && len(obj.Status.Inventory.Entries) > 0 {
		if err := r.pruneAll(ctx, obj, policy); err != nil {
			r.Events.Eventf(obj, corev1.EventTypeWarning, kustomize.PruneFailedReason, "pruning on deletion failed: %v", err)
		}
	}
	var kept []string
	for _, f := range obj.Finalizers {
		if f != Finalizer {
			kept = append(kept, f)
		}
	}
	obj.Finalizers = kept
	if _, err := r.UpdateFinalizers(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return loop.Result{Err: loop.Failf(kustomize.ReconciliationFailedReason, "removing finalizer: %v", err)}
	}
	return loop.Result{}
}

func (r *Reconciler) pruneAll(ctx context.Context, obj *kustomizev1.Kustomization, policy string) error {
	// Bounded like a run, so an unreachable target cannot hold the worker.
	ctx, cancel := context.WithTimeout(ctx, r.timeout(obj))
	defer cancel()
	mgr, err := r.manager(ctx, obj)
	if err != nil {
		return err
	}
	refs := diffInventory(obj.Status.Inventory, nil)
	changes, err := mgr.Delete(ctx, refs, ssa.DeleteOptions{Labels: ownerLabels(obj)})
	r.changeEvent(obj, "", changes)
	if err != nil {
		return err
	}
	if policy == kustomize.DeletionPolicyWaitForTermination {
		return mgr.WaitForTermination(ctx, refs, 2*time.Second, r.timeout(obj))
	}
	return nil
}
