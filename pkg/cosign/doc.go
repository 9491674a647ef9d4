// Package cosign checks cosign signatures of OCI manifests against public
// keys, offline, for Flux's spec.verify (provider cosign with a secretRef)
// of OCIRepositories and HelmCharts.
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
// Like Flux with a public key, no transparency log entry is required or
// checked, and keyless signatures (Fulcio certificates, Rekor and timestamp
// proofs) are not verified here: a certificate next to a signature is
// ignored, only the keys count. Signatures are checked with
// github.com/sigstore/sigstore's verifiers (ECDSA, RSA PKCS#1 v1.5 and
// Ed25519 keys, SHA-256), as cosign does.
//
// Errors wrap ErrInvalidKey (a key entry cannot be used: the Secret must
// change), ErrUnsigned (nothing was signed) or ErrNoValidSignature (there
// are signatures, none verifies with a key and names the digest); messages
// name key entries, never their content.
package cosign
