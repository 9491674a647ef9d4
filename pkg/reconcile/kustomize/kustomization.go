// Package kustomize reconciles Kustomizations the way Flux's
// kustomize-controller does: build the source artifact with kustomize,
// substitute variables, server-side apply the result to the target cluster,
// record the inventory, prune what left it and check health.
package kustomize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/build"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
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
	// AllowRemoteBases lets kustomizations load remote bases.
	AllowRemoteBases bool
	// AllowKubeConfigExec lets kubeconfigs from spec.kubeConfig run exec
	// credential plugins (Flux's --insecure-kubeconfig-exec).
	AllowKubeConfigExec bool
	// DefaultServiceAccount is impersonated when spec.serviceAccountName is
	// empty (Flux's --default-service-account); empty uses our identity.
	DefaultServiceAccount string
	// MaxArtifactSize caps an unpacked artifact (bytes).
	MaxArtifactSize int64
	// DependencyRequeue is how soon a Kustomization waiting for a
	// dependency or a source artifact looks again.
	DependencyRequeue time.Duration
}

// Reconciler reconciles Kustomizations.
type Reconciler struct {
	Options
	// GetSource reads a source object from the informer cache; NotFound
	// when it does not exist.
	GetSource func(kind, namespace, name string) (*Source, error)
	// GetKustomization reads a Kustomization from the informer cache.
	GetKustomization func(namespace, name string) (*kustomizev1.Kustomization, error)
	// UpdateFinalizers writes obj's finalizers and returns the object as
	// stored.
	UpdateFinalizers func(ctx context.Context, obj *kustomizev1.Kustomization) (*kustomizev1.Kustomization, error)
	// Store holds the source artifacts.
	Store *artifact.Store
	// Host reads ConfigMaps and Secrets in the host cluster.
	Host kubernetes.Interface
	// Targets gives the apply manager of a Kustomization's target cluster
	// and identity.
	Targets *Targets
	// Events records Kubernetes Events.
	Events record.EventRecorder
}

// Reconcile implements loop.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, obj *kustomizev1.Kustomization) loop.Result {
	if obj.DeletionTimestamp != nil {
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
		return loop.Result{}
	}
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
	start := time.Now()
	msg, digest, err := r.reconcile(ctx, obj)
	loop.Summarize(&obj.Status.Conditions, loop.Summary{
		Err: err, Generation: obj.Generation,
		SuccessReason: kustomize.ReconciliationSucceededReason, SuccessMessage: msg,
		FailureReason: kustomize.ReconciliationFailedReason,
	})
	outcome, reason := loop.Classify(err, kustomize.ReconciliationFailedReason)
	if outcome == loop.Succeeded || outcome == loop.Stalled {
		obj.Status.ObservedGeneration = obj.Generation
	}
	if digest != "" {
		status := kustomize.ReconciliationSucceededReason
		if err != nil {
			status = reason
		}
		recordHistory(&obj.Status, digest, obj.Status.LastAttemptedRevision, status, start, time.Since(start))
	}
	if err != nil {
		if outcome != loop.Waited {
			r.Events.Event(obj, corev1.EventTypeWarning, reason, err.Error())
		}
		return loop.Result{Err: err, RequeueAfter: retry}
	}
	return loop.Result{RequeueAfter: interval}
}

