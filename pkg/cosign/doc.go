// Package cosign checks cosign signatures of OCI manifests, offline, for
// Flux's spec.verify of OCIRepositories and HelmCharts: against public keys
// (provider cosign with a secretRef), or keylessly against a Sigstore
// trusted root and OIDC identities (trustedRootSecretRef and
// matchOIDCIdentity).
//
// It knows no registry and no API type of ours: the caller (pkg/oci's
// FetchSignatures) hands it what cosign stored next to a manifest, as
// Signatures, and Verify says whether any of them, checked with any of the
// PublicKeys, signs that manifest's digest. Two storage formats are read:
//
//   - classic: the image tagged sha256-<hex>.sig, one layer per signature,
//     each a "simple signing" JSON payload (SimpleSigningMediaType) whose
//     signature is the base64 annotation SignatureAnnotation; the payload
//     must name the manifest digest in critical.image.docker-manifest-digest;
//   - sigstore bundle (cosign's --new-bundle-format, an OCI 1.1 referrer):
//     a BundleMediaType layer holding a bundle whose DSSE envelope signs an
//     in-toto statement of predicate type SignPredicateType whose subject is
//     the manifest digest.
//
// With keys (Verify), like Flux with a public key, no transparency log
// entry is required or checked: a certificate next to a signature is
// ignored, only the keys count. Signatures are checked with
// github.com/sigstore/sigstore's verifiers (ECDSA, RSA PKCS#1 v1.5 and
// Ed25519 keys, SHA-256), as cosign does.
//
// Keyless (NewKeyless, Keyless.Verify) reads sigstore bundles only (classic
// keyless signatures keep their certificate and Rekor bundle in annotations,
// which are not read) and verifies them with github.com/sigstore/sigstore-go
// against a trusted root given by the caller; nothing is fetched (no TUF,
// Rekor or Fulcio calls), so the bundle must carry its proofs. The signing
// certificate must chain to a certificate authority of the trusted root and
// carry an OIDC issuer and SAN matching one of the identities; the in-toto
// statement must be a cosign signature of the manifest digest. What else is
// required follows the trusted root, as NewKeyless documents: a log entry
// when it lists transparency logs, else a signed timestamp when it lists
// timestamp authorities, an SCT when it lists CT logs, and only when it
// lists neither logs nor timestamp authorities, deliberately, a certificate
// valid at the current time.
//
// Errors wrap ErrInvalidKey (a key entry cannot be used: the Secret must
// change), ErrInvalidTrustedRoot and ErrInvalidIdentity (keyless: the
// Secret or the identities must change), ErrUnsigned (nothing was signed)
// or ErrNoValidSignature (there are signatures, none verifies and names the
// digest); messages name key entries and certificate identities, never key
// content.
package cosign
