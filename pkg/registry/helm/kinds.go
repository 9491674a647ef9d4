// Package helm declares the helm.toolkit.fluxcd.io kinds to the registry.
package helm

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/registry"
)

// Kinds returns the helm kinds.
func Kinds() []*registry.Kind {
	return []*registry.Kind{{
		Resource: "helmreleases", Singular: "helmrelease", ShortNames: []string{"hr"},
		GroupKind: helm.Kind("HelmRelease"), Categories: []string{"fluxcd", "fluxcd-appliers"}, Reconcilable: true, Applier: true,
		Versions: []string{"v2"},
		// The worker uninstalls the release before the object goes.
		Finalizer: "finalizers.fluxcd.io",
		// withSource reconciles spec.chartRef, or the HelmChart the
		// worker makes from spec.chart (<namespace>-<name> in the
		// namespace of the chart's source, as Flux names it).
		SourceRef: func(obj runtime.Object) (string, string, string, bool) {
			hr := obj.(*helm.HelmRelease)
			if ref := hr.Spec.ChartRef; ref != nil {
				return ref.Kind, ref.Namespace, ref.Name, true
			}
			if c := hr.Spec.Chart; c != nil {
				return helm.HelmChartKind, c.Spec.SourceRef.Namespace, hr.Namespace + "-" + hr.Name, true
			}
			return "", "", "", false
		},
		New:            func() runtime.Object { return &helm.HelmRelease{} },
		NewList:        func() runtime.Object { return &helm.HelmReleaseList{} },
		Validate:       registry.Validate(validation.ValidateHelmRelease),
		ValidateUpdate: registry.ValidateUpdate(validation.ValidateHelmReleaseUpdate),
		Columns: append([]registry.Column{
			registry.StringColumn("Chart", "The chart released.", 1, registry.Text(chart)),
			registry.StringColumn("Revision", "Chart version of the latest release (of the last attempt before any).", 0,
				registry.Text(revision)),
		}, registry.StatusColumns()...),
	}}
}

// revision is what `flux get helmreleases` shows: the chart version of the
// newest release in the history, else of the last attempt.
func revision(o *helm.HelmRelease) string {
	if len(o.Status.History) > 0 {
		return o.Status.History[0].ChartVersion
	}
	return o.Status.LastAttemptedRevision
}

func chart(o *helm.HelmRelease) string {
	switch {
	case o.Spec.ChartRef != nil:
		return o.Spec.ChartRef.Kind + "/" + o.Spec.ChartRef.Name
	case o.Spec.Chart != nil:
		return o.Spec.Chart.Spec.Chart
	}
	return ""
}
