package loop

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// Summary is the outcome of one reconciliation, as Flux reports it.
type Summary struct {
	// Err is what the reconciler returned (nil on success).
	Err error
	// SuccessReason and SuccessMessage describe Ready=True.
	SuccessReason, SuccessMessage string
	// FailureReason is used for errors that carry no reason of their own.
	FailureReason string
	// Generation is the generation that was reconciled.
	Generation int64
}

// Summarize sets Ready, Reconciling and Stalled on conds from s, the way
// Flux's summarizer does: success clears Reconciling and Stalled; a stall
// sets Stalled=True; a run still in progress sets Ready=Unknown and
// Reconciling=True (Progressing); a wait or failure keeps Reconciling=True
// with ProgressingWithRetry so kstatus shows the object as in progress.
func Summarize(conds *[]metav1.Condition, s Summary) {
	set := func(t string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(conds, metav1.Condition{
			Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: s.Generation,
		})
	}
	outcome, reason := Classify(s.Err, s.FailureReason)
	switch outcome {
	case Succeeded:
		set(common.ReadyCondition, metav1.ConditionTrue, s.SuccessReason, s.SuccessMessage)
		meta.RemoveStatusCondition(conds, common.ReconcilingCondition)
		meta.RemoveStatusCondition(conds, common.StalledCondition)
	case InProgress:
		set(common.ReadyCondition, metav1.ConditionUnknown, reason, s.Err.Error())
		set(common.ReconcilingCondition, metav1.ConditionTrue, reason, s.Err.Error())
		meta.RemoveStatusCondition(conds, common.StalledCondition)
	case Stalled:
		set(common.ReadyCondition, metav1.ConditionFalse, reason, s.Err.Error())
		set(common.StalledCondition, metav1.ConditionTrue, reason, s.Err.Error())
		meta.RemoveStatusCondition(conds, common.ReconcilingCondition)
	default:
		set(common.ReadyCondition, metav1.ConditionFalse, reason, s.Err.Error())
		set(common.ReconcilingCondition, metav1.ConditionTrue, common.ProgressingWithRetryReason, s.Err.Error())
		meta.RemoveStatusCondition(conds, common.StalledCondition)
	}
}

// RecordReconcileRequest records that the reconcile.fluxcd.io/requestedAt
// annotation (set by `flux reconcile` or the /reconcile subresource) was
// handled by this run.
func RecordReconcileRequest(obj interface{ GetAnnotations() map[string]string }, status *common.ReconcileRequestStatus) {
	if v, ok := obj.GetAnnotations()[common.ReconcileRequestAnnotation]; ok {
		status.LastHandledReconcileAt = v
	}
}

// ReadyAt reports whether an object is Ready for its current generation:
// what a dependent waits for (Flux's dependsOn readiness).
func ReadyAt(generation, observedGeneration int64, conds []metav1.Condition) bool {
	return generation == observedGeneration && meta.IsStatusConditionTrue(conds, common.ReadyCondition)
}
