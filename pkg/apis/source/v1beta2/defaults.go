package v1beta2

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// These reproduce the +kubebuilder:default markers of Flux's v1beta2 CRDs.

// defaultTimeout is the CRD default of spec.timeout,
// written as Flux writes it.
const defaultTimeout common.Duration = "60s"

// unobservedGeneration is what Flux's CRDs put in status.observedGeneration
// of an object whose status is absent, i.e. that was never reconciled.
const unobservedGeneration = -1

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

func defaultDuration(d **common.Duration, value common.Duration) {
	if *d == nil {
		*d = &value
	}
}

func defaultString(s *string, value string) {
	if *s == "" {
		*s = value
	}
}

// defaultObservedGeneration applies the CRD default of status
// ({"observedGeneration": -1}), which takes effect only when status is
// absent; a zero-valued status is the closest Go equivalent.
func defaultObservedGeneration[T any](status *T, observedGeneration *int64) {
	var zero T
	if equality.Semantic.DeepEqual(*status, zero) {
		*observedGeneration = unobservedGeneration
	}
}

// SetDefaults_OCIRepository defaults the status of a never-reconciled object.
func SetDefaults_OCIRepository(obj *OCIRepository) {
	defaultObservedGeneration(&obj.Status, &obj.Status.ObservedGeneration)
}

// SetDefaults_OCIRepositorySpec sets provider to generic and timeout to 60s.
func SetDefaults_OCIRepositorySpec(obj *OCIRepositorySpec) {
	defaultString(&obj.Provider, source.GenericProvider)
	defaultDuration(&obj.Timeout, defaultTimeout)
}

// SetDefaults_OCIRepositoryVerification sets provider to cosign.
func SetDefaults_OCIRepositoryVerification(obj *OCIRepositoryVerification) {
	defaultString(&obj.Provider, source.CosignVerificationProvider)
}

// SetDefaults_Bucket defaults the status of a never-reconciled object.
func SetDefaults_Bucket(obj *Bucket) {
	defaultObservedGeneration(&obj.Status, &obj.Status.ObservedGeneration)
}

// SetDefaults_BucketSpec sets provider to generic and timeout to 60s.
func SetDefaults_BucketSpec(obj *BucketSpec) {
	defaultString(&obj.Provider, source.GenericProvider)
	defaultDuration(&obj.Timeout, defaultTimeout)
}
