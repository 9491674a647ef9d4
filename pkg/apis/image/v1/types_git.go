package v1

import (
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// SigningKeyType is the format of a commit signing key.
type SigningKeyType string

const (
	// SigningKeyTypeGPG reads an OpenPGP key from "git.asc" (the default).
	SigningKeyTypeGPG SigningKeyType = "gpg"
	// SigningKeyTypeSSH reads an SSH private key from "identity".
	SigningKeyTypeSSH SigningKeyType = "ssh"
)

// GitSpec holds the Git settings of an automation.
type GitSpec struct {
	// Checkout overrides the GitRepository's ref for cloning.
	// +optional
	Checkout *GitCheckoutSpec `json:"checkout,omitempty"`
	// Commit says how to write commits.
	Commit CommitSpec `json:"commit"`
	// Push says where to push; back to the checkout branch when unset.
	// +optional
	Push *PushSpec `json:"push,omitempty"`
}

// GitCheckoutSpec says what to clone.
type GitCheckoutSpec struct {
	// Reference is the branch, tag, semver range, ref name or commit.
	Reference GitRepositoryRef `json:"ref"`
}

// GitRepositoryRef picks a Git reference, as a GitRepository's spec.ref does.
type GitRepositoryRef struct {
	// Branch to check out.
	// +optional
	Branch string `json:"branch,omitempty"`
	// Tag to check out; takes precedence over Branch.
	// +optional
	Tag string `json:"tag,omitempty"`
	// SemVer tag range; takes precedence over Tag.
	// +optional
	SemVer string `json:"semver,omitempty"`
	// Name of a reference, e.g. refs/pull/1/head; takes precedence over
	// Branch, Tag and SemVer.
	// +optional
	Name string `json:"name,omitempty"`
	// Commit SHA; takes precedence over everything else.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// CommitSpec says how commits are written.
type CommitSpec struct {
	// Author of the commits.
	Author CommitUser `json:"author"`
	// SigningKey signs the commits.
	// +optional
	SigningKey *SigningKey `json:"signingKey,omitempty"`
	// MessageTemplate is a Go template for the commit message.
	// +optional
	MessageTemplate string `json:"messageTemplate,omitempty"`
	// MessageTemplateValues are extra values for the template.
	// +optional
	MessageTemplateValues map[string]string `json:"messageTemplateValues,omitempty"`
}

// CommitUser is a commit author.
type CommitUser struct {
	// Name of the author.
	// +optional
	Name string `json:"name,omitempty"`
	// Email of the author.
	Email string `json:"email"`
}

// SigningKey points at a Secret holding a commit signing key.
type SigningKey struct {
	// SecretRef names the Secret, in the automation's namespace.
	SecretRef common.LocalObjectReference `json:"secretRef"`
	// Type of the key, gpg or ssh; gpg when empty.
	// +optional
	Type SigningKeyType `json:"type,omitempty"`
}

// PushSpec says where commits are pushed.
type PushSpec struct {
	// Branch to push to, created from the checkout branch when missing.
	// +optional
	Branch string `json:"branch,omitempty"`
	// Refspec to push with; may not delete or force-update references.
	// +optional
	Refspec string `json:"refspec,omitempty"`
	// Options are git push options sent to the server.
	// +optional
	Options map[string]string `json:"options,omitempty"`
}
