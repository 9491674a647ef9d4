package v1

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// defaultReceiverInterval is Flux's CRD default for spec.interval, written
// as Flux writes it.
const defaultReceiverInterval common.Duration = "10m"

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_Receiver applies the CRD defaults: a 10m interval, and
// observedGeneration -1 on a status that was never written.
func SetDefaults_Receiver(obj *Receiver) {
	if obj.Spec.Interval == nil {
		interval := defaultReceiverInterval
		obj.Spec.Interval = &interval
	}
	if isEmptyReceiverStatus(&obj.Status) {
		obj.Status.ObservedGeneration = -1
	}
}

// isEmptyReceiverStatus reports whether no status field is set, which is
// when the CRD's status default applies.
func isEmptyReceiverStatus(s *ReceiverStatus) bool {
	return s.LastHandledReconcileAt == "" && len(s.Conditions) == 0 &&
		s.WebhookPath == "" && s.ObservedGeneration == 0
}
