// Package kustomize reconciles Kustomizations the way Flux's
// kustomize-controller does: build the source artifact with kustomize,
// substitute variables, server-side apply the result to the target cluster,
// record the inventory, prune what left it and check health.
package kustomize

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/ignore"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// Finalizer is Flux's finalizer: it lets the worker prune the applied
// objects before the Kustomization goes away.
const Finalizer = kustomize.Finalizer

// FieldManager is the server-side apply field manager of applied objects;
// it is Flux's, so objects Flux applied before are taken over cleanly.
const FieldManager = "kustomize-controller"

// historyLimit is how many applied states status.history keeps.
const historyLimit = 5

// Source is what the worker needs of a source object.
type Source struct {
	// Artifact is the source's status.artifact; nil when it has none yet.
	Artifact *common.Artifact
	// Ready reports the source's Ready condition status and message.
	Ready   metav1.ConditionStatus
	Message string
}

// Options are the server-wide settings of the Kustomization worker.
type Options struct {
	// NoCrossNamespaceRefs refuses sourceRef and dependsOn entries in
	// another namespace (Flux's --no-cross-namespace-refs).
	NoCrossNamespaceRefs bool
	// AllowRemoteBases lets kustomizations load remote bases: git
	// repositories cloned into TmpDir and http(s) files, each at most
	// MaxFetchSize, through Guard.
	AllowRemoteBases bool
	// TmpDir is where remote bases are cloned (each into a private
	// directory, removed after loading); "" is the system's.
	TmpDir string
	// MaxFetchSize caps one fetch of a remote base (bytes).
	MaxFetchSize int64
	// Fetcher downloads the artifacts of ExternalArtifacts published by
	// other servers, and caches them by digest; nil refuses them.
	Fetcher *artifact.Fetcher
	// AllowKubeConfigExec lets kubeconfigs from spec.kubeConfig run exec
	// credential plugins (Flux's --insecure-kubeconfig-exec).
	AllowKubeConfigExec bool
	// DefaultServiceAccount is impersonated when spec.serviceAccountName is
	// empty (Flux's --default-service-account); empty uses our identity.
	DefaultServiceAccount string
	// MaxArtifactSize caps an unpacked artifact held in memory for a build
	// (bytes), and MaxArtifactFiles its entries.
	MaxArtifactSize  int64
	MaxArtifactFiles int
	// BuildMemory, when set, bounds the memory that artifacts unpacked for
	// builds (by workers and /diff together) may take at once; see
	// buildWeight.
	BuildMemory *semaphore.Weighted
	// DependencyRequeue is how soon a Kustomization waiting for a
	// dependency or a source artifact looks again.
	DependencyRequeue time.Duration
	// Guard refuses connections to remote clusters (spec.kubeConfig),
	// external artifacts and remote bases in the networks the server must
	// not reach for tenants; nil refuses nothing. The host cluster is
	// never checked.
	Guard *netguard.Guard
}

// Reconciler reconciles Kustomizations.
type Reconciler struct {
	Options
	// GetSource reads a source object from the informer cache; NotFound
	// when it does not exist.
	GetSource func(kind, namespace, name string) (*Source, error)
	// GetKustomization reads a Kustomization from the informer cache.
	GetKustomization func(namespace, name string) (*kustomizev1.Kustomization, error)
	// GetHelmRelease reads a HelmRelease dependency from the informer
	// cache; nil refuses HelmRelease dependencies.
	GetHelmRelease func(namespace, name string) (*helmv2.HelmRelease, error)
	// UpdateFinalizers writes obj's finalizers and returns the object as
	// stored.
	UpdateFinalizers func(ctx context.Context, obj *kustomizev1.Kustomization) (*kustomizev1.Kustomization, error)
	// Store holds the source artifacts.
	Store *artifact.Store
	// Host reads ConfigMaps and Secrets in the host cluster.
	Host kubernetes.Interface
	// Targets gives the apply manager of a Kustomization's target cluster
	// and identity.
	Targets *target.Targets
	// UpdateStatus writes obj's status and returns the object as stored,
	// for the in-progress status of a long run; nil writes none.
	UpdateStatus func(ctx context.Context, obj *kustomizev1.Kustomization) (*kustomizev1.Kustomization, error)
	// Events records Kubernetes Events.
	Events record.EventRecorder
	// Watches watch the applied objects of every target cluster, to correct
	// drift at once and to skip runs that would change nothing; nil
	// watches nothing (every run is a full one, drift is corrected at the
	// interval). Their handler must be ObjectChanged.
	Watches AppliedObjects
	// Enqueue asks for a run of a Kustomization now (drift was seen).
	Enqueue func(namespace, name string)

	// healthWaits are the runs parked until their objects are ready.
	healthWaits healthWaits
	// drift records what each Kustomization applied.
	drift driftTracker
}