// reconcile does one run and returns Ready's message on success and the
// digest of the built manifests once they were built.
func (r *Reconciler) reconcile(ctx context.Context, obj *kustomizev1.Kustomization) (string, string, error) {
	if obj.Spec.Decryption != nil {
		return "", "", loop.Stallf(kustomize.ReconciliationFailedReason,
			"spec.decryption: decrypting Secrets with %q is not supported by this server", obj.Spec.Decryption.Provider)
	}
	if err := r.checkDependencies(obj); err != nil {
		return "", "", err
	}
	src, srcKey, err := r.source(obj)
	if err != nil {
		return "", "", err
	}
	revision := src.Artifact.Revision
	obj.Status.LastAttemptedRevision = revision

	objs, err := r.build(ctx, obj, srcKey, src.Artifact)
	if err != nil {
		return "", "", err
	}
	digest := manifestsDigest(objs)

	mgr, err := r.Targets.For(ctx, obj)
	if err != nil {
		return "", digest, err
	}
	timeout := r.timeout(obj)

	changes, applyErr := mgr.ApplyAllStaged(ctx, objs, ssa.ApplyOptions{
		Force: obj.Spec.Force, WaitInterval: 500 * time.Millisecond, WaitTimeout: timeout,
		// New manifests are validated in full before anything is written,
		// so a broken revision leaves the last good state in the cluster.
		// Re-applying the last good manifests (drift correction) and a
		// first apply, with nothing to protect, skip that round trip.
		DryRunFirst: hasInventory(obj) && digest != lastAppliedDigest(&obj.Status),
		Owned:       ownedIDs(obj.Status.Inventory),
	})
	newInventory := inventoryOf(changes)
	oldInventory := obj.Status.Inventory
	if applyErr != nil {
		// What was applied is ours now: keep it in the inventory so a later
		// prune can find it, but prune nothing until an apply succeeds.
		obj.Status.Inventory = mergeInventories(newInventory, oldInventory)
		r.changeEvent(obj, revision, changes)
		return "", digest, loop.Failf(kustomize.ReconciliationFailedReason, "%v", applyErr)
	}
	obj.Status.Inventory = newInventory
	if obj.Spec.Prune {
		stale := diffInventory(oldInventory, newInventory)
		deleted, err := mgr.Delete(ctx, stale, ssa.DeleteOptions{Labels: ownerLabels(obj)})
		changes = append(changes, deleted...)
		if err != nil {
			obj.Status.Inventory = mergeInventories(newInventory, remaining(stale, deleted))
			r.changeEvent(obj, revision, changes)
			return "", digest, loop.Failf(kustomize.PruneFailedReason, "%v", err)
		}
	}
	r.changeEvent(obj, revision, changes)

	if err := r.checkHealth(ctx, obj, mgr, newInventory, timeout); err != nil {
		return "", digest, err
	}
	if revision != obj.Status.LastAppliedRevision {
		r.Events.Eventf(obj, corev1.EventTypeNormal, kustomize.ReconciliationSucceededReason,
			"Reconciliation finished, applied revision %s", revision)
	}
	obj.Status.LastAppliedRevision = revision
	obj.Status.LastAppliedOriginRevision = src.Artifact.Metadata["org.opencontainers.image.revision"]
	return "Applied revision: " + revision, digest, nil
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

// checkDependencies waits until every Kustomization in spec.dependsOn is
// Ready at its current generation (and, when it builds from the same
// source, at the source's current revision).
func (r *Reconciler) checkDependencies(obj *kustomizev1.Kustomization) error {
	for _, d := range obj.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		if ns != obj.Namespace && r.NoCrossNamespaceRefs {
			return loop.Stallf(common.AccessDeniedReason,
				"dependency '%s/%s' is in another namespace and cross-namespace references are disabled", ns, d.Name)
		}
		if d.ReadyExpr != "" {
			return loop.Stallf(kustomize.DependencyNotReadyReason,
				"dependency '%s/%s': readyExpr is not supported by this server", ns, d.Name)
		}
		dep, err := r.GetKustomization(ns, d.Name)
		if apierrors.IsNotFound(err) {
			return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency '%s/%s' not found", ns, d.Name)
		}
		if err != nil {
			return loop.Failf(kustomize.DependencyNotReadyReason, "dependency '%s/%s': %v", ns, d.Name, err)
		}
		if !dependencyReady(obj, dep, r.sourceRevision) {
			return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency '%s/%s' is not ready", ns, d.Name)
		}
	}
	return nil
}

func (r *Reconciler) sourceRevision(kind, namespace, name string) string {
	src, err := r.GetSource(kind, namespace, name)
	if err != nil || src.Artifact == nil {
		return ""
	}
	return src.Artifact.Revision
}

// dependencyReady is Flux's readiness of a dependency.
func dependencyReady(obj, dep *kustomizev1.Kustomization, revisionOf func(kind, namespace, name string) string) bool {
	if dep.Generation != dep.Status.ObservedGeneration {
		return false
	}
	if !apimeta.IsStatusConditionTrue(dep.Status.Conditions, common.ReadyCondition) {
		return false
	}
	if SourceKey(obj) == SourceKey(dep) {
		ref := dep.Spec.SourceRef
		ns := ref.Namespace
		if ns == "" {
			ns = dep.Namespace
		}
		if rev := revisionOf(ref.Kind, ns, ref.Name); rev != "" && rev != dep.Status.LastAppliedRevision {
			return false
		}
	}
	return true
}

// SourceKey identifies a Kustomization's source: kind/namespace/name.
func SourceKey(obj *kustomizev1.Kustomization) string {
	ns := obj.Spec.SourceRef.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	return SourceKeyOf(obj.Spec.SourceRef.Kind, ns, obj.Spec.SourceRef.Name)
}

