package source

import (
	"context"
	"errors"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/cosign"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// Signature verification of OCI artifacts (OCIRepository) and of charts
// from OCI registries (HelmChart), Flux's spec.verify, before anything is
// pulled: cosign signatures checked against the public keys of
// spec.verify.secretRef, or keylessly (OCIRepository only) against the
// Sigstore trusted root of spec.verify.trustedRootSecretRef and the
// identities of spec.verify.matchOIDCIdentity (pkg/cosign, signatures
// fetched by pkg/oci). A verified digest is recorded as
// SourceVerified=True with a message naming the revision, so an unchanged
// digest is not verified again until the generation changes.

// verifySpec is what OCIRepositoryVerification and HelmChartVerification
// share; trustedRoot exists only for OCIRepositories (kind says which).
type verifySpec struct {
	kind        string
	provider    string
	secretRef   *common.LocalObjectReference
	identities  []sourcev1.OIDCIdentityMatch
	trustedRoot *common.LocalObjectReference
}

func ociVerifySpec(v *sourcev1.OCIRepositoryVerification) verifySpec {
	return verifySpec{kind: source.OCIRepositoryKind, provider: v.Provider, secretRef: v.SecretRef,
		identities: v.MatchOIDCIdentity, trustedRoot: v.TrustedRootSecretRef}
}

func chartVerifySpec(v *sourcev1.HelmChartVerification) verifySpec {
	return verifySpec{kind: source.HelmChartKind, provider: v.Provider, secretRef: v.SecretRef, identities: v.MatchOIDCIdentity}
}

// unsupportedVerification refuses, without reading anything, what this
// server cannot check; retrying cannot help until the spec changes:
//   - notation signatures;
//   - keyless cosign signatures without a trusted root: Flux checks them
//     against the public Sigstore trusted root, fetched over TUF, which
//     this server does not fetch (it makes no call to Sigstore's services;
//     an embedded copy would go stale as Sigstore rotates its keys), so
//     the root must be given in spec.verify.trustedRootSecretRef, which
//     only OCIRepositories have;
//   - a trusted root without identities to expect (any certificate of
//     the CA would do), or next to public keys (which are checked without
//     a transparency log, so the root would be silently unused).
func unsupportedVerification(v verifySpec) error {
	switch {
	case v.provider == source.NotationVerificationProvider:
		return loop.Stallf(source.VerificationError,
			"spec.verify.provider 'notation' is not supported by this server; sign the artifact with cosign and "+
				"give its public key in spec.verify.secretRef, or remove spec.verify")
	case v.provider != "" && v.provider != source.CosignVerificationProvider:
		return loop.Stallf(source.VerificationError, "spec.verify.provider '%s' is not supported; use 'cosign'", v.provider)
	case v.secretRef != nil && v.trustedRoot != nil:
		return loop.Stallf(source.VerificationError,
			"spec.verify.trustedRootSecretRef is for keyless verification, but spec.verify.secretRef gives public keys, "+
				"which are checked without it; remove one of them")
	case v.secretRef == nil && v.trustedRoot == nil:
		what := "spec.verify without secretRef"
		if len(v.identities) > 0 {
			what = "spec.verify.matchOIDCIdentity"
		}
		how := "give the trusted root of your Sigstore services (trusted_root.json) in a Secret named by " +
			"spec.verify.trustedRootSecretRef, or sign with a key"
		if v.kind != source.OCIRepositoryKind {
			how = "a HelmChart cannot name one (it has no spec.verify.trustedRootSecretRef); sign the chart with a key"
		}
		return loop.Stallf(source.VerificationError,
			"%s asks for keyless verification, which needs a Sigstore trusted root: this server does not fetch the "+
				"public Sigstore one; %s and put its public key (<name>.pub) in a Secret named by spec.verify.secretRef", what, how)
	case v.secretRef == nil && len(v.identities) == 0:
		return loop.Stallf(source.VerificationError,
			"spec.verify.trustedRootSecretRef needs spec.verify.matchOIDCIdentity: the OIDC issuer and subject "+
				"(regular expressions) the signing certificate must carry")
	}
	return nil
}

// signatureVerifier is what spec.verify trusts: public keys or a keyless
// policy.
type signatureVerifier interface {
	verify(digest string, sigs []cosign.Signature) (*cosign.Verified, error)
}

// keyVerifier trusts public keys.
type keyVerifier []cosign.PublicKey

func (k keyVerifier) verify(digest string, sigs []cosign.Signature) (*cosign.Verified, error) {
	return cosign.Verify(digest, sigs, k)
}

// keylessVerifier trusts certificates of a trusted root's CAs for some
// identities.
type keylessVerifier struct{ k *cosign.Keyless }

func (k keylessVerifier) verify(digest string, sigs []cosign.Signature) (*cosign.Verified, error) {
	return k.k.Verify(digest, sigs)
}

var (
	_ signatureVerifier = keyVerifier(nil)
	_ signatureVerifier = keylessVerifier{}
)

// cosignKeys returns the trusted keys of spec.verify, or the refusal of
// unsupportedVerification. A missing Secret or an unusable key fails (the
// Secret may be fixed). As in Flux, matchOIDCIdentity does not apply to
// keys.
func (e *Env) cosignKeys(ctx context.Context, namespace string, v verifySpec) ([]cosign.PublicKey, error) {
	if err := unsupportedVerification(v); err != nil {
		return nil, err
	}
	name := v.secretRef.Name
	secret, err := e.getSecret(ctx, namespace, name, "spec.verify.secretRef", source.VerificationError)
	if err != nil {
		return nil, err
	}
	keys, err := cosign.PublicKeys(secret.Data)
	if err != nil {
		return nil, loop.Failf(source.VerificationError, "invalid secret '%s/%s' (spec.verify.secretRef): %w", namespace, name, err)
	}
	return keys, nil
}

// cosignVerifier returns the keys of spec.verify.secretRef or, without
// them, the keyless policy of spec.verify.trustedRootSecretRef and
// matchOIDCIdentity. A missing Secret or an unusable trusted root fails
// (the Secret may be fixed); an identity that is no regular expression
// stalls.
func (e *Env) cosignVerifier(ctx context.Context, namespace string, v verifySpec) (signatureVerifier, error) {
	if err := unsupportedVerification(v); err != nil {
		return nil, err
	}
	if v.secretRef != nil {
		keys, err := e.cosignKeys(ctx, namespace, v)
		if err != nil {
			return nil, err
		}
		return keyVerifier(keys), nil
	}
	name := v.trustedRoot.Name
	secret, err := e.getSecret(ctx, namespace, name, "spec.verify.trustedRootSecretRef", source.VerificationError)
	if err != nil {
		return nil, err
	}
	data, ok := secret.Data[cosign.TrustedRootKey]
	if !ok {
		return nil, loop.Failf(source.VerificationError, "secret '%s/%s' (spec.verify.trustedRootSecretRef) has no '%s' entry",
			namespace, name, cosign.TrustedRootKey)
	}
	ids := make([]cosign.Identity, len(v.identities))
	for i, m := range v.identities {
		ids[i] = cosign.Identity{Issuer: m.Issuer, Subject: m.Subject}
	}
	k, err := cosign.NewKeyless(data, ids)
	switch {
	case errors.Is(err, cosign.ErrInvalidIdentity):
		return nil, loop.Stallf(source.VerificationError, "spec.verify.matchOIDCIdentity: %v", err)
	case err != nil:
		return nil, loop.Failf(source.VerificationError, "invalid secret '%s/%s' (spec.verify.trustedRootSecretRef): %w", namespace, name, err)
	}
	return keylessVerifier{k}, nil
}

// verifyDigest checks the cosign signatures of the manifest digest in the
// repository of opts (a failure is retried: the signature may be pushed
// after the artifact).
func verifyDigest(ctx context.Context, opts oci.Options, digest string, v signatureVerifier) error {
	sigs, err := oci.FetchSignatures(ctx, opts, digest)
	if err == nil {
		_, err = v.verify(digest, sigs)
	}
	if err != nil {
		return loop.Failf(source.VerificationError, "failed to verify the signature using provider '%s': %w",
			source.CosignVerificationProvider, err)
	}
	return nil
}

// markVerifiedAs records SourceVerified=True with msg.
func markVerifiedAs(conds *[]metav1.Condition, generation int64, msg string) {
	apimeta.SetStatusCondition(conds, metav1.Condition{Type: source.SourceVerifiedCondition, Status: metav1.ConditionTrue,
		Reason: common.SucceededReason, Message: msg, ObservedGeneration: generation})
}

// markNotVerified records err as SourceVerified=False and returns it.
func markNotVerified(conds *[]metav1.Condition, generation int64, err error) error {
	apimeta.SetStatusCondition(conds, metav1.Condition{Type: source.SourceVerifiedCondition, Status: metav1.ConditionFalse,
		Reason: reasonOf(err, source.VerificationError), Message: err.Error(), ObservedGeneration: generation})
	return err
}

// verifiedAs says whether SourceVerified=True says msg for this
// generation: the digest msg names needs no new verification.
func verifiedAs(conds []metav1.Condition, generation int64, msg string) bool {
	c := apimeta.FindStatusCondition(conds, source.SourceVerifiedCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == generation && c.Message == msg
}

// ociVerifiedMessage is Flux's SourceVerified message for an OCIRepository.
func ociVerifiedMessage(revision string) string {
	return "verified signature of revision " + revision
}

// ociVerification reads spec.verify of an OCIRepository: a nil verifier
// without it (and SourceVerified goes away). Errors are recorded as
// SourceVerified=False.
func (r *OCIRepositoryReconciler) ociVerification(ctx context.Context, obj *sourcev1.OCIRepository) (signatureVerifier, error) {
	if obj.Spec.Verify == nil {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.SourceVerifiedCondition)
		return nil, nil
	}
	v, err := r.cosignVerifier(ctx, obj.Namespace, ociVerifySpec(obj.Spec.Verify))
	if err != nil {
		return nil, markNotVerified(&obj.Status.Conditions, obj.Generation, err)
	}
	return v, nil
}

// verifyArtifact verifies the resolved digest unless this generation
// already verified it, and records the outcome.
func (r *OCIRepositoryReconciler) verifyArtifact(ctx context.Context, obj *sourcev1.OCIRepository, opts oci.Options,
	resolved *oci.Resolved, v signatureVerifier) error {
	msg := ociVerifiedMessage(resolved.Revision)
	if verifiedAs(obj.Status.Conditions, obj.Generation, msg) {
		return nil
	}
	if err := verifyDigest(ctx, opts, resolved.Digest, v); err != nil {
		return markNotVerified(&obj.Status.Conditions, obj.Generation, err)
	}
	markVerifiedAs(&obj.Status.Conditions, obj.Generation, msg)
	return nil
}

// verifiedRevision says whether spec.verify lets the stored artifact of
// revision be kept: there is no spec.verify, or this generation verified
// revision.
func verifiedRevision(obj *sourcev1.OCIRepository, revision string) bool {
	return obj.Spec.Verify == nil || verifiedAs(obj.Status.Conditions, obj.Generation, ociVerifiedMessage(revision))
}
