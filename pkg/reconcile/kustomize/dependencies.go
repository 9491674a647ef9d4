package kustomize

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/celhealth"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// checkDependencies waits until every dependency in spec.dependsOn is
// ready: a Kustomization Ready at its current generation (and, when it
// builds from the same source, at the source's current revision), a
// HelmRelease Ready at its current generation. A dependency with a
// readyExpr is ready when the expression is true instead: Flux's default,
// where the expression replaces the built-in check (its
// AdditiveCELDependencyCheck feature gate, which requires both, is not
// offered).
func (r *Reconciler) checkDependencies(obj *kustomizev1.Kustomization) error {
	exprs, self, err := readyExprs(obj)
	if err != nil {
		return err
	}
	for i, d := range obj.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		if ns != obj.Namespace && r.NoCrossNamespaceRefs {
			return loop.Stallf(common.AccessDeniedReason,
				"dependency '%s/%s' is in another namespace and cross-namespace references are disabled", ns, d.Name)
		}
		var err error
		if d.Kind == helmReleaseKind {
			err = r.checkHelmRelease(ns, d.Name, exprs[i], self)
		} else {
			err = r.checkKustomization(obj, ns, d.Name, exprs[i], self)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readyExprs compiles every spec.dependsOn[].readyExpr (nil where there is
// none), so that one that does not compile stalls the Kustomization
// whatever the state of the dependencies before it, and returns obj as the
// expressions see it (self).
func readyExprs(obj *kustomizev1.Kustomization) ([]*celhealth.ReadyExpr, map[string]any, error) {
	exprs := make([]*celhealth.ReadyExpr, len(obj.Spec.DependsOn))
	var self map[string]any
	for i, d := range obj.Spec.DependsOn {
		if d.ReadyExpr == "" {
			continue
		}
		var err error
		if exprs[i], err = celhealth.CompileReadyExpr(d.ReadyExpr); err != nil {
			return nil, nil, loop.Stallf(common.InvalidCELExpressionReason, "spec.dependsOn[%d].readyExpr: %v", i, err)
		}
		if self == nil {
			if self, err = toMap(obj, kustomizev1.SchemeGroupVersion.WithKind(kustomize.KustomizationKind)); err != nil {
				return nil, nil, loop.Failf(kustomize.DependencyNotReadyReason, "spec.dependsOn[%d].readyExpr: %v", i, err)
			}
		}
	}
	return exprs, self, nil
}

// checkKustomization waits until a Kustomization dependency is ready.
func (r *Reconciler) checkKustomization(obj *kustomizev1.Kustomization, ns, name string, expr *celhealth.ReadyExpr, self map[string]any) error {
	dep, err := r.GetKustomization(ns, name)
	if apierrors.IsNotFound(err) {
		return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency '%s/%s' not found", ns, name)
	}
	if err != nil {
		return loop.Failf(kustomize.DependencyNotReadyReason, "dependency '%s/%s': %v", ns, name, err)
	}
	subject := fmt.Sprintf("'%s/%s'", ns, name)
	if expr != nil {
		return r.checkReadyExpr(subject, expr, self, dep, kustomizev1.SchemeGroupVersion.WithKind(kustomize.KustomizationKind))
	}
	if !dependencyReady(obj, dep, r.sourceRevision) {
		return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s is not ready", subject)
	}
	return nil
}

// helmReleaseKind is the other kind a dependency may be (beyond Flux).
const helmReleaseKind = "HelmRelease"

// checkHelmRelease waits until a HelmRelease dependency is ready.
func (r *Reconciler) checkHelmRelease(ns, name string, expr *celhealth.ReadyExpr, self map[string]any) error {
	if r.GetHelmRelease == nil {
		return loop.Stallf(kustomize.DependencyNotReadyReason, "dependency HelmRelease/%s/%s: HelmReleases are not reconciled by this server", ns, name)
	}
	dep, err := r.GetHelmRelease(ns, name)
	switch {
	case apierrors.IsNotFound(err):
		return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency HelmRelease/%s/%s not found", ns, name)
	case err != nil:
		return loop.Failf(kustomize.DependencyNotReadyReason, "dependency HelmRelease/%s/%s: %v", ns, name, err)
	}
	subject := fmt.Sprintf("HelmRelease/%s/%s", ns, name)
	if expr != nil {
		return r.checkReadyExpr(subject, expr, self, dep, helmv2.SchemeGroupVersion.WithKind(helmReleaseKind))
	}
	if !loop.ReadyAt(dep.Generation, dep.Status.ObservedGeneration, dep.Status.Conditions) {
		return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s is not ready", subject)
	}
	return nil
}

// checkReadyExpr waits until expr is true of dep. An evaluation error
// (a field dep does not have yet) is waited through, as in Flux.
func (r *Reconciler) checkReadyExpr(subject string, expr *celhealth.ReadyExpr, self map[string]any, dep runtime.Object, gvk schema.GroupVersionKind) error {
	depMap, err := toMap(dep, gvk)
	if err != nil {
		return loop.Failf(kustomize.DependencyNotReadyReason, "dependency %s: %v", subject, err)
	}
	ready, err := expr.Ready(self, depMap)
	switch {
	case err != nil:
		return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s: evaluating readyExpr: %v", subject, err)
	case !ready:
		return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s is not ready according to its readyExpr", subject)
	}
	return nil
}

// toMap is obj as CEL expressions see it: its JSON as a map, with its
// apiVersion and kind (objects from informers carry none).
func toMap(obj runtime.Object, gvk schema.GroupVersionKind) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	m["apiVersion"], m["kind"] = gvk.GroupVersion().String(), gvk.Kind
	return m, nil
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
