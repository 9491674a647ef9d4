package source

import (
	"context"
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmrepo"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Flux's HelmChart failure reasons.
const (
	chartPullErrorReason      = "ChartPullError"
	sourceUnavailableReason   = "SourceUnavailable"
	helmChartSourceRetryAfter = 10 * time.Second
)

// HelmChartReconciler turns a HelmChart whose source is an HTTP/S
// HelmRepository into an artifact of the chart version it selects: the
// packaged chart (.tgz) as the repository serves it (re-packaged with its
// values replaced when spec.valuesFiles is set), revision the chart version
// (Flux's ChartVersion strategy); and a HelmChart whose source is a
// GitRepository or Bucket into the chart packaged from a directory of the
// source's artifact (see helmchart_build.go). OCI repositories, chart
// verification and dependencies that need downloading are not supported yet.
type HelmChartReconciler struct {
	// Env is shared by the source controllers; Events is set once the
	// workers start.
	*Env
	// GetHelmRepository reads the HelmRepository a chart refers to.
	GetHelmRepository func(namespace, name string) (*sourcev1.HelmRepository, error)
	// GetGitRepository and GetBucket read the other kinds of source.
	GetGitRepository func(namespace, name string) (*sourcev1.GitRepository, error)
	GetBucket        func(namespace, name string) (*sourcev1.Bucket, error)
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
	if err := unsupportedChart(obj); err != nil {
		return "", r.fetchFailed(obj, err)
	}
	if obj.Spec.SourceRef.Kind != source.HelmRepositoryKind {
		return r.reconcileFromSource(ctx, obj)
	}
	repo, err := r.repository(obj)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	index, err := r.index(repo)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	cv, err := index.Select(obj.Spec.Chart, obj.Spec.Version)
	if err != nil {
		// The repository may publish the chart later: retried.
		return "", r.fetchFailed(obj, loop.Failf(chartPullErrorReason, "HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err))
	}
	msg := chartMessage(obj, obj.Spec.Chart, cv.Version)
	if a := obj.Status.Artifact; a != nil && a.Revision == cv.Version && obj.Status.ObservedChartName == obj.Spec.Chart &&
		obj.Status.ObservedGeneration == obj.Generation && r.Store.Exists(a.Path) {
		obj.Status.ObservedSourceArtifactRevision = repo.Status.Artifact.Revision
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
		return msg, nil
	}

	client, err := r.helmClient(ctx, repo.Namespace, &repo.Spec)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	data, err := client.FetchChart(ctx, cv)
	if err == nil {
		err = checkChart(data, obj.Spec.Chart, cv.Version)
	}
	if err != nil {
		return "", r.fetchFailed(obj, chartError(err, "failed to pull chart '%s' version %s", obj.Spec.Chart, cv.Version))
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)

	out := builtChart{name: obj.Spec.Chart, version: cv.Version, data: data, sourceRevision: repo.Status.Artifact.Revision,
		reason: source.ChartPullSucceededReason, message: msg}
	if len(obj.Spec.ValuesFiles) > 0 {
		if out, err = r.withValues(obj, out); err != nil {
			return "", r.fetchFailed(obj, err)
		}
	}
	return r.storeChart(ctx, obj, out)
}

// chartMessage is Flux's Ready message: a chart is "pulled" when it is
// stored as the HelmRepository serves it, "packaged" when it was built.
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

// unsupportedChart says what this server cannot do yet; retrying cannot
// help until the spec changes.
func unsupportedChart(obj *sourcev1.HelmChart) error {
	switch {
	case obj.Spec.Verify != nil:
		return loop.Stallf(source.VerificationError, "spec.verify is not supported yet; remove it to use the chart unverified")
	}
	// spec.reconcileStrategy only matters for GitRepository and Bucket
	// sources: a chart from a HelmRepository changes with its version.
	// Validation limits spec.sourceRef.kind to the three kinds.
	return nil
}

// repository reads the source and waits until it has an index artifact.
func (r *HelmChartReconciler) repository(obj *sourcev1.HelmChart) (*sourcev1.HelmRepository, error) {
	ns, name := obj.Namespace, obj.Spec.SourceRef.Name
	repo, err := r.GetHelmRepository(ns, name)
	switch {
	case apierrors.IsNotFound(err):
		return nil, loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "HelmRepository '%s/%s' not found", ns, name)
	case err != nil:
		return nil, loop.Failf(sourceUnavailableReason, "failed to get HelmRepository '%s/%s': %w", ns, name, err)
	case repo.Spec.Type == source.HelmRepositoryTypeOCI:
		return nil, loop.Stallf(chartPullErrorReason, "HelmRepository '%s/%s' is of type oci: OCI Helm charts are not supported yet", ns, name)
	case repo.Status.Artifact == nil:
		return nil, loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "HelmRepository '%s/%s' has no artifact yet", ns, name)
	}
	return repo, nil
}

// index reads the repository's index from its stored artifact.
func (r *HelmChartReconciler) index(repo *sourcev1.HelmRepository) (*helmrepo.Index, error) {
	rc, _, err := r.Store.OpenFor(artifact.Key{Kind: source.HelmRepositoryKind, Namespace: repo.Namespace, Name: repo.Name}, repo.Status.Artifact.Path)
	if errors.Is(err, artifact.ErrNotFound) {
		// The HelmRepository worker stores it again on its next run.
		return nil, loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "the artifact of HelmRepository '%s/%s' is not in storage", repo.Namespace, repo.Name)
	}
	if err != nil {
		return nil, loop.Failf(source.ReadOperationFailedReason, "failed to open the index of HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err)
	}
	defer rc.Close()
	index, err := helmrepo.ReadIndexArchive(rc, r.MaxFetchSize)
	if err != nil {
		return nil, loop.Failf(source.ReadOperationFailedReason, "failed to read the index of HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err)
	}
	return index, nil
}

// checkChart makes sure data is the chart the index promised.
func checkChart(data []byte, chart, version string) error {
	md, err := helmrepo.ReadChartMetadata(data)
	if err != nil {
		return err
	}
	if md.Name != chart || md.Version != version {
		return errors.New("the archive holds chart '" + md.Name + "' version " + md.Version + ", not what the index lists")
	}
	return nil
}

func chartError(err error, format string, args ...interface{}) error {
	if errors.Is(err, helmrepo.ErrAuthentication) {
		return loop.Failf(source.AuthenticationFailedReason, format+": %w", append(args, err)...)
	}
	return loop.Failf(chartPullErrorReason, format+": %w", append(args, err)...)
}

func (r *HelmChartReconciler) fetchFailed(obj *sourcev1.HelmChart, err error) error {
	apimeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: source.FetchFailedCondition, Status: metav1.ConditionTrue,
		Reason: reasonOf(err, chartPullErrorReason), Message: err.Error(), ObservedGeneration: obj.Generation})
	return err
}
