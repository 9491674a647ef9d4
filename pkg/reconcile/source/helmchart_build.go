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
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helmchart"
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
// of a GitRepository or Bucket, as Flux's local chart builder does.
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

	dir, err := os.MkdirTemp(r.TmpDir, "helmchart-")
	if err != nil {
		return "", loop.Failf(source.StorageOperationFailedCondition, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := r.extractSource(kind, ns, name, src, dir); err != nil {
		return "", r.fetchFailed(obj, err)
	}
	chartDir, err := helmchart.SecureJoin(dir, obj.Spec.Chart)
	if err != nil {
		return "", r.fetchFailed(obj, loop.Stallf(chartPullErrorReason, "spec.chart: %v", err))
	}
	opts := helmchart.Options{ValuesFiles: obj.Spec.ValuesFiles, ValuesRoot: dir,
		IgnoreMissingValuesFiles: obj.Spec.IgnoreMissingValuesFiles, MaxSize: r.MaxFetchSize}
	if obj.Spec.ReconcileStrategy == source.ReconcileStrategyRevision {
		opts.SourceRevision = src.Revision
	}
	res, err := helmchart.Build(chartDir, opts)
	if err != nil {
		return "", r.fetchFailed(obj, buildError(err, "failed to package chart '%s' from %s '%s/%s'", obj.Spec.Chart, kind, ns, name))
	}
	apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.FetchFailedCondition)
	return r.storeChart(ctx, obj, builtChart{name: res.Name, version: res.Version, data: res.Data, sourceRevision: src.Revision,
		valuesFiles: res.ValuesFiles, reason: source.ChartPackageSucceededReason, message: chartMessage(obj, res.Name, res.Version)})
}

// withValues re-packages a chart pulled from a HelmRepository with its
// values replaced by spec.valuesFiles (paths inside the chart, as in Flux).
func (r *HelmChartReconciler) withValues(obj *sourcev1.HelmChart, in builtChart) (builtChart, error) {
	dir, err := os.MkdirTemp(r.TmpDir, "helmchart-")
	if err != nil {
		return in, loop.Failf(source.StorageOperationFailedCondition, "failed to create a working directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := artifact.Extract(bytes.NewReader(in.data), dir, artifact.ExtractOptions{MaxSize: r.MaxFetchSize}); err != nil {
		return in, loop.Failf(chartPullErrorReason, "failed to unpack chart '%s' version %s: %w", in.name, in.version, err)
	}
	chartDir := filepath.Join(dir, in.name)
	res, err := helmchart.Build(chartDir, helmchart.Options{ValuesFiles: obj.Spec.ValuesFiles, ValuesRoot: chartDir,
		IgnoreMissingValuesFiles: obj.Spec.IgnoreMissingValuesFiles, MaxSize: r.MaxFetchSize})
	if err != nil {
		return in, buildError(err, "failed to package chart '%s' version %s", in.name, in.version)
	}
	in.data, in.valuesFiles = res.Data, res.ValuesFiles
	in.reason, in.message = source.ChartPackageSucceededReason, chartMessage(obj, in.name, in.version)
	return in, nil
}

// buildError stalls on what only a change to the chart or the spec fixes.
func buildError(err error, format string, args ...interface{}) error {
	if errors.Is(err, helmchart.ErrDependenciesNotBuilt) || errors.Is(err, helmchart.ErrUnsafePath) {
		return loop.Stallf(chartPullErrorReason, format+": %v", append(args, err)...)
	}
	return loop.Failf(chartPullErrorReason, format+": %w", append(args, err)...)
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
