package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// HelmRepository produces an artifact from a Helm repository index, or
// points HelmCharts at an OCI registry.
type HelmRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	Spec HelmRepositorySpec `json:"spec,omitempty"`
	// Status is the observed state, written by the reconciler.
	Status HelmRepositoryStatus `json:"status,omitempty"`
}

// HelmRepositorySpec says where the charts are and how to reach them.
type HelmRepositorySpec struct {
	// URL of the repository; http://, https:// or oci:// (with type oci).
	URL string `json:"url"`

	// SecretRef names the Secret with username and password. Its certFile,
	// keyFile and caFile keys are deprecated in favour of CertSecretRef.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret (Opaque or kubernetes.io/tls) with a client
	// certificate (tls.crt, tls.key) and/or a CA certificate (ca.crt); it
	// takes precedence over TLS data in SecretRef.
	// +optional
	CertSecretRef *common.LocalObjectReference `json:"certSecretRef,omitempty"`

	// PassCredentials sends the credentials to chart hosts other than URL's
	// host; this can leak them.
	// +optional
	PassCredentials bool `json:"passCredentials,omitempty"`

	// Interval between index fetches, e.g. 10m.
	// +optional
	Interval common.Duration `json:"interval,omitempty"`

	// Insecure allows plain-HTTP registries (type oci only).
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Timeout of the index fetch and of OCI operations made for HelmCharts;
	// Flux uses 60s when empty.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// Suspend stops reconciliation while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// AccessFrom is Flux's provisional cross-namespace ACL (not enforced).
	// +optional
	AccessFrom *common.AccessFrom `json:"accessFrom,omitempty"`

	// Type is default (an index over HTTP) or oci (URL must then start with
	// oci://).
	// +optional
	Type string `json:"type,omitempty"`

	// Provider authenticates to OCI registries without a static secret:
	// generic (the default), aws, azure or gcp. Only used with type oci.
	// +optional
	Provider string `json:"provider,omitempty"`
}

// HelmRepositoryStatus is the observed state of a HelmRepository.
type HelmRepositoryStatus struct {
	// ObservedGeneration is the last generation reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is where the last index artifact can be downloaded.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the last index artifact produced.
	// +optional
	Artifact *common.Artifact `json:"artifact,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// HelmRepositoryList is a list of HelmRepositories.
type HelmRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmRepository `json:"items"`
}
