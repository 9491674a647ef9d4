package source

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Bucket produces an artifact from the objects of an object-storage bucket.
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
	// Provider is generic (S3 API), aws, gcp or azure.
	// +optional
	Provider string `json:"provider,omitempty"`
	// BucketName is the bucket to read.
	BucketName string `json:"bucketName"`
	// Endpoint is the storage address.
	Endpoint string `json:"endpoint"`
	// STS fetches temporary credentials (aws and generic providers).
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
	// ServiceAccountName is the ServiceAccount used for workload identity
	// (not with the generic provider); only served by v1.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// CertSecretRef names a Secret with tls.crt/tls.key and/or ca.crt
	// (generic provider).
	// +optional
	CertSecretRef *common.LocalObjectReference `json:"certSecretRef,omitempty"`
	// ProxySecretRef names the Secret with the proxy settings.
	// +optional
	ProxySecretRef *common.LocalObjectReference `json:"proxySecretRef,omitempty"`
	// Interval between checks of the bucket.
	Interval common.Duration `json:"interval"`
	// Timeout of fetch operations.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`
	// Ignore replaces the default exclusion patterns (.sourceignore syntax).
	// +optional
	Ignore *string `json:"ignore,omitempty"`
	// Suspend stops reconciliation while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// AccessFrom is Flux's provisional cross-namespace ACL; only served by
	// v1beta2.
	// +optional
	AccessFrom *common.AccessFrom `json:"accessFrom,omitempty"`
}

// BucketSTSSpec configures a Security Token Service for temporary
// credentials.
type BucketSTSSpec struct {
	// Provider is aws or ldap.
	Provider string `json:"provider"`
	// Endpoint is the http(s) address of the service.
	Endpoint string `json:"endpoint"`
	// SecretRef names the Secret with username/password (ldap only).
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`
	// CertSecretRef names a Secret with tls.crt/tls.key and/or ca.crt (ldap
	// only).
	// +optional
	CertSecretRef *common.LocalObjectReference `json:"certSecretRef,omitempty"`
}

// BucketStatus is the observed state of a Bucket.
type BucketStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
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
