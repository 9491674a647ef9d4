package source

import (
	"context"
	"errors"
	"os"
	"time"

	repov1 "helm.sh/helm/v4/pkg/repo/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Flux's HelmChart failure reasons.
const (
	chartPullErrorReason      = "ChartPullError"
	sourceUnavailableReason   = "SourceUnavailable"
	helmChartSourceRetryAfter = 10 * time.Second
)

// HelmChartReconciler turns a HelmChart into an artifact, a packaged chart
// (.tgz):
//   - from an HTTP/S HelmRepository, the version selected in its stored
//     index, as the repository serves it;
//   - from a HelmRepository of type oci, the version resolved against the
//     registry's tags, as the registry serves it (helmchart_oci.go);
//   - from a GitRepository or Bucket, the chart directory of the source's
//     artifact packaged, its missing dependencies built
//     (helmchart_build.go).
//
// Pulled charts are re-packaged with their values replaced when
// spec.valuesFiles is set. The revision is the chart version (Flux's
// ChartVersion strategy) or, for spec.reconcileStrategy Revision, the
// version stamped with the source revision. spec.verify checks the cosign
// signatures of charts from a HelmRepository of type oci
// (helmchart_verify.go).
type HelmChartReconciler struct {
	// Env is shared by the source controllers; Events is set once the
	// workers start.
	*Env
	// GetHelmRepository reads the HelmRepository a chart refers to.
	GetHelmRepository func(namespace, name string) (*sourcev1.HelmRepository, error)
	// GetGitRepository and GetBucket read the other kinds of source.
	GetGitRepository func(namespace, name string) (*sourcev1.GitRepository, error)
	GetBucket        func(namespace, name string) (*sourcev1.Bucket, error)
	// ListHelmRepositories lists the HelmRepositories of a namespace: the
	// dependencies of a chart built from a directory use the credentials
	// of the one with their repository's URL, as in Flux (nil: none).
	ListHelmRepositories func(namespace string) ([]*sourcev1.HelmRepository, error)
}

var _ loop.Reconciler[*sourcev1.HelmChart] = &HelmChartReconciler{}

// Reconcile implements loop.Reconciler.
func (r *HelmChartReconciler) Reconcile(ctx context.Context, obj *sourcev1.HelmChart) loop.Result {
	ctx = netguard.WithContext(ctx, r.Guard)
	return r.run(obj, sourceState{
		suspend: obj.Spec.Suspend, interval: obj.Spec.Interval,
		request: &obj.Status.ReconcileRequestStatus, conditions: &obj.Status.Conditions,
		observedGeneration: &obj.Status.ObservedGeneration, successReason: chartReason(obj), failureReason: chartPullErrorReason,
	}, func() (string, error) { return r.reconcile(ctx, obj) })
}

// reconcile selects, pulls and stores the chart; it returns the Ready
// message on success. On failure the last artifact stays.
func (r *HelmChartReconciler) reconcile(ctx context.Context, obj *sourcev1.HelmChart) (string, error) {
	// spec.reconcileStrategy only matters for GitRepository and Bucket
	// sources: a chart from a HelmRepository changes with its version.
	if err := chartVerification(obj, nil); err != nil {
		return "", r.fetchFailed(obj, err)
	}
	if obj.Spec.SourceRef.Kind != source.HelmRepositoryKind {
		return r.reconcileFromSource(ctx, obj)
	}
	repo, err := r.repository(obj)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	if repo.Spec.Type == source.HelmRepositoryTypeOCI {
		return r.reconcileFromRegistry(ctx, obj, repo)
	}
	index, err := r.index(repo)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	cv, err := helm.SelectVersion(index, obj.Spec.Chart, obj.Spec.Version)
	if err != nil {
		// The repository may publish the chart later: retried.
		return "", r.fetchFailed(obj, loop.Failf(chartPullErrorReason, "HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err))
	}
	if msg, ok := r.unchanged(obj, cv.Version); ok {
		obj.Status.ObservedSourceArtifactRevision = repo.Status.Artifact.Revision
		return msg, nil
	}

	client, err := r.helmRepository(ctx, repo.Namespace, &repo.Spec)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	data, err := client.FetchChart(ctx, cv)
	if err == nil {
		err = helm.CheckChart(data, obj.Spec.Chart, cv.Version)
	}
	if err != nil {
		return "", r.fetchFailed(obj, chartError(err, "failed to pull chart '%s' version %s", obj.Spec.Chart, cv.Version))
	}
	return r.pulled(ctx, obj, builtChart{name: obj.Spec.Chart, version: cv.Version, data: data, sourceRevision: repo.Status.Artifact.Revision})
}

// unchanged reports whether the stored artifact already is this version of
// the chart for this generation (and verified by it, with spec.verify); it
// returns the Ready message if so.
func (r *HelmChartReconciler) unchanged(obj *sourcev1.HelmChart, version string) (string, bool) {
	a := obj.Status.Artifact
	if a == nil || a.Revision != version || obj.Status.ObservedChartName != obj.Spec.Chart ||
		obj.Status.ObservedGeneration != obj.Generation || !chartVerified(obj, version) || !r.Store.Exists(a.Path) {
		return "", false
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
	return chartMessage(obj, obj.Spec.Chart, version), true
}

// pulled stores a chart pulled from a repository or registry, with its
// values replaced first when spec.valuesFiles is set.
func (r *HelmChartReconciler) pulled(ctx context.Context, obj *sourcev1.HelmChart, out builtChart) (string, error) {
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
	out.reason, out.message = source.ChartPullSucceededReason, chartMessage(obj, out.name, out.version)
	if len(obj.Spec.ValuesFiles) > 0 {
		var err error
		if out, err = r.withValues(obj, out); err != nil {
			return "", r.fetchFailed(obj, err)
		}
	}
	return r.storeChart(ctx, obj, out)
}

// chartMessage is Flux's Ready message: a chart is "pulled" when it is
// stored as the repository serves it, "packaged" when it was built.
func chartMessage(obj *sourcev1.HelmChart, chart, version string) string {
	verb := "pulled"
	if chartReason(obj) == source.ChartPackageSucceededReason {
		verb = "packaged"
	}
	return verb + " '" + chart + "' chart with version '" + version + "'"
}

// chartReason is Ready's reason on success.
func chartReason(obj *sourcev1.HelmChart) string {
	if obj.Spec.SourceRef.Kind != source.HelmRepositoryKind || len(obj.Spec.ValuesFiles) > 0 {
		return source.ChartPackageSucceededReason
	}
	return source.ChartPullSucceededReason
}

// repository reads the source, refuses a spec.verify it cannot honour and,
// unless it is of type oci (a static object), waits until it has an index
// artifact.
func (r *HelmChartReconciler) repository(obj *sourcev1.HelmChart) (*sourcev1.HelmRepository, error) {
	ns, name := obj.Namespace, obj.Spec.SourceRef.Name
	repo, err := r.GetHelmRepository(ns, name)
	switch {
	case apierrors.IsNotFound(err):
		return nil, loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "HelmRepository '%s/%s' not found", ns, name)
	case err != nil:
		return nil, loop.Failf(sourceUnavailableReason, "failed to get HelmRepository '%s/%s': %w", ns, name, err)
	}
	if err := chartVerification(obj, repo); err != nil {
		return nil, err
	}
	switch {
	case repo.Spec.Type == source.HelmRepositoryTypeOCI:
		return repo, nil
	case repo.Status.Artifact == nil:
		return nil, loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "HelmRepository '%s/%s' has no artifact yet", ns, name)
	}
	return repo, nil
}

// index reads the repository's index from its stored artifact.
func (r *HelmChartReconciler) index(repo *sourcev1.HelmRepository) (*repov1.IndexFile, error) {
	rc, _, err := r.Store.OpenFor(artifact.Key{Kind: source.HelmRepositoryKind, Namespace: repo.Namespace, Name: repo.Name}, repo.Status.Artifact.Path)
	if errors.Is(err, artifact.ErrNotFound) {
		// The HelmRepository worker stores it again on its next run.
		return nil, loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "the artifact of HelmRepository '%s/%s' is not in storage", repo.Namespace, repo.Name)
	}
	if err != nil {
		return nil, loop.Failf(source.ReadOperationFailedReason, "failed to open the index of HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err)
	}
	defer rc.Close()
	dir, err := os.MkdirTemp(r.TmpDir, "helmindex-")
	if err != nil {
		return nil, loop.Failf(source.StorageOperationFailedCondition, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(dir)
	index, err := helm.ReadIndexArchive(rc, helm.DefaultMaxIndexSize, dir)
	if err != nil {
		return nil, loop.Failf(source.ReadOperationFailedReason, "failed to read the index of HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err)
	}
	return index, nil
}

// chartError gives a failed pull Flux's reason.
func chartError(err error, format string, args ...interface{}) error {
	if errors.Is(err, helm.ErrAuthentication) {
		return loop.Failf(source.AuthenticationFailedReason, format+": %w", append(args, err)...)
	}
	return loop.Failf(chartPullErrorReason, format+": %w", append(args, err)...)
}

func (r *HelmChartReconciler) fetchFailed(obj *sourcev1.HelmChart, err error) error {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: source.FetchFailedCondition, Status: metav1.ConditionTrue,
		Reason: reasonOf(err, chartPullErrorReason), Message: err.Error(), ObservedGeneration: obj.Generation})
	return err
}
