package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ExternalArtifact is an artifact produced by a third-party controller in the
// Flux artifact format, for Flux appliers to consume.
type ExternalArtifact struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	Spec ExternalArtifactSpec `json:"spec,omitempty"`
	// Status is the observed state, written by the reconciler.
	Status ExternalArtifactStatus `json:"status,omitempty"`
}

// ExternalArtifactSpec names the object the artifact was made for.
type ExternalArtifactSpec struct {
	// SourceRef is the custom resource the artifact was generated from.
	// +optional
	SourceRef *common.NamespacedObjectKindReference `json:"sourceRef,omitempty"`
}

// ExternalArtifactStatus holds the artifact and its conditions.
type ExternalArtifactStatus struct {
	// Artifact is the published artifact.
	// +optional
	Artifact *common.Artifact `json:"artifact,omitempty"`

	// Conditions of the object.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ExternalArtifactList is a list of ExternalArtifacts.
type ExternalArtifactList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExternalArtifact `json:"items"`
}