// Reconcile implements loop.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, obj *kustomizev1.Kustomization) loop.Result {
	ctx = netguard.WithContext(ctx, r.Guard)
	key := obj.Namespace + "/" + obj.Name
	if obj.DeletionTimestamp != nil {
		r.healthWaits.drop(key)
		r.release(key)
		return r.finalize(ctx, obj)
	}
	if !hasFinalizer(obj) {
		obj.Finalizers = append(obj.Finalizers, Finalizer)
		updated, err := r.UpdateFinalizers(ctx, obj)
		if err != nil {
			return loop.Result{Err: loop.Failf(kustomize.ReconciliationFailedReason, "adding finalizer: %v", err)}
		}
		// Keep the status we are about to write consistent with the stored
		// object, or the status write would conflict.
		obj.ObjectMeta = updated.ObjectMeta
	}
	if obj.Spec.Suspend {
		r.healthWaits.drop(key)
		r.release(key)
		return loop.Result{}
	}
	requested := obj.Annotations[common.ReconcileRequestAnnotation]
	newRequest := requested != "" && requested != obj.Status.LastHandledReconcileAt
	loop.RecordReconcileRequest(obj, &obj.Status.ReconcileRequestStatus)
	interval, err := obj.Spec.Interval.Parse()
	if err != nil {
		interval = 10 * time.Minute
	}
	retry := interval
	if obj.Spec.RetryInterval != nil {
		if d, err := obj.Spec.RetryInterval.Parse(); err == nil && d > 0 {
			retry = d
		}
	}

	previousInventory := obj.Status.Inventory
	var run runResult
	if w := r.healthWaits.get(key); w != nil && w.current(obj, r.sourceRevisionOf(obj)) && !r.drift.drifted(key) {
		run = r.finishRun(obj, w, r.continueHealth(ctx, obj, w))
	} else {
		r.healthWaits.drop(key)
		if r.unchanged(ctx, obj) {
			// Idle: the status stays exactly as it is.
			return loop.Result{RequeueAfter: interval}
		}
		// Taken before the record is dropped: what the last apply left.
		last, _ := r.drift.snapshot(key)
		// Until this run has applied, what the last one did is no trigger;
		// its watches linger for a while (Use claims them back), and stop
		// if this run never gets to apply (e.g. its kubeconfig is gone).
		r.release(key)
		// Every run has a deadline: spec.timeout, or the interval.
		timeout := r.timeout(obj)
		runCtx, cancel := context.WithTimeout(ctx, timeout)
		run = r.reconcile(runCtx, obj, newRequest, last)
		if outcome, reason := loop.Classify(run.err, kustomize.ReconciliationFailedReason); outcome == loop.Failed && runCtx.Err() != nil && ctx.Err() == nil {
			run.err = loop.Failf(reason, "reconciliation did not finish within its timeout of %s: %v", timeout, run.err)
		}
		cancel()
	}

	if tooLarge := inventoryTooLarge(obj); tooLarge != nil {
		// What cannot be stored is not recorded: the previous inventory
		// stays (nothing is pruned on its account) and the run stalls
		// until the source changes.
		obj.Status.Inventory = previousInventory
		run.err = tooLarge
	}
	err = run.err
	loop.Summarize(&obj.Status.Conditions, loop.Summary{
		Err: err, Generation: obj.Generation,
		SuccessReason: kustomize.ReconciliationSucceededReason, SuccessMessage: run.msg,
		FailureReason: kustomize.ReconciliationFailedReason,
	})
	outcome, reason := loop.Classify(err, kustomize.ReconciliationFailedReason)
	if outcome == loop.Succeeded || outcome == loop.Stalled {
		obj.Status.ObservedGeneration = obj.Generation
	}
	if run.digest != "" && outcome != loop.InProgress {
		status := kustomize.ReconciliationSucceededReason
		if err != nil {
			status = reason
		}
		recordHistory(&obj.Status, run.digest, obj.Status.LastAttemptedRevision, status, run.start, time.Since(run.start))
	}
	if err != nil {
		if outcome != loop.Waited && outcome != loop.InProgress {
			r.event(obj, corev1.EventTypeWarning, reason, err.Error())
		}
		return loop.Result{Err: err, RequeueAfter: retry}
	}
	if run.inputs != nil {
		r.drift.complete(key, *run.inputs, statusHash(&obj.Status))
	}
	return loop.Result{RequeueAfter: interval}
}

