package helm

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/celhealth"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// kustomizationKind is the other kind a dependency may be.
const kustomizationKind = "Kustomization"

// checkDependencies waits until every object in spec.dependsOn, a
// HelmRelease or (beyond Flux) a Kustomization, is ready: Ready at its
// current generation or, for a dependency with a readyExpr, when the
// expression over self (this HelmRelease) and dep is true. The expression
// replaces the built-in check, as Flux's default (the
// AdditiveCELDependencyCheck feature gate is not offered).
func (r *Reconciler) checkDependencies(obj *helmv2.HelmRelease) error {
	exprs := make([]*celhealth.ReadyExpr, len(obj.Spec.DependsOn))
	for i, d := range obj.Spec.DependsOn {
		if d.ReadyExpr == "" {
			continue
		}
		var err error
		if exprs[i], err = celhealth.CompileReadyExpr(d.ReadyExpr); err != nil {
			return loop.Stallf(common.InvalidCELExpressionReason, "spec.dependsOn[%d].readyExpr: %v", i, err)
		}
	}
	var self map[string]any
	for i, d := range obj.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		kind := d.Kind
		if kind == "" {
			kind = helm.HelmReleaseKind
		}
		subject := kind + "/" + ns + "/" + d.Name
		if ns != obj.Namespace && r.NoCrossNamespaceRefs {
			return loop.Stallf(common.AccessDeniedReason,
				"dependency %s is in another namespace and cross-namespace references are disabled", subject)
		}
		dep, ready, err := r.dependency(kind, ns, d.Name)
		switch {
		case apierrors.IsNotFound(err):
			return loop.Waitf(helm.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s not found", subject)
		case err != nil:
			return loop.Failf(helm.DependencyNotReadyReason, "dependency %s: %v", subject, err)
		}
		if exprs[i] == nil {
			if !ready {
				return loop.Waitf(helm.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s is not ready", subject)
			}
			continue
		}
		if self == nil {
			if self, err = celObject(obj, helmv2.SchemeGroupVersion.WithKind(helm.HelmReleaseKind)); err != nil {
				return loop.Failf(helm.DependencyNotReadyReason, "spec.dependsOn[%d].readyExpr: %v", i, err)
			}
		}
		depMap, err := celObject(dep, depGVK(kind))
		if err != nil {
			return loop.Failf(helm.DependencyNotReadyReason, "dependency %s: %v", subject, err)
		}
		ok, err := exprs[i].Ready(self, depMap)
		switch {
		case err != nil:
			return loop.Waitf(helm.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s: evaluating readyExpr: %v", subject, err)
		case !ok:
			return loop.Waitf(helm.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s is not ready according to its readyExpr", subject)
		}
	}
	return nil
}

// dependency reads a dependency and says whether it is Ready at its
// current generation.
func (r *Reconciler) dependency(kind, namespace, name string) (runtime.Object, bool, error) {
	if kind == kustomizationKind {
		dep, err := r.GetKustomization(namespace, name)
		if err != nil {
			return nil, false, err
		}
		return dep, loop.ReadyAt(dep.Generation, dep.Status.ObservedGeneration, dep.Status.Conditions), nil
	}
	dep, err := r.GetHelmRelease(namespace, name)
	if err != nil {
		return nil, false, err
	}
	return dep, loop.ReadyAt(dep.Generation, dep.Status.ObservedGeneration, dep.Status.Conditions), nil
}

func depGVK(kind string) schema.GroupVersionKind {
	if kind == kustomizationKind {
		return kustomizev1.SchemeGroupVersion.WithKind(kustomizationKind)
	}
	return helmv2.SchemeGroupVersion.WithKind(helm.HelmReleaseKind)
}

// celObject is obj as CEL expressions see it: its JSON as a map, with its
// apiVersion and kind (objects from informers carry none).
func celObject(obj runtime.Object, gvk schema.GroupVersionKind) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	m["apiVersion"], m["kind"] = gvk.GroupVersion().String(), gvk.Kind
	return m, nil
}
