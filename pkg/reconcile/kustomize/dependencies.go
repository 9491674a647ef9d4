package kustomize

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

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
		if d.Kind == helmReleaseKind {
			if err := r.checkHelmRelease(ns, d.Name); err != nil {
				return err
			}
			continue
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

// helmReleaseKind is the other kind a dependency may be (beyond Flux).
const helmReleaseKind = "HelmRelease"

// checkHelmRelease waits until a HelmRelease dependency is Ready at its
// current generation.
func (r *Reconciler) checkHelmRelease(ns, name string) error {
	if r.GetHelmRelease == nil {
		return loop.Stallf(kustomize.DependencyNotReadyReason, "dependency HelmRelease/%s/%s: HelmReleases are not reconciled by this server", ns, name)
	}
	dep, err := r.GetHelmRelease(ns, name)
	switch {
	case apierrors.IsNotFound(err):
		return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency HelmRelease/%s/%s not found", ns, name)
	case err != nil:
		return loop.Failf(kustomize.DependencyNotReadyReason, "dependency HelmRelease/%s/%s: %v", ns, name, err)
	case !loop.ReadyAt(dep.Generation, dep.Status.ObservedGeneration, dep.Status.Conditions):
		return loop.Waitf(kustomize.DependencyNotReadyReason, r.DependencyRequeue, "dependency HelmRelease/%s/%s is not ready", ns, name)
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
