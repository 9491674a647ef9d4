package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// Values of spec.gitImplementation. The field is accepted for old manifests
// but has no effect: there is a single Git client now.
const (
	// GoGitImplementation is the pure-Go Git client, the CRD default.
	GoGitImplementation = "go-git"
	// LibGit2Implementation was the libgit2-based client.
	LibGit2Implementation = "libgit2"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GitRepository produces an artifact from a revision of a Git repository.
// v1beta1 is deprecated and served for manifests written for older Flux
// releases; use v1.
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	Spec GitRepositorySpec `json:"spec,omitempty"`
	// Status is the observed state, written by the reconciler.
	Status GitRepositoryStatus `json:"status,omitempty"`
}

// GitRepositorySpec says which repository and revision to fetch, and how.
type GitRepositorySpec struct {
	// URL of the repository: an http, https or ssh address.
	URL string `json:"url"`

	// SecretRef names a Secret with the credentials: username and password
	// for HTTPS, identity and known_hosts for SSH.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`

	// Interval between checks of the repository, e.g. 1m.
	Interval common.Duration `json:"interval"`

	// Timeout of Git operations such as cloning; 60s by default.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`

	// Reference selects the revision to check out; the default branch when
	// empty.
	// +optional
	Reference *GitRepositoryRef `json:"ref,omitempty"`

	// Verification checks the OpenPGP signature of the commit HEAD points to.
	// +optional
	Verification *GitRepositoryVerification `json:"verify,omitempty"`

	// Ignore replaces the default exclusion patterns, in .sourceignore
	// (.gitignore) syntax.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops reconciliation while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// GitImplementation chose the Git client library: go-git (the default)
	// or libgit2.
	// Deprecated: ignored; not kept when the object is stored.
	// +optional
	GitImplementation string `json:"gitImplementation,omitempty"`

	// RecurseSubmodules clones the submodules too, with their default
	// settings.
	// +optional
	RecurseSubmodules bool `json:"recurseSubmodules,omitempty"`

	// Include copies the artifacts of other GitRepositories into this one's.
	// +optional
	Include []GitRepositoryInclude `json:"include,omitempty"`

	// AccessFrom was a provisional access control list for references from
	// other namespaces.
	// Deprecated: never enforced; not kept when the object is stored.
	// +optional
	AccessFrom *common.AccessFrom `json:"accessFrom,omitempty"`
}

// GitRepositoryInclude copies (part of) another GitRepository's artifact into
// this one's.
type GitRepositoryInclude struct {
	// GitRepositoryRef names the GitRepository to include, in the same
	// namespace.
	GitRepositoryRef common.LocalObjectReference `json:"repository"`

	// FromPath is the directory of the included artifact to copy; its root
	// when empty.
	// +optional
	FromPath string `json:"fromPath,omitempty"`

	// ToPath is where the copy goes; the included GitRepository's name when
	// empty.
	// +optional
	ToPath string `json:"toPath,omitempty"`
}

// GitRepositoryRef selects a revision. Commit wins over SemVer, SemVer over
// Tag and Tag over Branch.
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

	// Commit SHA to check out.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// GitRepositoryVerification says what to verify and with which keys.
type GitRepositoryVerification struct {
	// Mode is what to verify; v1beta1 knows only "head" (the commit HEAD
	// points to).
	Mode string `json:"mode"`

	// SecretRef names a Secret with the public keys of trusted authors.
	// +optional
	SecretRef common.LocalObjectReference `json:"secretRef,omitempty"`
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

	// URL is where the last artifact can be downloaded.
	// Deprecated: not kept when the object is stored; use artifact.url.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the last artifact produced.
	// +optional
	Artifact *Artifact `json:"artifact,omitempty"`

	// IncludedArtifacts are the artifacts of spec.include used for Artifact.
	// +optional
	IncludedArtifacts []*Artifact `json:"includedArtifacts,omitempty"`

	common.ReconcileRequestStatus `json:",inline"`
}

// Artifact is the v1beta1 shape of an artifact: a plain SHA-256 checksum where
// later versions have a digest with its algorithm, and no size or metadata.
type Artifact struct {
	// Path of the file, relative to the storage root.
	Path string `json:"path"`

	// URL the file can be downloaded from.
	URL string `json:"url"`

	// Revision of the source the artifact was built from, e.g. a branch and
	// commit.
	// +optional
	Revision string `json:"revision,omitempty"`

	// Checksum is the hex SHA-256 of the file.
	// +optional
	Checksum string `json:"checksum,omitempty"`

	// LastUpdateTime is when the artifact last changed.
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GitRepositoryList is a list of GitRepositories.
type GitRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitRepository `json:"items"`
}
