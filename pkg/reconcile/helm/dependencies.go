package helm

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// kustomizationKind is the other kind a dependency may be.
const kustomizationKind = "Kustomization"

// checkDependencies waits until every object in spec.dependsOn, a
// HelmRelease or (beyond Flux) a Kustomization, is Ready at its current
// generation.
func (r *Reconciler) checkDependencies(obj *helmv2.HelmRelease) error {
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
		if d.ReadyExpr != "" {
			return loop.Stallf(helm.DependencyNotReadyReason,
				"spec.dependsOn[%d].readyExpr: CEL readiness expressions are not supported by this server yet", i)
		}
		ready, err := r.dependencyReady(kind, ns, d.Name)
		switch {
		case apierrors.IsNotFound(err):
			return loop.Waitf(helm.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s not found", subject)
		case err != nil:
			return loop.Failf(helm.DependencyNotReadyReason, "dependency %s: %v", subject, err)
		case !ready:
			return loop.Waitf(helm.DependencyNotReadyReason, r.DependencyRequeue, "dependency %s is not ready", subject)
		}
	}
	return nil
}

func (r *Reconciler) dependencyReady(kind, namespace, name string) (bool, error) {
	if kind == kustomizationKind {
		dep, err := r.GetKustomization(namespace, name)
		if err != nil {
			return false, err
		}
		return loop.ReadyAt(dep.Generation, dep.Status.ObservedGeneration, dep.Status.Conditions), nil
	}
	dep, err := r.GetHelmRelease(namespace, name)
	if err != nil {
		return false, err
	}
	return loop.ReadyAt(dep.Generation, dep.Status.ObservedGeneration, dep.Status.Conditions), nil
}
