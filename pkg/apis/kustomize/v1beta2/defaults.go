package v1beta2

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_Kustomization reproduces the defaults of Flux's v1beta2 CRD: a
// missing status reads as {"observedGeneration": -1}, i.e. never reconciled.
// The CRD's other defaults (spec.force and
// spec.postBuild.substituteFrom[].optional, both false) are Go zero values.
func SetDefaults_Kustomization(obj *Kustomization) {
	if equality.Semantic.DeepEqual(obj.Status, KustomizationStatus{}) {
		obj.Status.ObservedGeneration = -1
	}
}
