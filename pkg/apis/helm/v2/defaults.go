package v2

import (
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_HelmRelease sets the status default of Flux's CRD: a missing
// status reads as {"observedGeneration": -1}.
func SetDefaults_HelmRelease(obj *HelmRelease) {
	if apiequality.Semantic.DeepEqual(obj.Status, HelmReleaseStatus{}) {
		obj.Status.ObservedGeneration = -1
	}
}

// SetDefaults_HelmChartTemplateSpec sets the CRD defaults of spec.chart.spec:
// version "*" and reconcileStrategy ChartVersion.
func SetDefaults_HelmChartTemplateSpec(obj *HelmChartTemplateSpec) {
	if obj.Version == "" {
		obj.Version = "*"
	}
	if obj.ReconcileStrategy == "" {
		obj.ReconcileStrategy = "ChartVersion"
	}
}

// SetDefaults_HelmChartTemplateVerification sets the CRD default provider,
// cosign, of spec.chart.spec.verify.
func SetDefaults_HelmChartTemplateVerification(obj *HelmChartTemplateVerification) {
	if obj.Provider == "" {
		obj.Provider = "cosign"
	}
}

// SetDefaults_Uninstall sets the CRD default deletionPropagation,
// background, of spec.uninstall.
func SetDefaults_Uninstall(obj *Uninstall) {
	if obj.DeletionPropagation == nil {
		background := "background"
		obj.DeletionPropagation = &background
	}
}
