package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Bucket produces an artifact from the objects of an object-storage bucket.
// v1beta2 is deprecated; use v1.
type Bucket struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	Spec BucketSpec `json:"spec,omitempty"`
	// Status is the observed state, written by the reconciler.
	Status BucketStatus `json:"status,omitempty"`
}

// BucketSpec says which bucket to read and how.
type BucketSpec struct {
	// Provider of the storage: generic (any S3-compatible API, the default),
	// aws, gcp or azure.
	// +optional
	Provider string `json:"provider,omitempty"`

	// BucketName is the bucket to read.
	BucketName string `json:"bucketName"`

	// Endpoint is the storage address, e.g. s3.amazonaws.com.
	Endpoint string `json:"endpoint"`

	// STS fetches temporary credentials from a Security Token Service; only
	// with the aws and generic providers.
	// +optional
	STS *BucketSTSSpec `json:"sts,omitempty"`

	// Insecure allows a plain-HTTP endpoint.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Region of the endpoint.
	// +optional
	Region string `json:"region,omitempty"`

	// Prefix filters the objects server-side.
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// SecretRef names the Secret with the credentials.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret (Opaque or kubernetes.io/tls) with a client
	// certificate (tls.crt, tls.key) and/or a CA certificate (ca.crt); only
	// with the generic provider.
	// +optional
	CertSecretRef *common.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names the Secret with the proxy settings for the
	// endpoint.
	// +optional
	ProxySecretRef *common.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval between checks of the bucket, e.g. 5m.
	Interval common.Duration `json:"interval"`

	// Timeout of fetch operations; 60s by default.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// Ignore replaces the default exclusion patterns, in .sourceignore
	// (.gitignore) syntax.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops reconciliation while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// AccessFrom is Flux's provisional cross-namespace ACL (not enforced).
	// +optional
	AccessFrom *common.AccessFrom `json:"accessFrom,omitempty"`
}

// BucketSTSSpec configures a Security Token Service for temporary
// credentials.
type BucketSTSSpec struct {
	// Provider of the service: aws or ldap.
	Provider string `json:"provider"`

	// Endpoint is the http:// or https:// address of the service.
	Endpoint string `json:"endpoint"`

	// SecretRef names the Secret with username and password (ldap only).
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret (Opaque or kubernetes.io/tls) with a client
	// certificate and/or a CA certificate for the service (ldap only).
	// +optional
	CertSecretRef *common.LocalObjectReference `json:"certSecretRef,omitempty"`
}

// BucketStatus is the observed state of a Bucket.
type BucketStatus struct {
	// ObservedGeneration is the last generation reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is where the last artifact can be downloaded.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the last artifact produced.
	// +optional
	Artifact *common.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is the spec.ignore used for Artifact.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// BucketList is a list of Buckets.
type BucketList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Bucket `json:"items"`
}
