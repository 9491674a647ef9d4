package v1

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// Flux's CRD defaults.
const (
	defaultRegistryProvider = "generic"
	defaultExclusionPattern = `^.*\.sig$`
	defaultSortOrder        = "asc"
	defaultSourceKind       = "GitRepository"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_ImageRepository authenticates as "generic" and skips
// signature tags unless told otherwise.
func SetDefaults_ImageRepository(obj *ImageRepository) {
	if obj.Spec.Provider == "" {
		obj.Spec.Provider = defaultRegistryProvider
	}
	if obj.Spec.ExclusionList == nil {
		obj.Spec.ExclusionList = []string{defaultExclusionPattern}
	}
	if isEmptyImageRepositoryStatus(&obj.Status) {
		obj.Status.ObservedGeneration = -1
	}
}

// SetDefaults_ImagePolicy never reflects digests and sorts ascending unless
// told otherwise.
func SetDefaults_ImagePolicy(obj *ImagePolicy) {
	if obj.Spec.DigestReflectionPolicy == "" {
		obj.Spec.DigestReflectionPolicy = ReflectNever
	}
	if p := obj.Spec.Policy.Alphabetical; p != nil && p.Order == "" {
		p.Order = defaultSortOrder
	}
	if p := obj.Spec.Policy.Numerical; p != nil && p.Order == "" {
		p.Order = defaultSortOrder
	}
	if isEmptyImagePolicyStatus(&obj.Status) {
		obj.Status.ObservedGeneration = -1
	}
}

// SetDefaults_ImageUpdateAutomation updates from a GitRepository with the
// Setters strategy unless told otherwise.
func SetDefaults_ImageUpdateAutomation(obj *ImageUpdateAutomation) {
	if obj.Spec.SourceRef.Kind == "" {
		obj.Spec.SourceRef.Kind = defaultSourceKind
	}
	if obj.Spec.Update == nil {
		obj.Spec.Update = &UpdateStrategy{}
	}
	if obj.Spec.Update.Strategy == "" {
		obj.Spec.Update.Strategy = UpdateStrategySetters
	}
	if isEmptyImageUpdateAutomationStatus(&obj.Status) {
		obj.Status.ObservedGeneration = -1
	}
}

// The CRDs default status to {observedGeneration: -1} when no status field
// is set; these report that case.

func isEmptyImageRepositoryStatus(s *ImageRepositoryStatus) bool {
	return len(s.Conditions) == 0 && s.ObservedGeneration == 0 && s.CanonicalImageName == "" &&
		s.LastScanResult == nil && len(s.ObservedExclusionList) == 0 && s.LastHandledReconcileAt == ""
}

func isEmptyImagePolicyStatus(s *ImagePolicyStatus) bool {
	return s.LatestRef == nil && s.ObservedPreviousRef == nil && s.ObservedGeneration == 0 &&
		len(s.Conditions) == 0 && s.LastHandledReconcileAt == ""
}

func isEmptyImageUpdateAutomationStatus(s *ImageUpdateAutomationStatus) bool {
	return s.LastAutomationRunTime == nil && s.LastPushCommit == "" && s.LastPushTime == nil &&
		s.ObservedGeneration == 0 && len(s.Conditions) == 0 && len(s.ObservedPolicies) == 0 &&
		s.ObservedSourceRevision == "" && s.LastHandledReconcileAt == ""
}
