package source

import (
	"context"

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
// from OCI registries (HelmChart), Flux's spec.verify: cosign signatures
// checked against the public keys of spec.verify.secretRef (pkg/cosign,
// fetched by pkg/oci), before anything is pulled. A verified digest is
// recorded as SourceVerified=True with a message naming the revision, so an
// unchanged digest is not verified again until the generation changes.

// verifySpec is what OCIRepositoryVerification and HelmChartVerification
// share; trustedRoot exists only for OCIRepositories.
type verifySpec struct {
	provider    string
	secretRef   *common.LocalObjectReference
	identities  int
	trustedRoot *common.LocalObjectReference
}

func ociVerifySpec(v *sourcev1.OCIRepositoryVerification) verifySpec {
	return verifySpec{provider: v.Provider, secretRef: v.SecretRef, identities: len(v.MatchOIDCIdentity), trustedRoot: v.TrustedRootSecretRef}
}

func chartVerifySpec(v *sourcev1.HelmChartVerification) verifySpec {
	return verifySpec{provider: v.Provider, secretRef: v.SecretRef, identities: len(v.MatchOIDCIdentity)}
}

// unsupportedVerification refuses, without reading anything, what this
// server cannot check: notation signatures and keyless cosign signatures
// (their Fulcio certificates and Rekor or timestamp proofs must be checked
// against Sigstore's trusted root, which this server has no way to fetch;
// a trust root in a Secret would still need transparency log proofs we do
// not verify). Retrying cannot help until the spec changes.
func unsupportedVerification(v verifySpec) error {
	switch {
	case v.provider == source.NotationVerificationProvider:
		return loop.Stallf(source.VerificationError,
			"spec.verify.provider 'notation' is not supported by this server; sign the artifact with cosign and "+
				"give its public key in spec.verify.secretRef, or remove spec.verify")
	case v.provider != "" && v.provider != source.CosignVerificationProvider:
		return loop.Stallf(source.VerificationError, "spec.verify.provider '%s' is not supported; use 'cosign'", v.provider)
	case v.trustedRoot != nil:
		return loop.Stallf(source.VerificationError,
			"spec.verify.trustedRootSecretRef: keyless verification is not available on this server; "+
				"sign with a key and put its public key (<name>.pub) in the Secret of spec.verify.secretRef")
	case v.secretRef == nil:
		what := "spec.verify without secretRef"
		if v.identities > 0 {
			what = "spec.verify.matchOIDCIdentity"
		}
		return loop.Stallf(source.VerificationError,
			"%s asks for keyless verification, which is not available on this server (it needs Fulcio certificates "+
				"and Rekor proofs checked against Sigstore's trusted root); sign with a key and put its public key "+
				"(<name>.pub) in a Secret named by spec.verify.secretRef", what)
	}
	return nil
}

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

// verifyDigest checks the cosign signatures of the manifest digest in the
// repository of opts (a failure is retried: the signature may be pushed
// after the artifact).
func verifyDigest(ctx context.Context, opts oci.Options, digest string, keys []cosign.PublicKey) error {
	sigs, err := oci.FetchSignatures(ctx, opts, digest)
	if err == nil {
		_, err = cosign.Verify(digest, sigs, keys)
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

// ociVerification reads spec.verify of an OCIRepository: nil keys without
// it (and SourceVerified goes away). Errors are recorded as
// SourceVerified=False.
func (r *OCIRepositoryReconciler) ociVerification(ctx context.Context, obj *sourcev1.OCIRepository) ([]cosign.PublicKey, error) {
	if obj.Spec.Verify == nil {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.SourceVerifiedCondition)
		return nil, nil
	}
	keys, err := r.cosignKeys(ctx, obj.Namespace, ociVerifySpec(obj.Spec.Verify))
	if err != nil {
		return nil, markNotVerified(&obj.Status.Conditions, obj.Generation, err)
	}
	return keys, nil
}

// verifyArtifact verifies the resolved digest unless this generation
// already verified it, and records the outcome.
func (r *OCIRepositoryReconciler) verifyArtifact(ctx context.Context, obj *sourcev1.OCIRepository, opts oci.Options,
	resolved *oci.Resolved, keys []cosign.PublicKey) error {
	msg := ociVerifiedMessage(resolved.Revision)
	if verifiedAs(obj.Status.Conditions, obj.Generation, msg) {
		return nil
	}
	if err := verifyDigest(ctx, opts, resolved.Digest, keys); err != nil {
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
