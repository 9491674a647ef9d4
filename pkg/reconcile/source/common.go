package source

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// handleReconcileRequest records that the reconcile.fluxcd.io/requestedAt
// annotation (set by `flux reconcile` or the /reconcile subresource) was
// handled by this run.
func handleReconcileRequest(obj interface{ GetAnnotations() map[string]string }, status *common.ReconcileRequestStatus) {
	if v, ok := obj.GetAnnotations()[common.ReconcileRequestAnnotation]; ok {
		status.LastHandledReconcileAt = v
	}
}

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
	handleReconcileRequest(obj, s.request)
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
