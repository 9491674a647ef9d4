package helm

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/source"
)

// Labels Flux puts on the HelmChart it makes for a HelmRelease.
const (
	ownerNameLabel      = helm.GroupName + "/name"
	ownerNamespaceLabel = helm.GroupName + "/namespace"
)

// chartSource is where the chart of a release comes from.
type chartSource struct {
	kind, namespace, name string
	artifact              *common.Artifact
}

func (c chartSource) String() string { return c.kind + "/" + c.namespace + "/" + c.name }

// loadChart returns the chart to release: from the HelmChart made from
// spec.chart (created or updated first), or from spec.chartRef.
func (r *Reconciler) loadChart(ctx context.Context, obj *helmv2.HelmRelease) (*chart.Chart, chartSource, error) {
	src, err := r.chartSource(ctx, obj)
	if err != nil {
		return nil, src, err
	}
	rc, err := r.openChart(ctx, src)
	if err != nil {
		return nil, src, err
	}
	defer rc.Close()
	var in io.Reader = rc
	if r.MaxChartSize > 0 {
		in = io.LimitReader(rc, r.MaxChartSize)
	}
	ch, err := loader.LoadArchive(in)
	if err != nil {
		return nil, src, loop.Failf(helm.ArtifactFailedReason, "failed to load the chart of %s: %v", src, err)
	}
	return ch, src, nil
}

// openChart opens the chart artifact of src: from the store, or, for an
// ExternalArtifact another server publishes (an http(s) URL), downloaded
// and checked against its digest by r.Fetcher, which keeps it until the
// digest changes.
func (r *Reconciler) openChart(ctx context.Context, src chartSource) (io.ReadCloser, error) {
	key := artifact.Key{Kind: src.kind, Namespace: src.namespace, Name: src.name}
	if src.kind == helm.ExternalArtifactKind && artifact.IsRemoteURL(src.artifact.URL) {
		return source.OpenExternal(ctx, r.Fetcher, key, src.artifact.URL, src.artifact.Digest,
			helm.ArtifactFailedReason, fmt.Sprintf("the chart of %s", src))
	}
	rc, _, err := r.Store.OpenFor(key, src.artifact.Path)
	if err != nil {
		return nil, loop.Failf(helm.ArtifactFailedReason, "failed to open the chart artifact of %s: %v", src, err)
	}
	return rc, nil
}

// chartSource finds the chart's source object and waits for its artifact.
func (r *Reconciler) chartSource(ctx context.Context, obj *helmv2.HelmRelease) (chartSource, error) {
	var src chartSource
	switch {
	case obj.Spec.ChartRef != nil:
		if err := r.dropTemplateChart(ctx, obj); err != nil {
			return src, err
		}
		ref := obj.Spec.ChartRef
		src = chartSource{kind: ref.Kind, namespace: ref.Namespace, name: ref.Name}
		if src.namespace == "" {
			src.namespace = obj.Namespace
		}
	case obj.Spec.Chart != nil:
		ns, name, err := r.ensureChart(ctx, obj)
		if err != nil {
			return src, err
		}
		src = chartSource{kind: helm.HelmChartKind, namespace: ns, name: name}
	default:
		return src, loop.Stallf(helm.ArtifactFailedReason, "spec.chart or spec.chartRef is required")
	}
	if src.namespace != obj.Namespace && r.NoCrossNamespaceRefs {
		return src, loop.Stallf(common.AccessDeniedReason,
			"cannot access %s: cross-namespace references are disabled", src)
	}
	s, err := r.GetSource(src.kind, src.namespace, src.name)
	switch {
	case apierrors.IsNotFound(err):
		return src, loop.Waitf(helm.ArtifactFailedReason, r.DependencyRequeue, "%s not found", src)
	case err != nil:
		return src, loop.Stallf(helm.ArtifactFailedReason, "%s: %v", src, err)
	case s.Artifact == nil:
		msg := s.Message
		if msg == "" {
			msg = "no artifact yet"
		}
		return src, loop.Waitf(helm.ArtifactFailedReason, r.DependencyRequeue, "%s is not ready: %s", src, msg)
	case src.kind == helm.ExternalArtifactKind && s.Ready != string(metav1.ConditionTrue):
		// Its producer may be replacing the artifact.
		msg := s.Message
		if msg == "" {
			msg = "it has no Ready=True condition"
		}
		return src, loop.Waitf(helm.ArtifactFailedReason, r.DependencyRequeue, "%s is not ready: %s", src, msg)
	}
	src.artifact = s.Artifact
	return src, nil
}

