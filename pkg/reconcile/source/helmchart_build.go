package source

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// builtChart is a chart ready to store.
type builtChart struct {
	name, version  string
	data           []byte
	sourceRevision string
	valuesFiles    []string
	reason         string
	message        string
}

// reconcileFromSource packages the chart at spec.chart inside the artifact
// of a GitRepository or Bucket, as Flux's local chart builder does:
// dependencies not vendored in its charts/ directory are downloaded (with
// the credentials of the HelmRepository of this namespace that has their
// repository's URL) or packaged from file:// paths inside the source.
func (r *HelmChartReconciler) reconcileFromSource(ctx context.Context, obj *sourcev1.HelmChart) (string, error) {
	kind, ns, name := obj.Spec.SourceRef.Kind, obj.Namespace, obj.Spec.SourceRef.Name
	src, err := r.sourceArtifact(obj)
	if err != nil {
		return "", r.fetchFailed(obj, err)
	}
	if a := obj.Status.Artifact; a != nil && obj.Status.ObservedSourceArtifactRevision == src.Revision &&
		obj.Status.ObservedGeneration == obj.Generation && obj.Status.ObservedChartName != "" &&
		apimeta.IsStatusConditionTrue(obj.Status.Conditions, common.ReadyCondition) && r.Store.Exists(a.Path) {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
		return chartMessage(obj, obj.Status.ObservedChartName, a.Revision), nil
	}

	work, err := os.MkdirTemp(r.TmpDir, "helmchart-")
	if err != nil {
		return "", loop.Failf(source.StorageOperationFailedCondition, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(work)
	dir := filepath.Join(work, "source")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", loop.Failf(source.StorageOperationFailedCondition, "failed to create a working directory: %w", err)
	}
	if err := r.extractSource(kind, ns, name, src, dir); err != nil {
		return "", r.fetchFailed(obj, err)
	}
	chartDir, err := helm.SecureJoin(dir, obj.Spec.Chart)
	if err != nil {
		return "", r.fetchFailed(obj, loop.Stallf(chartPullErrorReason, "spec.chart: %v", err))
	}
	opts := helm.BuildOptions{ValuesFiles: obj.Spec.ValuesFiles, ValuesRoot: dir,
		IgnoreMissingValuesFiles: obj.Spec.IgnoreMissingValuesFiles, MaxSize: r.MaxFetchSize, WorkDir: work,
		Dependencies: r.dependencyOptions(ctx, ns, dir)}
	if obj.Spec.ReconcileStrategy == source.ReconcileStrategyRevision {
		opts.SourceRevision = src.Revision
	}
	res, err := helm.BuildDir(ctx, chartDir, opts)
	if err != nil {
		return "", r.fetchFailed(obj, buildError(err, "failed to package chart '%s' from %s '%s/%s'", obj.Spec.Chart, kind, ns, name))
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
	return r.storeChart(ctx, obj, builtChart{name: res.Name, version: res.Version, data: res.Data, sourceRevision: src.Revision,
		valuesFiles: res.ValuesFiles, reason: source.ChartPackageSucceededReason, message: chartMessage(obj, res.Name, res.Version)})
}

// dependencyOptions say how chart dependencies reach their repositories:
// with the credentials of the HelmRepository of namespace ns whose URL is
// the dependency's repository (of type oci for oci:// URLs), else
// anonymously, as Flux does. Only this namespace's HelmRepositories count.
func (r *HelmChartReconciler) dependencyOptions(ctx context.Context, ns, sourceRoot string) *helm.DependencyOptions {
	return &helm.DependencyOptions{
		SourceRoot: sourceRoot,
		Repository: func(u string) (helm.RepositoryOptions, error) {
			repo, err := r.repositoryWithURL(ns, u, false)
			if err != nil || repo == nil {
				return helm.RepositoryOptions{URL: u, Timeout: helm.DefaultTimeout, MaxSize: r.MaxFetchSize, UserAgent: helmUserAgent}, err
			}
			return r.helmRepositoryOptions(ctx, ns, &repo.Spec)
		},
		Registry: func(u string) (helm.RegistryHost, error) {
			repo, err := r.repositoryWithURL(ns, u, true)
			if err != nil || repo == nil {
				return helm.RegistryHost{}, err
			}
			return r.registryHost(ctx, ns, &repo.Spec)
		},
		Timeout: helm.DefaultTimeout, MaxSize: r.MaxFetchSize, UserAgent: helmUserAgent,
	}
}

// repositoryWithURL is the HelmRepository of namespace ns with URL u (the
// first by name when several have it), or nil.
func (r *HelmChartReconciler) repositoryWithURL(ns, u string, oci bool) (*sourcev1.HelmRepository, error) {
	if r.ListHelmRepositories == nil {
		return nil, nil
	}
	repos, err := r.ListHelmRepositories(ns)
	if err != nil {
		return nil, loop.Failf(sourceUnavailableReason, "failed to list the HelmRepositories of namespace '%s': %w", ns, err)
	}
	var found *sourcev1.HelmRepository
	for _, repo := range repos {
		if (repo.Spec.Type == source.HelmRepositoryTypeOCI) == oci && sameRepositoryURL(repo.Spec.URL, u) &&
			(found == nil || repo.Name < found.Name) {
			found = repo
		}
	}
	return found, nil
}

// withValues re-packages a chart pulled from a HelmRepository with its
// values replaced by spec.valuesFiles (paths inside the chart, as in Flux).
func (r *HelmChartReconciler) withValues(obj *sourcev1.HelmChart, in builtChart) (builtChart, error) {
	work, err := os.MkdirTemp(r.TmpDir, "helmchart-")
	if err != nil {
		return in, loop.Failf(source.StorageOperationFailedCondition, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(work)
	res, err := helm.BuildArchive(in.data, helm.BuildOptions{ValuesFiles: obj.Spec.ValuesFiles,
		IgnoreMissingValuesFiles: obj.Spec.IgnoreMissingValuesFiles, MaxSize: r.MaxFetchSize, WorkDir: work})
	if err != nil {
		return in, buildError(err, "failed to package chart '%s' version %s", in.name, in.version)
	}
	in.data, in.valuesFiles = res.Data, res.ValuesFiles
	in.reason, in.message = source.ChartPackageSucceededReason, chartMessage(obj, in.name, in.version)
	return in, nil
}

// buildError stalls on what only a change to the chart or the spec fixes;
// an error that has a reason already (a Secret of a dependency's
// HelmRepository, say) keeps it.
func buildError(err error, format string, args ...interface{}) error {
	args = append(args, err)
	outcome, reason := loop.Classify(err, "")
	switch {
	case outcome == loop.Stalled || errors.Is(err, helm.ErrDependency) || errors.Is(err, helm.ErrUnsafePath):
		if reason == "" {
			reason = chartPullErrorReason
		}
		return loop.Stallf(reason, format+": %w", args...)
	case reason != "":
	case errors.Is(err, helm.ErrAuthentication):
		reason = source.AuthenticationFailedReason
	default:
		reason = chartPullErrorReason
	}
	return loop.Failf(reason, format+": %w", args...)
}

// sourceArtifact reads the GitRepository or Bucket and waits until it has
// an artifact.
func (r *HelmChartReconciler) sourceArtifact(obj *sourcev1.HelmChart) (*common.Artifact, error) {
	kind, ns, name := obj.Spec.SourceRef.Kind, obj.Namespace, obj.Spec.SourceRef.Name
	var a *common.Artifact
	var err error
	switch kind {
	case source.GitRepositoryKind:
		var repo *sourcev1.GitRepository
		if repo, err = r.GetGitRepository(ns, name); err == nil {
			a = repo.Status.Artifact
		}
	case source.BucketKind:
		var b *sourcev1.Bucket
		if b, err = r.GetBucket(ns, name); err == nil {
			a = b.Status.Artifact
		}
	default:
		return nil, loop.Stallf(chartPullErrorReason, "spec.sourceRef.kind '%s' is not supported", kind)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "%s '%s/%s' not found", kind, ns, name)
	case err != nil:
		return nil, loop.Failf(sourceUnavailableReason, "failed to get %s '%s/%s': %w", kind, ns, name, err)
	case a == nil:
		return nil, loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "%s '%s/%s' has no artifact yet", kind, ns, name)
	}
	return a, nil
}

// extractSource unpacks the source's artifact into dir.
func (r *HelmChartReconciler) extractSource(kind, ns, name string, a *common.Artifact, dir string) error {
	rc, _, err := r.Store.OpenFor(artifact.Key{Kind: kind, Namespace: ns, Name: name}, a.Path)
	if errors.Is(err, artifact.ErrNotFound) {
		return loop.Waitf(sourceUnavailableReason, helmChartSourceRetryAfter, "the artifact of %s '%s/%s' is not in storage", kind, ns, name)
	}
	if err != nil {
		return loop.Failf(source.ReadOperationFailedReason, "failed to open the artifact of %s '%s/%s': %w", kind, ns, name, err)
	}
	defer rc.Close()
	if err := artifact.Extract(rc, dir, artifact.ExtractOptions{MaxSize: r.MaxFetchSize}); err != nil {
		return loop.Failf(source.ReadOperationFailedReason, "failed to unpack the artifact of %s '%s/%s': %w", kind, ns, name, err)
	}
	return nil
}

// storeChart stores a pulled or packaged chart and records it in status.
func (r *HelmChartReconciler) storeChart(ctx context.Context, obj *sourcev1.HelmChart, c builtChart) (string, error) {
	key := artifact.Key{Kind: source.HelmChartKind, Namespace: obj.Namespace, Name: obj.Name}
	stored, err := r.Store.PutArchive(ctx, key, bytes.NewReader(c.data))
	if err != nil {
		return "", storageFailed(&obj.Status.Conditions, obj.Generation, "failed to store chart '%s' version %s: %w", c.name, c.version, err)
	}
	previous := obj.Status.Artifact
	obj.Status.Artifact = storedArtifact("helmcharts", obj.Namespace, obj.Name, c.version, stored)
	obj.Status.URL = obj.Status.Artifact.URL
	obj.Status.ObservedChartName = c.name
	obj.Status.ObservedSourceArtifactRevision = c.sourceRevision
	obj.Status.ObservedValuesFiles = slices.Clone(c.valuesFiles)
	markStored(&obj.Status.Conditions, obj.Generation, c.reason, c.message)
	if previous == nil || previous.Revision != c.version || previous.Digest != stored.Digest {
		r.Events.Event(obj, corev1.EventTypeNormal, c.reason, c.message)
	}
	r.gc(obj, key, stored.Path)
	return c.message, nil
}