// SourceKeyOf is SourceKey of a source object.
func SourceKeyOf(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// source returns the source with its artifact, or the error to report.
func (r *Reconciler) source(obj *kustomizev1.Kustomization) (*Source, artifact.Key, error) {
	ref := obj.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	key := artifact.Key{Kind: ref.Kind, Namespace: ns, Name: ref.Name}
	subject := fmt.Sprintf("%s/%s/%s", ref.Kind, ns, ref.Name)
	if ns != obj.Namespace && r.NoCrossNamespaceRefs {
		return nil, key, loop.Stallf(common.AccessDeniedReason,
			"cannot access %s: cross-namespace references are disabled", subject)
	}
	src, err := r.GetSource(ref.Kind, ns, ref.Name)
	switch {
	case apierrors.IsNotFound(err):
		return nil, key, loop.Waitf(kustomize.ArtifactFailedReason, r.DependencyRequeue, "Source '%s' not found", subject)
	case err != nil:
		return nil, key, loop.Stallf(kustomize.ArtifactFailedReason, "Source '%s': %v", subject, err)
	case src.Artifact == nil:
		return nil, key, loop.Waitf(kustomize.ArtifactFailedReason, r.DependencyRequeue,
			"Source '%s' is not ready, artifact not found", subject)
	}
	return src, key, nil
}

// build unpacks the artifact in memory, runs kustomize and the post-build
// steps, and labels every object as owned by obj.
func (r *Reconciler) build(ctx context.Context, obj *kustomizev1.Kustomization, key artifact.Key, a *common.Artifact) ([]*unstructured.Unstructured, error) {
	objs, err := r.kustomize(key, a, obj)
	if err != nil {
		return nil, err
	}
	if pb := obj.Spec.PostBuild; pb != nil {
		vars, err := r.variables(ctx, obj)
		if err != nil {
			return nil, err
		}
		if len(vars) > 0 || pb.SubstituteStrategy == kustomize.SubstituteAlways {
			objs, err = build.Substitute(objs, vars, false)
			if err != nil {
				return nil, loop.Failf(kustomize.BuildFailedReason, "post build failed: %v", err)
			}
		}
	}
	labels := ownerLabels(obj)
	for _, o := range objs {
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range labels {
			l[k] = v
		}
		o.SetLabels(l)
	}
	return objs, nil
}

// kustomize builds the artifact at spec.path with the spec's overlay.
func (r *Reconciler) kustomize(key artifact.Key, a *common.Artifact, obj *kustomizev1.Kustomization) ([]*unstructured.Unstructured, error) {
	rc, _, err := r.Store.OpenFor(key, a.Path)
	if err != nil {
		return nil, loop.Failf(kustomize.ArtifactFailedReason, "failed to open the artifact of %s/%s/%s: %v", key.Kind, key.Namespace, key.Name, err)
	}
	defer rc.Close()
	fs, err := build.LoadArchive(rc, r.MaxArtifactSize)
	if err != nil {
		return nil, loop.Failf(kustomize.ArtifactFailedReason, "failed to read the artifact of %s/%s/%s: %v", key.Kind, key.Namespace, key.Name, err)
	}
	_, _ = io.Copy(io.Discard, rc) // read to the end so the digest is verified
	var labels, annotations map[string]string
	if cm := obj.Spec.CommonMetadata; cm != nil {
		labels, annotations = cm.Labels, cm.Annotations
	}
	objs, err := build.Build(fs, build.Options{
		Path:                    obj.Spec.Path,
		TargetNamespace:         obj.Spec.TargetNamespace,
		NamePrefix:              obj.Spec.NamePrefix,
		NameSuffix:              obj.Spec.NameSuffix,
		CommonLabels:            labels,
		CommonAnnotations:       annotations,
		Patches:                 obj.Spec.Patches,
		Images:                  obj.Spec.Images,
		Components:              obj.Spec.Components,
		IgnoreMissingComponents: obj.Spec.IgnoreMissingComponents,
		BuildMetadata:           obj.Spec.BuildMetadata,
		AllowRemoteBases:        r.AllowRemoteBases,
	})
	if err != nil {
		return nil, loop.Failf(kustomize.BuildFailedReason, "kustomize build failed: %v", err)
	}
	return objs, nil
}

// variables collects spec.postBuild.substituteFrom (in order, later ones
// win) and then spec.postBuild.substitute, which wins over all of them.
func (r *Reconciler) variables(ctx context.Context, obj *kustomizev1.Kustomization) (map[string]string, error) {
	vars := map[string]string{}
	for _, ref := range obj.Spec.PostBuild.SubstituteFrom {
		subject := fmt.Sprintf("%s/%s", ref.Kind, ref.Name)
		var data map[string]string
		var err error
		switch ref.Kind {
		case "ConfigMap":
			var cm *corev1.ConfigMap
			cm, err = r.Host.CoreV1().ConfigMaps(obj.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err == nil {
				data = cm.Data
			}
		case "Secret":
			var s *corev1.Secret
			s, err = r.Host.CoreV1().Secrets(obj.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err == nil {
				data = make(map[string]string, len(s.Data)+len(s.StringData))
				for k, v := range s.Data {
					data[k] = string(v)
				}
			}
		default:
			return nil, loop.Stallf(kustomize.BuildFailedReason, "substitute from '%s': kind must be ConfigMap or Secret", subject)
		}
		if apierrors.IsNotFound(err) {
			if ref.Optional {
				continue
			}
			return nil, loop.Failf(kustomize.BuildFailedReason, "substitute from '%s': not found", subject)
		}
		if err != nil {
			// The API error names the object, never its data.
			return nil, loop.Failf(kustomize.BuildFailedReason, "substitute from '%s': %v", subject, err)
		}
		for k, v := range data {
			vars[k] = v
		}
	}
	for k, v := range obj.Spec.PostBuild.Substitute {
		vars[k] = v
	}
	return vars, nil
}

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
	mgr, err := r.Targets.For(ctx, obj)
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

func inventoryOf(changes []ssa.Change) *kustomizev1.ResourceInventory {
	inv := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	for _, c := range changes {
		if c.Action == ssa.ActionSkipped {
			continue
		}
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: c.ID, Version: c.Version})
	}
	return inv
}

// diffInventory returns the entries of old that are not in updated.
func diffInventory(old, updated *kustomizev1.ResourceInventory) []ssa.Ref {
	if old == nil {
		return nil
	}
	keep := map[string]bool{}
	if updated != nil {
		for _, e := range updated.Entries {
			keep[e.ID] = true
		}
	}
	var out []ssa.Ref
	for _, e := range old.Entries {
		if !keep[e.ID] {
			out = append(out, ssa.Ref{ID: e.ID, Version: e.Version})
		}
	}
	return out
}

// remaining is what of stale was not deleted.
func remaining(stale []ssa.Ref, deleted []ssa.Change) *kustomizev1.ResourceInventory {
	gone := map[string]bool{}
	for _, c := range deleted {
		if c.Action == ssa.ActionDeleted {
			gone[c.ID] = true
		}
	}
	inv := &kustomizev1.ResourceInventory{}
	for _, s := range stale {
		if !gone[s.ID] {
			inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: s.ID, Version: s.Version})
		}
	}
	return inv
}

