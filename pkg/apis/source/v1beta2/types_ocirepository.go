package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// OCIRepository produces an artifact from an OCI artifact in a container
// registry. v1beta2 is deprecated; use v1.
type OCIRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	Spec OCIRepositorySpec `json:"spec,omitempty"`
	// Status is the observed state, written by the reconciler.
	Status OCIRepositoryStatus `json:"status,omitempty"`
}

// OCIRepositorySpec says which OCI artifact to pull and how.
type OCIRepositorySpec struct {
	// URL of the repository, oci://host/path.
	URL string `json:"url"`

	// Reference selects the tag, semver range or digest; latest when empty.
	// +optional
	Reference *OCIRepositoryRef `json:"ref,omitempty"`

	// LayerSelector picks the layer to use; the first layer when empty.
	// +optional
	LayerSelector *OCILayerSelector `json:"layerSelector,omitempty"`

	// Provider authenticates without a static secret: generic (the default),
	// aws, azure or gcp.
	// +optional
	Provider string `json:"provider,omitempty"`

	// SecretRef names a kubernetes.io/dockerconfigjson Secret with registry
	// credentials.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`

	// Verify checks the artifact's signature.
	// +optional
	Verify *OCIRepositoryVerification `json:"verify,omitempty"`

	// ServiceAccountName is a ServiceAccount whose image pull secrets are
	// used for the registry.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret (Opaque or kubernetes.io/tls) with a client
	// certificate (tls.crt, tls.key) and/or a CA certificate (ca.crt).
	// +optional
	CertSecretRef *common.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names the Secret with the proxy settings for the
	// registry.
	// +optional
	ProxySecretRef *common.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval between checks of the registry, e.g. 5m.
	Interval common.Duration `json:"interval"`

	// Timeout of registry operations such as pulls; 60s by default.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// Ignore replaces the default exclusion patterns, in .sourceignore
	// (.gitignore) syntax.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Insecure allows plain-HTTP registries.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Suspend stops reconciliation while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// OCIRepositoryRef selects the artifact version. Digest wins over SemVer and
// SemVer over Tag.
type OCIRepositoryRef struct {
	// Digest to pull, such as sha256:<hex>.
	// +optional
	Digest string `json:"digest,omitempty"`

	// SemVer is a version range; the highest matching tag is pulled.
	// +optional
	SemVer string `json:"semver,omitempty"`

	// SemverFilter is a regular expression the tags in the SemVer range must
	// match.
	// +optional
	SemverFilter string `json:"semverFilter,omitempty"`

	// Tag to pull; latest when nothing is set.
	// +optional
	Tag string `json:"tag,omitempty"`
}

// OCILayerSelector picks a layer of the artifact and says what to do with it.
type OCILayerSelector struct {
	// MediaType of the layer; the first layer of this type is used.
	// +optional
	MediaType string `json:"mediaType,omitempty"`

	// Operation is extract (unpack the layer, the default) or copy (store
	// the compressed layer as it is).
	// +optional
	Operation string `json:"operation,omitempty"`
}

// OCIRepositoryStatus is the observed state of an OCIRepository.
type OCIRepositoryStatus struct {
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

	// ContentConfigChecksum is a checksum (<algo>:<hex>) of the settings
	// that shape the artifact content (spec.ignore, spec.layerSelector).
	// Deprecated: replaced by ObservedIgnore and ObservedLayerSelector.
	// +optional
	ContentConfigChecksum string `json:"contentConfigChecksum,omitempty"`

	// ObservedIgnore is the spec.ignore used for Artifact.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedLayerSelector is the spec.layerSelector used for Artifact.
	// +optional
	ObservedLayerSelector *OCILayerSelector `json:"observedLayerSelector,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// OCIRepositoryList is a list of OCIRepositories.
type OCIRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OCIRepository `json:"items"`
}