// target is obj's target cluster and identity.
func (r *Reconciler) target(ctx context.Context, obj *kustomizev1.Kustomization) (*target.Target, error) {
	return r.Targets.For(ctx, target.Ref{Namespace: obj.Namespace, KubeConfig: obj.Spec.KubeConfig, ServiceAccountName: obj.Spec.ServiceAccountName})
}

// manager is the apply manager of obj's target cluster and identity.
func (r *Reconciler) manager(ctx context.Context, obj *kustomizev1.Kustomization) (*ssa.Manager, error) {
	t, err := r.target(ctx, obj)
	if err != nil {
		return nil, err
	}
	return t.Manager, nil
}

// keepIgnored leaves the paths of spec.ignore to whoever wrote them.
func keepIgnored(obj *kustomizev1.Kustomization) func(*unstructured.Unstructured) []string {
	rules := ignoreRules(obj)
	if len(rules) == 0 {
		return nil
	}
	return func(u *unstructured.Unstructured) []string { return ignore.PathsFor(u, rules) }
}

// Forget drops what the reconciler keeps of a Kustomization that is gone.
func (r *Reconciler) Forget(namespace, name string) {
	r.healthWaits.drop(namespace + "/" + name)
	r.release(namespace + "/" + name)
}

// runResult is the outcome of one run: Ready's message on success, the
// digest of the built manifests once they were built, and when the run
// began (a run parked for its health check began in an earlier call).
type runResult struct {
	msg, digest string
	start       time.Time
	err         error
	// inputs are what a run that applied was computed from; nil when
	// unknown.
	inputs *runInputs
}

// sourceRevisionOf is the revision of obj's source artifact ("" when it
// has none).
func (r *Reconciler) sourceRevisionOf(obj *kustomizev1.Kustomization) string {
	ref := obj.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	return r.sourceRevision(ref.Kind, ns, ref.Name)
}

