package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// defaultReceiverInterval is Flux's CRD default for spec.interval.
const defaultReceiverInterval = 10 * time.Minute

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_Receiver applies the CRD defaults: a 10m interval, and
// observedGeneration -1 on a status that was never written.
func SetDefaults_Receiver(obj *Receiver) {
	if obj.Spec.Interval == nil {
		obj.Spec.Interval = &metav1.Duration{Duration: defaultReceiverInterval}
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
