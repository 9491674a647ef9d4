package helm

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
)

// finalize uninstalls the release (unless suspended, as in Flux), deletes
// the HelmChart made for it, and releases the finalizer. A failed uninstall
// is reported but never keeps the HelmRelease from going away.
func (r *Reconciler) finalize(ctx context.Context, obj *helmv2.HelmRelease) loop.Result {
	if !slices.Contains(obj.Finalizers, Finalizer) {
		return loop.Result{}
	}
	if !obj.Spec.Suspend {
		if err := r.uninstallOnDelete(ctx, obj); err != nil {
			r.Events.Eventf(obj, corev1.EventTypeWarning, helm.UninstallFailedReason, "uninstall on deletion failed: %v", err)
		}
	}
	if obj.Status.HelmChart != "" {
		ns, name, _ := strings.Cut(obj.Status.HelmChart, "/")
		if err := r.Charts.Delete(ctx, ns, name); err != nil && !apierrors.IsNotFound(err) {
			return loop.Result{Err: loop.Failf(helm.ReconciliationFailedReason, "deleting HelmChart %s: %v", obj.Status.HelmChart, err)}
		}
	}
	obj.Finalizers = slices.DeleteFunc(obj.Finalizers, func(f string) bool { return f == Finalizer })
	if _, err := r.UpdateFinalizers(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return loop.Result{Err: loop.Failf(helm.ReconciliationFailedReason, "removing finalizer: %v", err)}
	}
	return loop.Result{}
}

func (r *Reconciler) uninstallOnDelete(ctx context.Context, obj *helmv2.HelmRelease) error {
	t, err := r.Targets.For(ctx, target.Ref{Namespace: obj.Namespace, KubeConfig: obj.Spec.KubeConfig, ServiceAccountName: obj.Spec.ServiceAccountName})
	if err != nil {
		return err
	}
	cfg, err := r.configuration(t, obj, logHandler{})
	if err != nil {
		return err
	}
	name := releaseName(obj)
	if _, err := cfg.Releases.Last(name); err != nil {
		return nil // nothing installed
	}
	if _, err := uninstallAction(ctx, cfg, obj).Run(name); err != nil {
		return err
	}
	r.Events.Eventf(obj, corev1.EventTypeNormal, helm.UninstallSucceededReason, "Helm uninstall succeeded for release %s/%s", releaseNamespace(obj), name)
	return nil
}
