package v1

import (
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_Kustomization reproduces the defaults of Flux's CRD: a missing
// status reads as {"observedGeneration": -1}, so clients can tell "never
// reconciled" from "reconciled generation 0". The other CRD defaults
// (spec.force and spec.postBuild.substituteFrom[].optional, both false) are
// the Go zero values and need no code.
func SetDefaults_Kustomization(obj *Kustomization) {
	if apiequality.Semantic.DeepEqual(obj.Status, KustomizationStatus{}) {
		obj.Status.ObservedGeneration = -1
	}
}
