package notification

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// Event severities an Alert can filter on.
const (
	EventSeverityInfo  = "info"
	EventSeverityError = "error"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Alert forwards events about selected objects to a Provider.
type Alert struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AlertSpec `json:"spec,omitempty"`
}

// AlertSpec says which events to forward and where.
type AlertSpec struct {
	// ProviderRef names the Provider in the Alert's namespace.
	ProviderRef common.LocalObjectReference `json:"providerRef"`
	// EventSeverity is the lowest severity forwarded: info (all) or error.
	// +optional
	EventSeverity string `json:"eventSeverity,omitempty"`
	// EventSources selects the objects whose events are forwarded.
	// +listType=atomic
	EventSources []CrossNamespaceObjectReference `json:"eventSources"`
	// InclusionList holds regular expressions; when set, only matching
	// messages are forwarded.
	// +optional
	// +listType=atomic
	InclusionList []string `json:"inclusionList,omitempty"`
	// EventMetadata is added to every forwarded event, without overriding
	// keys the event already has.
	// +optional
	EventMetadata map[string]string `json:"eventMetadata,omitempty"`
	// ExclusionList holds regular expressions; matching messages are dropped.
	// +optional
	// +listType=atomic
	ExclusionList []string `json:"exclusionList,omitempty"`
	// Summary is a short description of the impact, at most 255 characters.
	// +optional
	Summary string `json:"summary,omitempty"`
	// Suspend stops forwarding events for this Alert.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// AlertList is a list of Alerts.
type AlertList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Alert `json:"items"`
}
