package image

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// Registry authentication providers of an ImageRepository.
const (
	GenericRegistryProvider = "generic"
	AWSRegistryProvider     = "aws"
	AzureRegistryProvider   = "azure"
	GCPRegistryProvider     = "gcp"
)

// RegistryProviders lists every accepted spec.provider, in Flux's order.
var RegistryProviders = []string{
	GenericRegistryProvider, AWSRegistryProvider, AzureRegistryProvider, GCPRegistryProvider,
}

// DefaultExclusionList drops signature tags when spec.exclusionList is unset.
var DefaultExclusionList = []string{`^.*\.sig$`}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImageRepository scans an image repository for tags.
type ImageRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageRepositorySpec   `json:"spec,omitempty"`
	Status ImageRepositoryStatus `json:"status,omitempty"`
}

// ImageRepositorySpec says which repository to scan and how.
type ImageRepositorySpec struct {
	// Image is the repository, e.g. ghcr.io/fluxcd/flux-cli.
	Image string `json:"image,omitempty"`
	// Interval between scans.
	Interval common.Duration `json:"interval,omitempty"`
	// Timeout of one scan; the interval when unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`
	// SecretRef names a docker-registry Secret with registry credentials.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`
	// ProxySecretRef names a Secret with the proxy to use.
	// +optional
	ProxySecretRef *common.LocalObjectReference `json:"proxySecretRef,omitempty"`
	// ServiceAccountName whose image pull secrets are used.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// CertSecretRef names a Secret with a CA and/or client TLS certificate.
	// +optional
	CertSecretRef *common.LocalObjectReference `json:"certSecretRef,omitempty"`
	// Suspend stops further scans.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// AccessFrom lists the namespaces allowed to refer to this object.
	// +optional
	AccessFrom *common.AccessFrom `json:"accessFrom,omitempty"`
	// ExclusionList holds regular expressions of tags not to store, at most
	// 25; DefaultExclusionList when unset.
	// +optional
	// +listType=atomic
	ExclusionList []string `json:"exclusionList,omitempty"`
	// Provider used for authentication: generic (default), aws, azure or gcp.
	// +optional
	Provider string `json:"provider,omitempty"`
	// Insecure allows plain-HTTP registries.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
}

// ScanResult summarises the last scan.
type ScanResult struct {
	// Revision is a stable hash of the scanned tags.
	// +optional
	Revision string `json:"revision"`
	// TagCount is the number of tags found.
	TagCount int `json:"tagCount"`
	// ScanTime is when the scan ran.
	// +optional
	ScanTime metav1.Time `json:"scanTime"`
	// LatestTags are the first ten tags in descending alphabetical order.
	// +optional
	// +listType=atomic
	LatestTags []string `json:"latestTags,omitempty"`
}

// ImageRepositoryStatus is the observed state of an ImageRepository.
type ImageRepositoryStatus struct {
	// Conditions of the ImageRepository.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the last generation reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// CanonicalImageName is spec.image made explicit, e.g.
	// docker.io/library/alpine for alpine.
	// +optional
	CanonicalImageName string `json:"canonicalImageName,omitempty"`
	// LastScanResult summarises the last scan.
	// +optional
	LastScanResult *ScanResult `json:"lastScanResult,omitempty"`
	// ObservedExclusionList is the exclusion list the last scan used.
	// +optional
	// +listType=atomic
	ObservedExclusionList []string `json:"observedExclusionList,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ImageRepositoryList is a list of ImageRepositories.
type ImageRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageRepository `json:"items"`
}
