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
		// withSource reconciles spec.chartRef; the HelmChart made from
		// spec.chart is the HelmRelease worker's, which is not built yet.
		SourceRef: func(obj runtime.Object) (string, string, string, bool) {
			ref := obj.(*helm.HelmRelease).Spec.ChartRef
			if ref == nil {
				return "", "", "", false
			}
			return ref.Kind, ref.Namespace, ref.Name, true
		},
		New:            func() runtime.Object { return &helm.HelmRelease{} },
		NewList:        func() runtime.Object { return &helm.HelmReleaseList{} },
		Validate:       registry.Validate(validation.ValidateHelmRelease),
		ValidateUpdate: registry.ValidateUpdate(validation.ValidateHelmReleaseUpdate),
		Columns: append([]registry.Column{
			registry.StringColumn("Chart", "The chart released.", 1, registry.Text(chart)),
			registry.StringColumn("Revision", "Chart version of the last attempt.", 0,
				registry.Text(func(o *helm.HelmRelease) string { return o.Status.LastAttemptedRevision })),
		}, registry.StatusColumns()...),
	}}
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
