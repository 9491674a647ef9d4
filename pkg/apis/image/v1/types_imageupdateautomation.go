package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// UpdateStrategyName names a way of rewriting manifests.
type UpdateStrategyName string

// UpdateStrategySetters rewrites fields marked with image policy setters.
const UpdateStrategySetters UpdateStrategyName = "Setters"

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImageUpdateAutomation commits the images elected by ImagePolicies to Git.
type ImageUpdateAutomation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageUpdateAutomationSpec   `json:"spec,omitempty"`
	Status ImageUpdateAutomationStatus `json:"status,omitempty"`
}

// ImageUpdateAutomationSpec says what to update and where to commit it.
type ImageUpdateAutomationSpec struct {
	// SourceRef names the GitRepository to update.
	SourceRef CrossNamespaceSourceReference `json:"sourceRef"`
	// GitSpec holds checkout, commit and push settings.
	// +optional
	GitSpec *GitSpec `json:"git,omitempty"`
	// Interval is the lower bound between automation runs.
	Interval common.Duration `json:"interval"`
	// PolicySelector limits the ImagePolicies applied; all in the namespace
	// when unset.
	// +optional
	PolicySelector *metav1.LabelSelector `json:"policySelector,omitempty"`
	// Update says how files are rewritten; {strategy: Setters} by default.
	// +optional
	Update *UpdateStrategy `json:"update,omitempty"`
	// Suspend stops further runs.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// CrossNamespaceSourceReference names the source of an automation.
type CrossNamespaceSourceReference struct {
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the referent; GitRepository, the default, is the only one.
	Kind string `json:"kind"`
	// Name of the referent.
	Name string `json:"name"`
	// Namespace of the referent; the automation's namespace when empty.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// UpdateStrategy selects a strategy and its parameters.
type UpdateStrategy struct {
	// Strategy to use; Setters by default.
	// +optional
	Strategy UpdateStrategyName `json:"strategy,omitempty"`
	// Path of the directory to update, relative to the repository root.
	// +optional
	Path string `json:"path,omitempty"`
}

// ObservedPolicies maps ImagePolicy names to the image they elected.
type ObservedPolicies map[string]ImageRef

// ImageUpdateAutomationStatus is the observed state of an automation.
type ImageUpdateAutomationStatus struct {
	// LastAutomationRunTime is when the automation last ran to completion.
	// +optional
	LastAutomationRunTime *metav1.Time `json:"lastAutomationRunTime,omitempty"`
	// LastPushCommit is the SHA1 of the last commit pushed.
	// +optional
	LastPushCommit string `json:"lastPushCommit,omitempty"`
	// LastPushTime is when a change was last pushed.
	// +optional
	LastPushTime *metav1.Time `json:"lastPushTime,omitempty"`
	// ObservedGeneration is the last generation reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions of the automation.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedPolicies are the policies the last run considered.
	// +optional
	ObservedPolicies ObservedPolicies `json:"observedPolicies,omitempty"`
	// ObservedSourceRevision is the source revision the last run saw.
	// +optional
	ObservedSourceRevision string `json:"observedSourceRevision,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImageUpdateAutomationList is a list of ImageUpdateAutomations.
type ImageUpdateAutomationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageUpdateAutomation `json:"items"`
}
