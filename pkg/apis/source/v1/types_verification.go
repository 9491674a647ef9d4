package v1

import "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"

// OCIRepositoryVerification configures signature checks of OCI artifacts.
type OCIRepositoryVerification struct {
	// Provider is the signing technology: cosign (the default) or notation.
	Provider string `json:"provider"`

	// SecretRef names the Secret with the trusted public keys (cosign) or
	// certificates and trust policy (notation).
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`

	// MatchOIDCIdentity restricts keyless cosign signatures to identities
	// matching any of these entries.
	// +optional
	// +listType=atomic
	MatchOIDCIdentity []OIDCIdentityMatch `json:"matchOIDCIdentity,omitempty"`

	// TrustedRootSecretRef names a Secret whose "trusted_root.json" key holds
	// a Sigstore trusted root, for self-hosted Fulcio and Rekor services.
	// +optional
	TrustedRootSecretRef *common.LocalObjectReference `json:"trustedRootSecretRef,omitempty"`
}

// HelmChartVerification configures signature checks of Helm OCI charts.
type HelmChartVerification struct {
	// Provider is the signing technology: cosign (the default) or notation.
	Provider string `json:"provider"`

	// SecretRef names the Secret with the trusted public keys (cosign) or
	// certificates and trust policy (notation).
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`

	// MatchOIDCIdentity restricts keyless cosign signatures to identities
	// matching any of these entries.
	// +optional
	// +listType=atomic
	MatchOIDCIdentity []OIDCIdentityMatch `json:"matchOIDCIdentity,omitempty"`
}

// OIDCIdentityMatch is a pair of regular expressions matched against the
// issuer and subject of a keyless signing certificate.
type OIDCIdentityMatch struct {
	// Issuer is a Go regular expression for the OIDC issuer.
	Issuer string `json:"issuer"`

	// Subject is a Go regular expression for the certificate subject.
	Subject string `json:"subject"`
}