func mergeInventories(a, b *kustomizev1.ResourceInventory) *kustomizev1.ResourceInventory {
	out := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	seen := map[string]bool{}
	for _, inv := range []*kustomizev1.ResourceInventory{a, b} {
		if inv == nil {
			continue
		}
		for _, e := range inv.Entries {
			if !seen[e.ID] {
				seen[e.ID] = true
				out.Entries = append(out.Entries, e)
			}
		}
	}
	return out
}

// ownedIDs is the set of inventory IDs (never nil).
func ownedIDs(inv *kustomizev1.ResourceInventory) map[string]bool {
	owned := map[string]bool{}
	if inv != nil {
		for _, e := range inv.Entries {
			owned[e.ID] = true
		}
	}
	return owned
}

func hasInventory(obj *kustomizev1.Kustomization) bool {
	return obj.Status.Inventory != nil && len(obj.Status.Inventory.Entries) > 0
}

// lastAppliedDigest is the digest of the manifests last applied
// successfully, from status.history.
func lastAppliedDigest(st *kustomizev1.KustomizationStatus) string {
	for _, h := range st.History {
		if h.LastReconciledStatus == kustomize.ReconciliationSucceededReason {
			return h.Digest
		}
	}
	return ""
}

// manifestsDigest identifies a built set of manifests for status.history.
func manifestsDigest(objs []*unstructured.Unstructured) string {
	h := sha256.New()
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			continue
		}
		h.Write(b)
		h.Write([]byte("---\n"))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// recordHistory adds a reconciliation to status.history: the entry of the
// same applied state is updated, newest first, at most historyLimit.
func recordHistory(st *kustomizev1.KustomizationStatus, digest, revision, status string, start time.Time, took time.Duration) {
	now := metav1.NewTime(start.Add(took).Truncate(time.Second))
	for i := range st.History {
		h := &st.History[i]
		if h.Digest == digest {
			h.LastReconciled = now
			h.LastReconciledDuration = metav1.Duration{Duration: took}
			h.LastReconciledStatus = status
			h.TotalReconciliations++
			if revision != "" {
				h.Metadata = map[string]string{"revision": revision}
			}
			sort.SliceStable(st.History, func(a, b int) bool {
				return st.History[a].LastReconciled.After(st.History[b].LastReconciled.Time)
			})
			return
		}
	}
	entry := common.Snapshot{
		Digest: digest, FirstReconciled: now, LastReconciled: now,
		LastReconciledDuration: metav1.Duration{Duration: took}, LastReconciledStatus: status,
		TotalReconciliations: 1,
	}
	if revision != "" {
		entry.Metadata = map[string]string{"revision": revision}
	}
	st.History = append([]common.Snapshot{entry}, st.History...)
	if len(st.History) > historyLimit {
		st.History = st.History[:historyLimit]
	}
}
