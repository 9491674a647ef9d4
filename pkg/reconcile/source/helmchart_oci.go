package source

import (
	"context"
	"os"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// reconcileFromRegistry pulls the chart from the registry of a
// HelmRepository of type oci, as Flux does: oci://<url>/<chart>:<version>,
// the version being spec.version when it is an exact version, else the
// highest tag matching it, with the HelmRepository's credentials and TLS
// settings. The HelmRepository has no artifact, so the chart records no
// source revision.
func (r *HelmChartReconciler) reconcileFromRegistry(ctx context.Context, obj *sourcev1.HelmChart, repo *sourcev1.HelmRepository) (string, error) {
	host, err := r.registryHost(ctx, repo.Namespace, &repo.Spec)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	work, err := os.MkdirTemp(r.TmpDir, "helmchart-oci-")
	if err != nil {
		return "", loop.Failf(source.StorageOperationFailedCondition, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(work)
	reg, err := helm.NewRegistry(ctx, helm.RegistryOptions{Hosts: []helm.RegistryHost{host}, Timeout: helmTimeout(&repo.Spec),
		MaxSize: r.MaxFetchSize, UserAgent: helmUserAgent, WorkDir: work})
	if err != nil {
		// Bad PEM: the Secret may be fixed.
		return "", r.fetchFailed(obj, loop.Failf(source.AuthenticationFailedReason, "invalid secret (spec.certSecretRef) of HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err))
	}
	version, err := reg.ResolveVersion(repo.Spec.URL, obj.Spec.Chart, obj.Spec.Version)
	if err != nil {
		return "", r.fetchFailed(obj, chartError(err, "HelmRepository '%s/%s'", repo.Namespace, repo.Name))
	}
	obj.Status.ObservedSourceArtifactRevision = ""
	if msg, ok := r.unchanged(obj, version); ok {
		return msg, nil
	}
	data, err := reg.Pull(repo.Spec.URL, obj.Spec.Chart, version)
	if err == nil {
		err = helm.CheckChart(data, obj.Spec.Chart, version)
	}
	if err != nil {
		return "", r.fetchFailed(obj, chartError(err, "failed to pull chart '%s' version %s", obj.Spec.Chart, version))
	}
	return r.pulled(ctx, obj, builtChart{name: obj.Spec.Chart, version: version, data: data})
}
