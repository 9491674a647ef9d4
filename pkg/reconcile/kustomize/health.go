package kustomize

import (
	"context"
	"fmt"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// checkHealth waits for the applied objects (spec.wait) or the objects in
// spec.healthChecks to become ready, and records the Healthy condition.
func (r *Reconciler) checkHealth(ctx context.Context, obj *kustomizev1.Kustomization, mgr *ssa.Manager, inv *kustomizev1.ResourceInventory, timeout time.Duration) error {
	var refs []ssa.Ref
	switch {
	case obj.Spec.Wait:
		for _, e := range inv.Entries {
			refs = append(refs, ssa.Ref{ID: e.ID, Version: e.Version})
		}
	case len(obj.Spec.HealthChecks) > 0:
		for _, hc := range obj.Spec.HealthChecks {
			refs = append(refs, healthCheckRef(obj, hc))
		}
	default:
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, common.HealthyCondition)
		return nil
	}
	start := time.Now()
	err := mgr.WaitForReady(ctx, refs, 2*time.Second, timeout)
	if err != nil {
		err = loop.Failf(kustomize.HealthCheckFailedReason, "health check failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
		apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: common.HealthyCondition,
			Status: metav1.ConditionFalse, Reason: kustomize.HealthCheckFailedReason, Message: err.Error(), ObservedGeneration: obj.Generation})
		return err
	}
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: common.HealthyCondition,
		Status: metav1.ConditionTrue, Reason: common.SucceededReason,
		Message: fmt.Sprintf("Health check passed in %s", time.Since(start).Round(time.Millisecond)), ObservedGeneration: obj.Generation})
	return nil
}

func healthCheckRef(obj *kustomizev1.Kustomization, hc common.NamespacedObjectKindReference) ssa.Ref {
	// No apiVersion means the core group at the cluster's preferred version.
	group, version := "", hc.APIVersion
	if i := strings.LastIndex(hc.APIVersion, "/"); i >= 0 {
		group, version = hc.APIVersion[:i], hc.APIVersion[i+1:]
	}
	ns := hc.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	return ssa.Ref{ID: ns + "_" + hc.Name + "_" + group + "_" + hc.Kind, Version: version}
}