// reconcile does one run: build, apply, prune, and start the health check.
// last is what the previous apply left (empty when nothing is recorded).
func (r *Reconciler) reconcile(ctx context.Context, obj *kustomizev1.Kustomization, newRequest bool, last applyRecord) (res runResult) {
	start := time.Now()
	fail := func(digest string, err error) runResult { return runResult{digest: digest, start: start, err: err} }
	// No value decrypted for this run may reach a status, an event or a
	// log through an error message.
	var dec *decrypt.Decryptor
	defer func() { res.err = redactErr(res.err, dec) }()
	if err := checkDecryption(obj); err != nil {
		return fail("", err)
	}
	if _, err := healthExprs(obj); err != nil {
		return fail("", err)
	}
	if kc := obj.Spec.KubeConfig; kc != nil && kc.SecretRef == nil && kc.ConfigMapRef != nil {
		return fail("", loop.Stallf(kustomize.ReconciliationFailedReason,
			"spec.kubeConfig.configMapRef: workload identity kubeconfigs are not supported by this server; use secretRef"))
	}
	if err := r.checkDependencies(obj); err != nil {
		return fail("", err)
	}
	src, srcKey, err := r.source(obj)
	if err != nil {
		return fail("", err)
	}
	revision := src.Artifact.Revision
	// Read before the build: an input that changes during the run makes
	// the next one a full run.
	var inputs *runInputs
	if in, err := r.inputsOf(ctx, obj, src.Artifact); err == nil {
		inputs = &in
	}
	timeout := r.timeout(obj)
	r.markProgressing(ctx, obj, revision, timeout, newRequest)
	obj.Status.LastAttemptedRevision = revision

	objs, dec, err := r.build(ctx, obj, srcKey, src.Artifact)
	if err != nil {
		return fail("", err)
	}
	digest := manifestsDigest(objs)

	tg, err := r.target(ctx, obj)
	if err != nil {
		return fail(digest, err)
	}
	mgr := tg.Manager

	changes, applyErr := mgr.ApplyAllStaged(ctx, objs, ssa.ApplyOptions{
		Force: obj.Spec.Force, WaitInterval: 500 * time.Millisecond, WaitTimeout: timeout,
		// New manifests are validated in full before anything is written,
		// so a broken revision leaves the last good state in the cluster.
		// Re-applying the last good manifests (drift correction) and a
		// first apply, with nothing to protect, skip that round trip.
		DryRunFirst: hasInventory(obj) && digest != lastAppliedDigest(&obj.Status),
		Owned:       ownedIDs(obj.Status.Inventory),
		Keep:        keepIgnored(obj),
		Current:     r.currentVersion(last, r.watchKey(obj, tg)),
	})
	newInventory := inventoryOf(changes)
	oldInventory := obj.Status.Inventory
	if applyErr != nil {
		// What was applied is ours now: keep it in the inventory so a later
		// prune can find it, but prune nothing until an apply succeeds.
		obj.Status.Inventory = mergeInventories(newInventory, oldInventory)
		r.changeEvent(obj, revision, changes)
		return fail(digest, loop.Failf(kustomize.ReconciliationFailedReason, "%v", applyErr))
	}
	obj.Status.Inventory = newInventory
	if obj.Spec.Prune {
		stale := diffInventory(oldInventory, newInventory)
		deleted, err := mgr.Delete(ctx, stale, ssa.DeleteOptions{Labels: ownerLabels(obj)})
		changes = append(changes, deleted...)
		if err != nil {
			obj.Status.Inventory = mergeInventories(newInventory, remaining(stale, deleted))
			r.changeEvent(obj, revision, changes)
			return fail(digest, loop.Failf(kustomize.PruneFailedReason, "%v", err))
		}
	}
	r.changeEvent(obj, revision, changes)
	refs := healthRefs(obj, newInventory)
	r.recordApply(ctx, obj, tg, changes, newInventory, refs)

	w := &healthWait{
		generation: obj.Generation, revision: revision, requestedAt: obj.Annotations[common.ReconcileRequestAnnotation],
		mgr: mgr, refs: refs, inventory: newInventory, digest: digest,
		originRevision: src.Artifact.Metadata["org.opencontainers.image.revision"],
		start:          start, timeout: timeout, inputs: inputs,
	}
	return r.finishRun(obj, w, r.startHealth(ctx, obj, w))
}

// finishRun records a run whose health check ended (or is still going,
// when healthErr is Progressing).
func (r *Reconciler) finishRun(obj *kustomizev1.Kustomization, w *healthWait, healthErr error) runResult {
	res := runResult{digest: w.digest, start: w.start, err: healthErr, inputs: w.inputs}
	if healthErr != nil {
		return res
	}
	if w.revision != obj.Status.LastAppliedRevision {
		r.event(obj, corev1.EventTypeNormal, kustomize.ReconciliationSucceededReason,
			fmt.Sprintf("Reconciliation finished, applied revision %s", w.revision))
	}
	obj.Status.LastAppliedRevision = w.revision
	obj.Status.LastAppliedOriginRevision = w.originRevision
	res.msg = "Applied revision: " + w.revision
	return res
}

