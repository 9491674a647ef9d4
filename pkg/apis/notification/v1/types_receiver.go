package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Receiver accepts webhooks and asks the selected objects to reconcile.
type Receiver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ReceiverSpec   `json:"spec,omitempty"`
	Status ReceiverStatus `json:"status,omitempty"`
}

// ReceiverSpec configures an incoming webhook.
type ReceiverSpec struct {
	// Type of the sender (generic, generic-hmac, generic-oidc, github,
	// gitlab, bitbucket, harbor, dockerhub, quay, gcr, nexus, acr, cdevents);
	// decides how payloads are verified and read.
	Type string `json:"type"`
	// Interval at which the Secret references are reconciled; 10m by default.
	// +optional
	Interval *common.Duration `json:"interval,omitempty"`
	// Events limits the handled event types, e.g. "push".
	// +optional
	// +listType=atomic
	Events []string `json:"events,omitempty"`
	// Resources are the objects asked to reconcile.
	// +listType=atomic
	Resources []ReceiverResource `json:"resources"`
	// ResourceFilter is a CEL expression deciding, per resource, whether to
	// request a reconciliation.
	// +optional
	ResourceFilter string `json:"resourceFilter,omitempty"`
	// SecretRef names the Secret holding the token; required unless the type
	// is generic-oidc, which must not set it.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`
	// OIDCProviders authenticate generic-oidc requests; only for that type.
	// +listType=map
	// +listMapKey=issuerURL
	// +optional
	OIDCProviders []OIDCProvider `json:"oidcProviders,omitempty"`
	// Suspend stops handling webhooks for this Receiver.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ReceiverResource selects objects to reconcile, with an optional CEL filter.
type ReceiverResource struct {
	CrossNamespaceObjectReference `json:",inline"`
	// Filter is a CEL expression applied, with resourceFilter, to each
	// matched object.
	// +optional
	Filter string `json:"filter,omitempty"`
}

// OIDCProvider trusts tokens from one OIDC issuer.
type OIDCProvider struct {
	// IssuerURL is the issuer (http or https URL) matched against "iss".
	IssuerURL string `json:"issuerURL"`
	// Audience expected in "aud"; "notification-controller" when empty.
	// +optional
	Audience string `json:"audience,omitempty"`
	// Variables are named CEL expressions over the claims, evaluated in order.
	// +optional
	// +listType=atomic
	Variables []OIDCVariable `json:"variables,omitempty"`
	// Validations must all hold for a request to be accepted; at least one.
	// +listType=atomic
	Validations []OIDCValidation `json:"validations"`
}

// OIDCVariable is a named CEL expression over token claims.
type OIDCVariable struct {
	// Name of the variable, a CEL identifier.
	Name string `json:"name"`
	// Expression computing the value.
	Expression string `json:"expression"`
}

// OIDCValidation is a CEL condition over token claims and variables.
type OIDCValidation struct {
	// Expression that must evaluate to true.
	Expression string `json:"expression"`
	// Message returned when the expression is false.
	Message string `json:"message"`
}

// ReceiverStatus is the observed state of a Receiver.
type ReceiverStatus struct {
	common.ReconcileRequestStatus `json:",inline"`

	// Conditions of the Receiver.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// WebhookPath is "/hook/" followed by sha256(token+name+namespace).
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`
	// ObservedGeneration is the last generation reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ReceiverList is a list of Receivers.
type ReceiverList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Receiver `json:"items"`
}
