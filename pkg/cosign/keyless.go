package cosign

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// TrustedRootKey is the Secret entry holding a Sigstore trusted root
// (Flux's spec.verify.trustedRootSecretRef; `cosign trusted-root create`
// writes one).
const TrustedRootKey = "trusted_root.json"

// Errors of keyless verification callers map to conditions, besides
// ErrUnsigned and ErrNoValidSignature.
var (
	// ErrInvalidTrustedRoot: the trusted root cannot be used (the Secret
	// must change).
	ErrInvalidTrustedRoot = errors.New("invalid trusted root")
	// ErrInvalidIdentity: an identity is not a pair of regular
	// expressions (the spec must change).
	ErrInvalidIdentity = errors.New("invalid identity")
)

// Identity is an OIDC identity a signing certificate may carry: regular
// expressions for its issuer and subject, matched unanchored as cosign's
// --certificate-oidc-issuer-regexp and --certificate-identity-regexp are.
type Identity struct {
	Issuer  string
	Subject string
}

// Keyless verifies sigstore bundles signed with Fulcio-style certificates
// chained to a certificate authority of a trusted root, offline: the
// bundle must carry every proof the policy asks for (see NewKeyless).
type Keyless struct {
	verifier   *verify.Verifier
	identities []identityMatcher
	policy     []verify.PolicyOption
	// Proofs says what a signature must carry, for messages.
	Proofs string
}

type identityMatcher struct {
	issuer, subject *regexp.Regexp
}

// NewKeyless reads a trusted root (trusted_root.json, Sigstore's
// protobuf JSON) and the identities a certificate must match (any of
// them). What a bundle must prove is decided by what the trusted root
// lists, the narrowest policy that private infrastructure can meet:
//
//   - transparency logs: an entry in one of them (its inclusion proof, and
//     its signed entry timestamp or a TSA timestamp to date the signature);
//   - timestamp authorities and no logs: an RFC 3161 timestamp by one of
//     them;
//   - certificate transparency logs: an SCT embedded in the certificate;
//   - neither logs nor timestamp authorities: nothing can date the
//     signature, so, deliberately and only then, the certificate must be
//     valid now (private CAs with long-lived signing certificates; a
//     10-minute Fulcio certificate stops verifying once it expires).
//
// Nothing is fetched: no TUF, no Rekor or Fulcio lookups.
func NewKeyless(trustedRootJSON []byte, identities []Identity) (*Keyless, error) {
	if len(identities) == 0 {
		return nil, fmt.Errorf("%w: no identities: keyless verification needs the issuer and subject to expect", ErrInvalidIdentity)
	}
	k := &Keyless{}
	for i, id := range identities {
		m, certID, err := compileIdentity(id)
		if err != nil {
			return nil, fmt.Errorf("%w %d: %v", ErrInvalidIdentity, i+1, err)
		}
		k.identities = append(k.identities, m)
		k.policy = append(k.policy, verify.WithCertificateIdentity(certID))
	}
	tr, err := root.NewTrustedRootFromJSON(trustedRootJSON)
	if err != nil {
		// A trusted root holds public material only: messages may quote it.
		return nil, fmt.Errorf("%w: %v", ErrInvalidTrustedRoot, err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 {
		return nil, fmt.Errorf("%w: it lists no certificate authority (certificateAuthorities) to check signing certificates with", ErrInvalidTrustedRoot)
	}
	var opts []verify.VerifierOption
	var proofs []string
	switch {
	case len(tr.RekorLogs()) > 0:
		opts = append(opts, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
		proofs = append(proofs, "a transparency log entry")
	case len(tr.TimestampingAuthorities()) > 0:
		opts = append(opts, verify.WithSignedTimestamps(1))
		proofs = append(proofs, "a signed timestamp")
	default:
		opts = append(opts, verify.WithCurrentTime())
		proofs = append(proofs, "a certificate valid now, as it lists no transparency log or timestamp authority")
	}
	if len(tr.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
		proofs = append(proofs, "an embedded SCT")
	}
	if k.verifier, err = verify.NewVerifier(tr, opts...); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidTrustedRoot, err)
	}
	k.Proofs = strings.Join(proofs, " and ")
	return k, nil
}

func compileIdentity(id Identity) (identityMatcher, verify.CertificateIdentity, error) {
	if id.Issuer == "" || id.Subject == "" {
		return identityMatcher{}, verify.CertificateIdentity{}, errors.New("issuer and subject must both be regular expressions, not empty")
	}
	issuer, err := regexp.Compile(id.Issuer)
	if err != nil {
		return identityMatcher{}, verify.CertificateIdentity{}, fmt.Errorf("issuer: %v", err)
	}
	subject, err := regexp.Compile(id.Subject)
	if err != nil {
		return identityMatcher{}, verify.CertificateIdentity{}, fmt.Errorf("subject: %v", err)
	}
	certID, err := verify.NewShortCertificateIdentity("", id.Issuer, "", id.Subject)
	if err != nil {
		return identityMatcher{}, verify.CertificateIdentity{}, err
	}
	return identityMatcher{issuer: issuer, subject: subject}, certID, nil
}

// Verify returns which identity signed the manifest digest
// ("sha256:<hex>"): the first sigstore bundle in sigs that verifies with
// the trusted root, carries the proofs, is signed by a certificate of one
// of the identities and whose in-toto statement is a cosign signature of
// digest. Classic signatures are not read: cosign stores keyless ones with
// their Rekor bundle in annotations, which this package does not verify.
func (k *Keyless) Verify(digest string, sigs []Signature) (*Verified, error) {
	algo, hexDigest, ok := strings.Cut(digest, ":")
	raw, err := hex.DecodeString(hexDigest)
	if !ok || algo == "" || err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("'%s' is not a digest '<algorithm>:<hex>'", digest)
	}
	return verifyEach(digest, sigs, "the trusted root (which asks for "+k.Proofs+")", func(sig Signature) (*Verified, error) {
		if sig.MediaType != BundleMediaType {
			return nil, errors.New("keyless verification reads sigstore bundles only (cosign sign --new-bundle-format), " +
				"not classic signatures")
		}
		return k.check(algo, raw, sig)
	})
}