// markProgressing tells, before a run that will take a while, that it is
// under way, as Flux does: Ready=Unknown and Reconciling=True. It writes
// only when a new revision, generation or reconcile request would
// otherwise leave an earlier run's message showing; a periodic run of an
// applied revision writes nothing here.
func (r *Reconciler) markProgressing(ctx context.Context, obj *kustomizev1.Kustomization, revision string, timeout time.Duration, newRequest bool) {
	ready := apimeta.FindStatusCondition(obj.Status.Conditions, common.ReadyCondition)
	if r.UpdateStatus == nil || ready == nil {
		return
	}
	if !newRequest && obj.Generation == obj.Status.ObservedGeneration && revision == obj.Status.LastAppliedRevision {
		return
	}
	msg := fmt.Sprintf("Building manifests for revision %s with a timeout of %s", revision, timeout)
	set := func(t string, status metav1.ConditionStatus, m string) {
		apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: t, Status: status,
			Reason: common.ProgressingReason, Message: m, ObservedGeneration: obj.Generation})
	}
	set(common.ReadyCondition, metav1.ConditionUnknown, "Reconciliation in progress")
	set(common.ReconcilingCondition, metav1.ConditionTrue, msg)
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, common.StalledCondition)
	updated, err := r.UpdateStatus(ctx, obj)
	if err != nil {
		klog.FromContext(ctx).V(1).Info("Writing the in-progress status failed", "err", err)
		return
	}
	obj.ObjectMeta = updated.ObjectMeta
}

func (r *Reconciler) timeout(obj *kustomizev1.Kustomization) time.Duration {
	if obj.Spec.Timeout != nil {
		if d, err := obj.Spec.Timeout.Parse(); err == nil && d > 0 {
			return d
		}
	}
	if d, err := obj.Spec.Interval.Parse(); err == nil && d > 0 {
		return d
	}
	return 5 * time.Minute
}

// event records an event annotated with the revision the run attempted,
// which Alerts send as metadata "revision" (commit status providers set
// the status on that commit).
func (r *Reconciler) event(obj *kustomizev1.Kustomization, eventtype, reason, msg string) {
	if rev := obj.Status.LastAttemptedRevision; rev != "" {
		r.Events.AnnotatedEventf(obj, map[string]string{kustomize.GroupName + "/revision": rev}, eventtype, reason, "%s", msg)
		return
	}
	r.Events.Event(obj, eventtype, reason, msg)
}

// changeEvent records what an apply or prune changed, one line per
// object, like Flux's change-set events.
func (r *Reconciler) changeEvent(obj *kustomizev1.Kustomization, revision string, changes []ssa.Change) {
	var lines []string
	for _, c := range changes {
		if c.Action == ssa.ActionUnchanged || c.Action == ssa.ActionSkipped {
			continue
		}
		lines = append(lines, c.Subject+" "+string(c.Action))
	}
	if len(lines) == 0 {
		return
	}
	msg := strings.Join(lines, "\n")
	if revision != "" {
		r.Events.AnnotatedEventf(obj, map[string]string{"kustomize.toolkit.fluxcd.io/revision": revision},
			corev1.EventTypeNormal, "Progressing", "%s", msg)
		return
	}
	r.Events.Event(obj, corev1.EventTypeNormal, "Progressing", msg)
}

func hasFinalizer(obj *kustomizev1.Kustomization) bool {
	for _, f := range obj.Finalizers {
		if f == Finalizer {
			return true
		}
	}
	return false
}

// ownerLabels are the labels Flux puts on every applied object.
func ownerLabels(obj *kustomizev1.Kustomization) map[string]string {
	return map[string]string{
		kustomize.GroupName + "/name":      obj.Name,
		kustomize.GroupName + "/namespace": obj.Namespace,
	}
}
