package source

import (
	"context"
	"os"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/cosign"
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
	var keys []cosign.PublicKey
	if v := obj.Spec.Verify; v != nil {
		if keys, err = r.cosignKeys(ctx, obj.Namespace, chartVerifySpec(v)); err != nil {
			return "", r.fetchFailed(obj, markNotVerified(&obj.Status.Conditions, obj.Generation, err))
		}
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
	if keys != nil {
		data, err := r.pullVerified(ctx, obj, repo, host, version, keys)
		if err != nil {
			return "", err
		}
		msg, err := r.pulled(ctx, obj, builtChart{name: obj.Spec.Chart, version: version, data: data})
		if err == nil {
			// Only now: SourceVerified=True with the artifact's version says
			// the stored chart is the verified one (unchanged relies on it).
			markVerifiedAs(&obj.Status.Conditions, obj.Generation, chartVerifiedMessage(version))
		}
		return msg, err
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