// ensureChart creates or updates the HelmChart of spec.chart and records it
// in status.helmChart.
func (r *Reconciler) ensureChart(ctx context.Context, obj *helmv2.HelmRelease) (string, string, error) {
	ns, name := chartName(obj)
	if ns != obj.Namespace && r.NoCrossNamespaceRefs {
		return ns, name, loop.Stallf(common.AccessDeniedReason,
			"cannot access %s/%s/%s: cross-namespace references are disabled", obj.Spec.Chart.Spec.SourceRef.Kind, ns, obj.Spec.Chart.Spec.SourceRef.Name)
	}
	want := templateChart(obj, ns, name)
	have, err := r.Charts.Get(ctx, ns, name)
	switch {
	case apierrors.IsNotFound(err):
		if err := r.Charts.Create(ctx, want); err != nil {
			return ns, name, loop.Failf(helm.ArtifactFailedReason, "failed to create HelmChart %s/%s: %v", ns, name, err)
		}
	case err != nil:
		return ns, name, loop.Failf(helm.ArtifactFailedReason, "failed to get HelmChart %s/%s: %v", ns, name, err)
	case !apiequality.Semantic.DeepEqual(have.Spec, want.Spec) || !containsAll(have.Labels, want.Labels) || !containsAll(have.Annotations, want.Annotations):
		updated := have.DeepCopy()
		updated.Spec = want.Spec
		updated.Labels = mergeStrings(updated.Labels, want.Labels)
		updated.Annotations = mergeStrings(updated.Annotations, want.Annotations)
		if err := r.Charts.Update(ctx, updated); err != nil {
			return ns, name, loop.Failf(helm.ArtifactFailedReason, "failed to update HelmChart %s/%s: %v", ns, name, err)
		}
	}
	obj.Status.HelmChart = ns + "/" + name
	return ns, name, nil
}

// dropTemplateChart deletes the HelmChart of an earlier spec.chart once
// the HelmRelease uses spec.chartRef.
func (r *Reconciler) dropTemplateChart(ctx context.Context, obj *helmv2.HelmRelease) error {
	if obj.Status.HelmChart == "" {
		return nil
	}
	ns, name, _ := strings.Cut(obj.Status.HelmChart, "/")
	if err := r.Charts.Delete(ctx, ns, name); err != nil && !apierrors.IsNotFound(err) {
		return loop.Failf(helm.ArtifactFailedReason, "failed to delete HelmChart %s: %v", obj.Status.HelmChart, err)
	}
	obj.Status.HelmChart = ""
	return nil
}

// templateChart is the HelmChart spec.chart describes.
func templateChart(obj *helmv2.HelmRelease, ns, name string) *sourcev1.HelmChart {
	t := obj.Spec.Chart
	interval := obj.Spec.Interval
	if t.Spec.Interval != nil {
		interval = *t.Spec.Interval
	}
	labels := map[string]string{ownerNameLabel: obj.Name, ownerNamespaceLabel: obj.Namespace}
	var annotations map[string]string
	if m := t.ObjectMeta; m != nil {
		labels = mergeStrings(maps.Clone(m.Labels), labels)
		annotations = maps.Clone(m.Annotations)
	}
	hc := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
		Spec: sourcev1.HelmChartSpec{
			Chart:   t.Spec.Chart,
			Version: t.Spec.Version,
			SourceRef: sourcev1.LocalHelmChartSourceReference{
				APIVersion: t.Spec.SourceRef.APIVersion, Kind: t.Spec.SourceRef.Kind, Name: t.Spec.SourceRef.Name,
			},
			Interval:                 interval,
			ReconcileStrategy:        t.Spec.ReconcileStrategy,
			ValuesFiles:              t.Spec.ValuesFiles,
			IgnoreMissingValuesFiles: t.Spec.IgnoreMissingValuesFiles,
		},
	}
	if hc.Spec.Version == "" {
		hc.Spec.Version = "*"
	}
	if hc.Spec.ReconcileStrategy == "" {
		hc.Spec.ReconcileStrategy = helm.ReconcileStrategyChartVersion
	}
	if v := t.Spec.Verify; v != nil {
		hc.Spec.Verify = &sourcev1.HelmChartVerification{Provider: v.Provider, SecretRef: v.SecretRef}
	}
	return hc
}

func containsAll(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func mergeStrings(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]string{}
	}
	maps.Copy(dst, src)
	return dst
}

// chartDescription names a chart in messages: name@version.
func chartDescription(ch *chart.Chart) string {
	return fmt.Sprintf("%s@%s", ch.Name(), ch.Metadata.Version)
}
