package kustomize

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/celhealth"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// Health checks never hold a worker. After an apply the objects are looked
// at once; if they are not ready yet the run is parked as a healthWait and
// the object requeued: each later run of the same generation, source
// revision and reconcile request only looks again, and anything newer (a
// spec change, a new revision, `flux reconcile`) drops the wait and starts a
// new run at once. Flux keeps the worker busy for the whole wait and only
// cancels it for a new revision behind a feature gate; here both are the
// behaviour.

// healthPollMax caps the delay between two looks at a pending health check.
const healthPollMax = 5 * time.Second

// healthWait is a run parked until its objects are ready.
type healthWait struct {
	// What the run was for: a newer one of any of these supersedes it.
	generation  int64
	revision    string
	requestedAt string

	// What the run did, to finish it with.
	mgr            *ssa.Manager
	refs           []ssa.Ref
	assess         ssa.StatusFunc // spec.healthCheckExprs; nil: kstatus only
	inventory      *kustomizev1.ResourceInventory
	digest         string
	originRevision string
	start          time.Time
	deadline       time.Time
	timeout        time.Duration
	polls          int
	// inputs are what the run was computed from (nil: unknown).
	inputs *runInputs
}

// healthWaits holds the parked runs by namespace/name.
type healthWaits struct {
	mu sync.Mutex
	m  map[string]*healthWait
}

func (h *healthWaits) get(key string) *healthWait {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[key]
}

func (h *healthWaits) put(key string, w *healthWait) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]*healthWait{}
	}
	h.m[key] = w
}

func (h *healthWaits) drop(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, key)
}

// current reports whether w is still the run obj asks for.
func (w *healthWait) current(obj *kustomizev1.Kustomization, sourceRevision string) bool {
	return w.generation == obj.Generation && w.revision == sourceRevision &&
		w.requestedAt == obj.Annotations[common.ReconcileRequestAnnotation]
}

// healthRefs are the objects a run waits for: everything applied
// (spec.wait) or spec.healthChecks; none when neither is set.
func healthRefs(obj *kustomizev1.Kustomization, inv *kustomizev1.ResourceInventory) []ssa.Ref {
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
	}
	return refs
}

// startHealth begins the health check of a run that applied revision. It
// returns nil when there is nothing to wait for or everything is ready,
// a HealthCheckFailed failure, or a Progressing outcome after parking the
// run.
func (r *Reconciler) startHealth(ctx context.Context, obj *kustomizev1.Kustomization, w *healthWait) error {
	if len(w.refs) == 0 {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, common.HealthyCondition)
		return nil
	}
	checks, err := healthExprs(obj)
	if err != nil {
		return err
	}
	if checks.Len() > 0 {
		w.assess = func(u *unstructured.Unstructured) (status.Status, string, bool) {
			res, ok := checks.Assess(u)
			return res.Status, res.Message, ok
		}
	}
	w.deadline = w.start.Add(w.timeout)
	return r.lookAtHealth(ctx, obj, w)
}

// healthExprs compiles spec.healthCheckExprs. One that does not compile
// stalls the Kustomization naming the entry, as in Flux (the API refuses
// new ones; this catches objects stored before it did).
func healthExprs(obj *kustomizev1.Kustomization) (*celhealth.Checks, error) {
	if len(obj.Spec.HealthCheckExprs) == 0 {
		return nil, nil
	}
	checks := make([]celhealth.Check, len(obj.Spec.HealthCheckExprs))
	for i, hc := range obj.Spec.HealthCheckExprs {
		checks[i] = celhealth.Check{APIVersion: hc.APIVersion, Kind: hc.Kind,
			Current: hc.Current, InProgress: hc.InProgress, Failed: hc.Failed}
	}
	c, err := celhealth.Compile(checks)
	if err != nil {
		return nil, loop.Stallf(common.InvalidCELExpressionReason, "spec.%v", err)
	}
	return c, nil
}

// continueHealth looks again at the objects of a parked run.
func (r *Reconciler) continueHealth(ctx context.Context, obj *kustomizev1.Kustomization, w *healthWait) error {
	// The parked run's status may not have been written (a conflict);
	// what it applied is what the inventory must say.
	obj.Status.Inventory = w.inventory
	obj.Status.LastAttemptedRevision = w.revision
	return r.lookAtHealth(ctx, obj, w)
}

func (r *Reconciler) lookAtHealth(ctx context.Context, obj *kustomizev1.Kustomization, w *healthWait) error {
	key := obj.Namespace + "/" + obj.Name
	// One look is bounded by what is left of the run's timeout (at least a
	// little, so the last look can still succeed).
	lookCtx, cancel := context.WithTimeout(ctx, max(time.Until(w.deadline), 5*time.Second))
	res, err := w.mgr.CheckReady(lookCtx, w.refs, w.assess)
	cancel()
	took := time.Since(w.start).Round(time.Millisecond)
	switch {
	case err == nil && res.Ready:
		r.healthWaits.drop(key)
		setHealthy(obj, metav1.ConditionTrue, common.SucceededReason, fmt.Sprintf("Health check passed in %s", took))
		return nil
	case err == nil && len(res.Failed) > 0:
		r.healthWaits.drop(key)
		return healthFailed(obj, fmt.Errorf("health check failed after %s: failed objects: [%s]", took, strings.Join(res.Failed, ", ")))
	case time.Now().After(w.deadline):
		r.healthWaits.drop(key)
		if err != nil {
			return healthFailed(obj, fmt.Errorf("health check failed after %s: %w", took, err))
		}
		return healthFailed(obj, fmt.Errorf("health check failed after %s: timeout waiting for: [%s]", took, strings.Join(res.Pending, ", ")))
	}
	// Not yet: park the run and look again soon, sooner at first.
	w.polls++
	next := min(time.Duration(w.polls)*time.Second, healthPollMax, time.Until(w.deadline)+100*time.Millisecond)
	r.healthWaits.put(key, w)
	msg := fmt.Sprintf("Running health checks for revision %s with a timeout of %s", w.revision, w.timeout)
	setHealthy(obj, metav1.ConditionUnknown, common.ProgressingReason, msg)
	return loop.Progressf(next, "%s", msg)
}

func healthFailed(obj *kustomizev1.Kustomization, err error) error {
	setHealthy(obj, metav1.ConditionFalse, kustomize.HealthCheckFailedReason, err.Error())
	return loop.Failf(kustomize.HealthCheckFailedReason, "%v", err)
}

func setHealthy(obj *kustomizev1.Kustomization, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: common.HealthyCondition,
		Status: status, Reason: reason, Message: msg, ObservedGeneration: obj.Generation})
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
