package cosign

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Media types, annotations and types of cosign's two storage formats.
const (
	// SimpleSigningMediaType is the media type of a classic signature layer.
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation holds the base64 signature of a classic layer.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// BundleMediaType is the media type of a sigstore bundle layer (and the
	// artifact type of its referrer manifest).
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// SignPredicateType is the predicate type of the in-toto statement
	// `cosign sign` puts in a bundle; other predicates are attestations,
	// not signatures.
	SignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
)

// Formats a Verified names.
const (
	FormatClassic = "classic"
	FormatBundle  = "bundle"
)

// Signature is one layer cosign stored for a manifest, as the registry
// served it.
type Signature struct {
	// MediaType is the layer's media type: SimpleSigningMediaType or
	// BundleMediaType; layers of other types are skipped.
	MediaType string
	// Annotations are the layer descriptor's annotations.
	Annotations map[string]string
	// Content is the layer's content.
	Content []byte
}

// Verified says which key, or (keyless) which certificate identity,
// verified a signature of which format.
type Verified struct {
	Key      string
	Identity string
	Format   string
}

// Verify returns which key verified a signature in sigs of the manifest
// digest ("sha256:<hex>"). A signature counts when it verifies with one of
// keys and its signed content names digest; the first such one wins.
func Verify(digest string, sigs []Signature, keys []PublicKey) (*Verified, error) {
	algo, hexDigest, ok := strings.Cut(digest, ":")
	if !ok || algo == "" || hexDigest == "" {
		return nil, fmt.Errorf("'%s' is not a digest '<algorithm>:<hex>'", digest)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKey)
	}
	return verifyEach(digest, sigs, keyNames(keys), func(sig Signature) (*Verified, error) {
		if sig.MediaType == SimpleSigningMediaType {
			return verifyClassic(digest, sig, keys)
		}
		return verifyBundle(algo, hexDigest, sig, keys)
	})
}

// verifyEach returns the outcome of the first signature of a known format
// in sigs that check verifies, or why none did; trust names what they
// were checked with.
func verifyEach(digest string, sigs []Signature, trust string, check func(Signature) (*Verified, error)) (*Verified, error) {
	var reasons []string
	seen := 0
	for i, sig := range sigs {
		if sig.MediaType != SimpleSigningMediaType && sig.MediaType != BundleMediaType {
			continue
		}
		seen++
		v, err := check(sig)
		if err == nil {
			return v, nil
		}
		reasons = append(reasons, fmt.Sprintf("%s signature %d: %v", formatOf(sig.MediaType), i+1, err))
	}
	if seen == 0 {
		return nil, fmt.Errorf("%w for %s", ErrUnsigned, digest)
	}
	return nil, fmt.Errorf("%w for %s with %s: %s", ErrNoValidSignature, digest, trust, summarize(reasons))
}

// verifyClassic checks a simple signing payload: the signature over the
// payload's bytes, then the digest it claims.
func verifyClassic(digest string, sig Signature, keys []PublicKey) (*Verified, error) {
	b64, ok := sig.Annotations[SignatureAnnotation]
	if !ok {
		return nil, fmt.Errorf("no '%s' annotation", SignatureAnnotation)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("the '%s' annotation is not base64", SignatureAnnotation)
	}
	key, ok := verifyingKey(keys, raw, sig.Content)
	if !ok {
		return nil, errNoKeyVerifies
	}
	var p payload.SimpleContainerImage
	if err := json.Unmarshal(sig.Content, &p); err != nil {
		return nil, fmt.Errorf("the payload signed by '%s' is not simple signing JSON: %v", key, err)
	}
	if p.Critical.Type != payload.CosignSignatureType {
		return nil, fmt.Errorf("the payload signed by '%s' is of type '%s', not '%s'", key, p.Critical.Type, payload.CosignSignatureType)
	}
	if got := p.Critical.Image.DockerManifestDigest; got != digest {
		return nil, fmt.Errorf("the payload signed by '%s' is for %s", key, quoted(got))
	}
	return &Verified{Key: key, Format: FormatClassic}, nil
}

// bundle is the part of a sigstore bundle (protobuf JSON) read here: its
// DSSE envelope. A message signature is how blobs are signed, never images.
type bundle struct {
	DSSEEnvelope *struct {
		Payload     []byte `json:"payload"`
		PayloadType string `json:"payloadType"`
		Signatures  []struct {
			Sig []byte `json:"sig"`
		} `json:"signatures"`
	} `json:"dsseEnvelope"`
}

// statement is the part of an in-toto statement read here.
type statement struct {
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
}

// verifyBundle checks a bundle's DSSE envelope: a signature over its
// pre-authentication encoding, then the statement's predicate type and
// subject.
func verifyBundle(algo, hexDigest string, sig Signature, keys []PublicKey) (*Verified, error) {
	var b bundle
	if err := json.Unmarshal(sig.Content, &b); err != nil {
		return nil, fmt.Errorf("not a sigstore bundle: %v", err)
	}
	env := b.DSSEEnvelope
	if env == nil {
		return nil, fmt.Errorf("the bundle has no DSSE envelope")
	}
	if env.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("the bundle's payload is of type '%s', not '%s'", env.PayloadType, InTotoPayloadType)
	}
	signed := pae(env.PayloadType, env.Payload)
	key, ok := "", false
	for _, s := range env.Signatures {
		if key, ok = verifyingKey(keys, s.Sig, signed); ok {
			break
		}
	}
	if !ok {
		return nil, errNoKeyVerifies
	}
	var st statement
	if err := json.Unmarshal(env.Payload, &st); err != nil {
		return nil, fmt.Errorf("the statement signed by '%s' is not in-toto JSON: %v", key, err)
	}
	if st.PredicateType != SignPredicateType {
		return nil, fmt.Errorf("the statement signed by '%s' is an attestation of '%s', not a signature ('%s')", key, st.PredicateType, SignPredicateType)
	}
	var names []string
	for _, s := range st.Subject {
		if s.Digest[algo] == hexDigest {
			return &Verified{Key: key, Format: FormatBundle}, nil
		}
		names = append(names, algo+":"+s.Digest[algo])
	}
	return nil, fmt.Errorf("the statement signed by '%s' is for %s", key, quoted(strings.Join(names, ", ")))
}

// pae is DSSE's pre-authentication encoding, what a DSSE signature signs.
func pae(payloadType string, body []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(body), body)
}

var errNoKeyVerifies = fmt.Errorf("not signed by any of the keys")

// verifyingKey returns the name of the first key sig of message verifies
// with.
func verifyingKey(keys []PublicKey, sig, message []byte) (string, bool) {
	for _, k := range keys {
		if k.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(message)) == nil {
			return k.Name, true
		}
	}
	return "", false
}

func formatOf(mediaType string) string {
	if mediaType == BundleMediaType {
		return FormatBundle
	}
	return FormatClassic
}

func keyNames(keys []PublicKey) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = "'" + k.Name + "'"
	}
	if len(names) == 1 {
		return "key " + names[0]
	}
	return "keys " + strings.Join(names, ", ")
}

// quoted shows a claimed digest, which comes from the registry, bounded.
func quoted(s string) string {
	const max = 160
	if len(s) > max {
		s = s[:max] + "..."
	}
	if s == "" {
		return "no digest"
	}
	return "'" + s + "'"
}

// summarize joins the reasons, at most a few of them.
func summarize(reasons []string) string {
	const max = 5
	if len(reasons) > max {
		return strings.Join(reasons[:max], "; ") + fmt.Sprintf("; and %d more", len(reasons)-max)
	}
	return strings.Join(reasons, "; ")
}