// check verifies one bundle.
func (k *Keyless) check(algo string, digest []byte, sig Signature) (*Verified, error) {
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(sig.Content); err != nil {
		return nil, fmt.Errorf("not a sigstore bundle: %v", err)
	}
	content, err := b.VerificationContent()
	if err != nil {
		return nil, fmt.Errorf("the bundle has no verification material: %v", err)
	}
	cert := content.Certificate()
	if cert == nil {
		return nil, errors.New("signed with a public key, not a certificate")
	}
	signed, err := b.SignatureContent()
	if err != nil || signed.EnvelopeContent() == nil {
		return nil, errors.New("the bundle has no DSSE envelope (cosign signs images with an in-toto statement)")
	}
	summary, err := certificate.SummarizeCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("unreadable signing certificate: %v", err)
	}
	result, err := k.verifier.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest(algo, digest), k.policy...))
	if err != nil {
		var mismatch *verify.ErrNoMatchingCertificateIdentity
		if errors.As(err, &mismatch) {
			return nil, k.identityMismatch(summary)
		}
		// sigstore-go formats a nil error into some threshold messages.
		msg := strings.ReplaceAll(err.Error(), "; error: %!w(<nil>)", "")
		return nil, fmt.Errorf("certificate of subject '%s' (issuer '%s'): %s", summary.SubjectAlternativeName, summary.Extensions.Issuer, msg)
	}
	if pt := result.Statement.GetPredicateType(); pt != SignPredicateType {
		return nil, fmt.Errorf("the statement is an attestation of '%s', not a signature ('%s')", pt, SignPredicateType)
	}
	return &Verified{Format: FormatBundle, Identity: fmt.Sprintf("subject '%s' (issuer '%s')",
		summary.SubjectAlternativeName, summary.Extensions.Issuer)}, nil
}

// identityMismatch says, per identity, which of issuer and subject does
// not match the certificate's.
func (k *Keyless) identityMismatch(s certificate.Summary) error {
	var why []string
	for i, m := range k.identities {
		var parts []string
		if !m.issuer.MatchString(s.Extensions.Issuer) {
			parts = append(parts, fmt.Sprintf("issuer does not match '%s'", m.issuer))
		}
		if !m.subject.MatchString(s.SubjectAlternativeName) {
			parts = append(parts, fmt.Sprintf("subject does not match '%s'", m.subject))
		}
		if len(parts) == 0 {
			parts = append(parts, "does not match") // not expected: the same expressions
		}
		why = append(why, fmt.Sprintf("identity %d: %s", i+1, strings.Join(parts, ", ")))
	}
	return fmt.Errorf("the certificate of subject '%s' (issuer '%s') matches no identity (%s)",
		s.SubjectAlternativeName, s.Extensions.Issuer, strings.Join(why, "; "))
}
