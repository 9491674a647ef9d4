package source

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// GitVerificationMode says which Git objects must carry a trusted signature.
type GitVerificationMode string

// Git verification modes. "head" is accepted as an old spelling of "HEAD".
const (
	ModeGitHEAD       GitVerificationMode = "HEAD"
	ModeGitHEADLegacy GitVerificationMode = "head"
	ModeGitTag        GitVerificationMode = "Tag"
	ModeGitTagAndHEAD GitVerificationMode = "TagAndHEAD"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GitRepository produces an artifact from a revision of a Git repository.
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	Spec GitRepositorySpec `json:"spec,omitempty"`
	// Status is the observed state, written by the reconciler.
	Status GitRepositoryStatus `json:"status,omitempty"`
}

// GitRepositorySpec says what to clone and how.
type GitRepositorySpec struct {
	// URL of the repository (http, https or ssh).
	URL string `json:"url"`
	// SecretRef names the Secret with the credentials for URL.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`
	// Provider authenticates without a static secret: generic, aws, azure
	// or github.
	// +optional
	Provider string `json:"provider,omitempty"`
	// ServiceAccountName is the ServiceAccount used for workload identity
	// (aws and azure providers only).
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// Interval between checks of the repository.
	Interval common.Duration `json:"interval"`
	// Timeout of Git operations.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`
	// Reference to check out; Flux falls back to the master branch when empty.
	// +optional
	Reference *GitRepositoryRef `json:"ref,omitempty"`
	// Verification of commit or tag signatures.
	// +optional
	Verification *GitRepositoryVerification `json:"verify,omitempty"`
	// ProxySecretRef names the Secret with the proxy settings.
	// +optional
	ProxySecretRef *common.LocalObjectReference `json:"proxySecretRef,omitempty"`
	// Ignore replaces the default exclusion patterns (.sourceignore syntax).
	// +optional
	Ignore *string `json:"ignore,omitempty"`
	// Suspend stops reconciliation while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// RecurseSubmodules clones submodules too.
	// +optional
	RecurseSubmodules bool `json:"recurseSubmodules,omitempty"`
	// Include copies the artifacts of other GitRepositories into this one.
	// +optional
	// +listType=atomic
	Include []GitRepositoryInclude `json:"include,omitempty"`
	// SparseCheckout limits the checkout (and artifact) to these directories.
	// +optional
	// +listType=atomic
	SparseCheckout []string `json:"sparseCheckout,omitempty"`
}

// GitRepositoryInclude copies (part of) another GitRepository's artifact.
type GitRepositoryInclude struct {
	// GitRepositoryRef names the GitRepository to include.
	GitRepositoryRef common.LocalObjectReference `json:"repository"`
	// FromPath is the directory to copy from; the artifact root when empty.
	// +optional
	FromPath string `json:"fromPath,omitempty"`
	// ToPath is the directory to copy to; the included object's name when
	// empty.
	// +optional
	ToPath string `json:"toPath,omitempty"`
}

// GitRepositoryRef selects the revision to check out. When several fields are
// set, commit wins over name, name over semver, semver over tag, tag over
// branch.
type GitRepositoryRef struct {
	// Branch to check out.
	// +optional
	Branch string `json:"branch,omitempty"`
	// Tag to check out.
	// +optional
	Tag string `json:"tag,omitempty"`
	// SemVer is a range; the highest matching tag is checked out.
	// +optional
	SemVer string `json:"semver,omitempty"`
	// Name is a full Git reference, e.g. refs/pull/42/head.
	// +optional
	Name string `json:"name,omitempty"`
	// Commit SHA; may be combined with Branch for a shallow clone.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// GitRepositoryVerification configures signature checks.
type GitRepositoryVerification struct {
	// Mode: HEAD (or head), Tag or TagAndHEAD.
	// +optional
	Mode GitVerificationMode `json:"mode,omitempty"`
	// SecretRef names the Secret with trusted PGP (*.asc) and SSH (*.sshpub)
	// public keys.
	SecretRef common.LocalObjectReference `json:"secretRef"`
}

// GitRepositoryStatus is the observed state of a GitRepository.
type GitRepositoryStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Artifact is the last artifact produced.
	// +optional
	Artifact *common.Artifact `json:"artifact,omitempty"`
	// IncludedArtifacts are the artifacts of the includes used for Artifact.
	// +optional
	// +listType=atomic
	IncludedArtifacts []*common.Artifact `json:"includedArtifacts,omitempty"`
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`
	// +optional
	ObservedRecurseSubmodules bool `json:"observedRecurseSubmodules,omitempty"`
	// +optional
	// +listType=atomic
	ObservedInclude []GitRepositoryInclude `json:"observedInclude,omitempty"`
	// +optional
	// +listType=atomic
	ObservedSparseCheckout []string `json:"observedSparseCheckout,omitempty"`
	// SourceVerificationMode is the mode used by the last verification.
	// +optional
	SourceVerificationMode *GitVerificationMode `json:"sourceVerificationMode,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GitRepositoryList is a list of GitRepositories.
type GitRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitRepository `json:"items"`
}
