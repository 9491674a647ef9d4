package v1

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

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GitRepository produces an artifact (a tarball) from a revision of a Git
// repository.
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
	// URL of the repository; http://, https:// or ssh://.
	URL string `json:"url"`

	// SecretRef names the Secret with the credentials: username/password or
	// bearerToken for HTTPS, identity and known_hosts for SSH.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`

	// Provider authenticates without a static secret: generic (the default),
	// aws, azure or github.
	// +optional
	Provider string `json:"provider,omitempty"`

	// ServiceAccountName is the ServiceAccount whose identity is used with
	// the aws and azure providers.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Interval between checks of the repository, e.g. 5m.
	Interval common.Duration `json:"interval"`

	// Timeout of Git operations such as clone; 60s by default.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// Reference to check out; Flux falls back to the master branch when empty.
	// +optional
	Reference *GitRepositoryRef `json:"ref,omitempty"`

	// Verification checks commit and/or tag signatures.
	// +optional
	Verification *GitRepositoryVerification `json:"verify,omitempty"`

	// ProxySecretRef names the Secret with the proxy settings for Git
	// operations.
	// +optional
	ProxySecretRef *common.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Ignore replaces the default exclusion patterns, in .sourceignore
	// (.gitignore) syntax.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops reconciliation while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// RecurseSubmodules clones submodules too, with their default settings.
	// +optional
	RecurseSubmodules bool `json:"recurseSubmodules,omitempty"`

	// Include copies the artifacts of other GitRepositories into this one.
	// +optional
	// +listType=atomic
	Include []GitRepositoryInclude `json:"include,omitempty"`

	// SparseCheckout limits the checkout, and so the artifact, to these
	// directories.
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
// set, commit wins over name, name over semver, semver over tag and tag over
// branch.
type GitRepositoryRef struct {
	// Branch to check out.
	// +optional
	Branch string `json:"branch,omitempty"`

	// Tag to check out.
	// +optional
	Tag string `json:"tag,omitempty"`

	// SemVer is a version range; the highest matching tag is checked out.
	// +optional
	SemVer string `json:"semver,omitempty"`

	// Name is a full Git reference, e.g. refs/heads/main or refs/pull/42/head.
	// +optional
	Name string `json:"name,omitempty"`

	// Commit SHA to check out; with Branch, the branch is cloned shallowly
	// and must contain the commit.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// GitRepositoryVerification configures signature checks.
type GitRepositoryVerification struct {
	// Mode is HEAD (head is an old spelling), Tag or TagAndHEAD; HEAD by
	// default.
	// +optional
	Mode GitVerificationMode `json:"mode,omitempty"`

	// SecretRef names the Secret with the trusted public keys: PGP keys
	// under *.asc keys, SSH keys under *.sshpub keys.
	SecretRef common.LocalObjectReference `json:"secretRef"`
}

// GitRepositoryStatus is the observed state of a GitRepository.
type GitRepositoryStatus struct {
	// ObservedGeneration is the last generation reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Artifact is the last artifact produced.
	// +optional
	Artifact *common.Artifact `json:"artifact,omitempty"`

	// IncludedArtifacts are the artifacts of spec.include used for Artifact.
	// +optional
	// +listType=atomic
	IncludedArtifacts []*common.Artifact `json:"includedArtifacts,omitempty"`

	// ObservedIgnore is the spec.ignore used for Artifact.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedRecurseSubmodules is the spec.recurseSubmodules used for
	// Artifact.
	// +optional
	ObservedRecurseSubmodules bool `json:"observedRecurseSubmodules,omitempty"`

	// ObservedInclude is the spec.include used for Artifact.
	// +optional
	// +listType=atomic
	ObservedInclude []GitRepositoryInclude `json:"observedInclude,omitempty"`

	// ObservedSparseCheckout is the spec.sparseCheckout used for Artifact.
	// +optional
	// +listType=atomic
	ObservedSparseCheckout []string `json:"observedSparseCheckout,omitempty"`

	// SourceVerificationMode is the verification mode last applied.
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
