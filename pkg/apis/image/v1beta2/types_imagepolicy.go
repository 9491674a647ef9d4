package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// ReflectionPolicy says when the digest of the latest image is recorded.
type ReflectionPolicy string

const (
	// ReflectAlways refreshes the digest every interval.
	ReflectAlways ReflectionPolicy = "Always"
	// ReflectIfNotPresent records the digest once per elected tag.
	ReflectIfNotPresent ReflectionPolicy = "IfNotPresent"
	// ReflectNever leaves the digest empty.
	ReflectNever ReflectionPolicy = "Never"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImagePolicy elects the latest image of an ImageRepository.
type ImagePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImagePolicySpec   `json:"spec,omitempty"`
	Status ImagePolicyStatus `json:"status,omitempty"`
}

// ImagePolicySpec says how to choose the latest image.
type ImagePolicySpec struct {
	// ImageRepositoryRef names the scanned ImageRepository.
	ImageRepositoryRef common.NamespacedObjectReference `json:"imageRepositoryRef"`
	// Policy orders the tags; exactly one member must be set.
	Policy ImagePolicyChoice `json:"policy"`
	// FilterTags limits and rewrites the tags considered.
	// +optional
	FilterTags *TagFilter `json:"filterTags,omitempty"`
	// DigestReflectionPolicy governs status.latestRef.digest; Never by
	// default.
	// +optional
	DigestReflectionPolicy ReflectionPolicy `json:"digestReflectionPolicy,omitempty"`
	// Interval between digest refreshes; only, and then required, with
	// digestReflectionPolicy Always.
	// +optional
	Interval *common.Duration `json:"interval,omitempty"`
	// Suspend stops further reconciliations.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ImagePolicyChoice holds one way of ordering tags.
type ImagePolicyChoice struct {
	// SemVer picks the highest version within a range.
	// +optional
	SemVer *SemVerPolicy `json:"semver,omitempty"`
	// Alphabetical orders tags as strings.
	// +optional
	Alphabetical *AlphabeticalPolicy `json:"alphabetical,omitempty"`
	// Numerical orders tags as numbers.
	// +optional
	Numerical *NumericalPolicy `json:"numerical,omitempty"`
}

// SemVerPolicy picks the highest semantic version within Range.
type SemVerPolicy struct {
	// Range is a semver constraint, e.g. ">=1.0.0 <2.0.0".
	Range string `json:"range"`
}

// AlphabeticalPolicy orders tags alphabetically.
type AlphabeticalPolicy struct {
	// Order is asc (default; picks the last) or desc (picks the first).
	// +optional
	Order string `json:"order,omitempty"`
}

// NumericalPolicy orders tags numerically.
type NumericalPolicy struct {
	// Order is asc (default; picks the largest) or desc (picks the smallest).
	// +optional
	Order string `json:"order,omitempty"`
}

// TagFilter keeps tags matching Pattern, optionally replacing each by Extract.
type TagFilter struct {
	// Pattern is a regular expression tags must match.
	// +optional
	Pattern string `json:"pattern"`
	// Extract is the replacement (e.g. "$ts") compared instead of the tag.
	// +optional
	Extract string `json:"extract"`
}

// ImageRef identifies one image.
type ImageRef struct {
	// Name is the image name without tag or digest.
	Name string `json:"name"`
	// Tag of the image.
	Tag string `json:"tag"`
	// Digest of the image.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// ImagePolicyStatus is the observed state of an ImagePolicy.
type ImagePolicyStatus struct {
	// LatestRef is the elected image.
	// +optional
	LatestRef *ImageRef `json:"latestRef,omitempty"`
	// ObservedPreviousRef is the image elected before LatestRef.
	// +optional
	ObservedPreviousRef *ImageRef `json:"observedPreviousRef,omitempty"`
	// ObservedGeneration is the last generation reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions of the ImagePolicy.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImagePolicyList is a list of ImagePolicies.
type ImagePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImagePolicy `json:"items"`
}
