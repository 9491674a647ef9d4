package v1beta3

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// defaultEventSeverity is Flux's CRD default for spec.eventSeverity.
const defaultEventSeverity = "info"

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_Alert forwards every severity unless told otherwise.
func SetDefaults_Alert(obj *Alert) {
	if obj.Spec.EventSeverity == "" {
		obj.Spec.EventSeverity = defaultEventSeverity
	}
}
