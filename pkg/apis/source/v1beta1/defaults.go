package v1beta1

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// These reproduce the +kubebuilder:default markers of Flux's last v1beta1
// GitRepository CRD: spec.timeout 60s, spec.gitImplementation go-git, and
// status {observedGeneration: -1}. Flux set no default for spec.ref or
// spec.verify.mode in v1beta1, so neither is defaulted here.

// defaultTimeout is the CRD default of spec.timeout, written as Flux writes it.
const defaultTimeout common.Duration = "60s"

// unobservedGeneration is what Flux's CRDs put in status.observedGeneration
// of an object whose status is absent, i.e. that was never reconciled.
const unobservedGeneration = -1

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_GitRepository defaults the status of a never-reconciled object.
// A zero-valued status is the closest Go equivalent of an absent one.
func SetDefaults_GitRepository(obj *GitRepository) {
	if equality.Semantic.DeepEqual(obj.Status, GitRepositoryStatus{}) {
		obj.Status.ObservedGeneration = unobservedGeneration
	}
}

// SetDefaults_GitRepositorySpec sets timeout to 60s and gitImplementation to
// go-git.
func SetDefaults_GitRepositorySpec(obj *GitRepositorySpec) {
	if obj.Timeout == nil {
		d := defaultTimeout
		obj.Timeout = &d
	}
	if obj.GitImplementation == "" {
		obj.GitImplementation = GoGitImplementation
	}
}
