package ocitest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/cosign"
)

// CosignKey is an ECDSA P-256 key pair, the kind `cosign generate-key-pair`
// makes, to sign test artifacts the way cosign stores signatures.
type CosignKey struct {
	signer signature.SignerVerifier
	// PublicPEM is the public key as cosign.pub holds it.
	PublicPEM []byte
}

// NewCosignKey generates a key pair.
func NewCosignKey(t testing.TB) *CosignKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &CosignKey{signer: sv, PublicPEM: pub}
}

func (k *CosignKey) sign(t testing.TB, message []byte) []byte {
	t.Helper()
	sig, err := k.signer.SignMessage(bytes.NewReader(message))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// ClassicSignature is the image cosign pushes under the tag
// sha256-<hex>.sig: one simple signing layer, claiming claimedDigest of
// repository repo (host/path), signed with k.
func (k *CosignKey) ClassicSignature(t testing.TB, repo, claimedDigest string) v1.Image {
	t.Helper()
	d, err := name.NewDigest(repo + "@" + claimedDigest)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(payload.Cosign{Image: d})
	if err != nil {
		t.Fatal(err)
	}
	layer := static.NewLayer(body, types.MediaType(cosign.SimpleSigningMediaType))
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer:       layer,
		Annotations: map[string]string{cosign.SignatureAnnotation: base64.StdEncoding.EncodeToString(k.sign(t, body))},
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// SignClassic signs repo@digest with k as `cosign sign --key` does by
// default: the signature image tagged sha256-<hex>.sig. Signing again adds
// nothing: the tag is replaced.
func (r *Registry) SignClassic(t testing.TB, repo, digest string, k *CosignKey) {
	t.Helper()
	r.PushClassicSignature(t, repo, digest, k.ClassicSignature(t, r.Host+"/"+repo, digest))
}

// PushClassicSignature pushes sig as the signature image of repo@digest.
func (r *Registry) PushClassicSignature(t testing.TB, repo, digest string, sig v1.Image) {
	t.Helper()
	r.Push(t, repo, strings.Replace(digest, ":", "-", 1)+".sig", sig)
}

// SignBundle signs repo@digest with k as `cosign sign --key
// --new-bundle-format` does: a sigstore bundle whose DSSE envelope signs
// an in-toto statement about digest, in an OCI 1.1 referrer manifest of
// artifact type bundle. predicateType is cosign's signature predicate when
// empty.
func (r *Registry) SignBundle(t testing.TB, repo, digest, predicateType string, k *CosignKey) {
	t.Helper()
	if predicateType == "" {
		predicateType = cosign.SignPredicateType
	}
	stmt := statement(t, r.Host+"/"+repo, digest, predicateType)
	bundle, err := json.Marshal(map[string]any{
		"mediaType":            cosign.BundleMediaType,
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": "test"}},
		"dsseEnvelope": map[string]any{
			"payload": stmt, "payloadType": cosign.InTotoPayloadType,
			"signatures": []any{map[string]any{"sig": k.sign(t, pae(stmt))}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.pushReferrer(t, repo, digest, cosign.BundleMediaType, bundle)
}

// statement is the in-toto statement cosign signs in a bundle: predicate
// type predicateType about digest of repository name (host/path).
func statement(t testing.TB, name, digest, predicateType string) []byte {
	t.Helper()
	algo, hex, _ := strings.Cut(digest, ":")
	stmt, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": name, "digest": map[string]string{algo: hex}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return stmt
}

// pae is what a DSSE signature of an in-toto statement signs.
func pae(stmt []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(cosign.InTotoPayloadType), cosign.InTotoPayloadType, len(stmt), stmt)
}

// pushReferrer pushes an OCI 1.1 artifact manifest (empty config,
// artifactType, one layer of content) whose subject is repo@digest, as
// cosign writes bundles.
func (r *Registry) pushReferrer(t testing.TB, repo, digest, artifactType string, content []byte) {
	t.Helper()
	repoRef, err := name.NewRepository(r.Host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	opts := r.remoteOptions()
	config := static.NewLayer([]byte("{}"), "application/vnd.oci.empty.v1+json")
	layer := static.NewLayer(content, types.MediaType(artifactType))
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(repoRef, l, opts...); err != nil {
			t.Fatal(err)
		}
	}
	subject, err := remote.Head(repoRef.Digest(digest), opts...)
	if err != nil {
		t.Fatal(err)
	}
	m := v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: artifactType,
		Config:  descriptor(t, config),
		Layers:  []v1.Descriptor{descriptor(t, layer)},
		Subject: &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(repoRef.Digest(h.String()), rawManifest(raw), opts...); err != nil {
		t.Fatal(err)
	}
}

func descriptor(t testing.TB, l v1.Layer) v1.Descriptor {
	t.Helper()
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	size, err := l.Size()
	if err != nil {
		t.Fatal(err)
	}
	mt, err := l.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}
}

// rawManifest is an OCI image manifest as bytes, for remote.Put.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// Sigstore is a private Sigstore for keyless signing tests: a Fulcio-like
// CA of its own, which certifies OIDC identities (issuer extension, SAN) for
// ten minutes as Fulcio does, and the transparency log and timestamp
// authority of sigstore-go's VirtualSigstore, listed in the trusted root
// only when SigstoreOptions asks.
type Sigstore struct {
	opts    SigstoreOptions
	caCert  *x509.Certificate
	caKey   *ecdsa.PrivateKey
	virtual *ca.VirtualSigstore
}

// SigstoreOptions says which services a Sigstore's trusted root lists
// besides its CA; bundles carry a proof of each listed one.
type SigstoreOptions struct {
	TransparencyLog    bool
	TimestampAuthority bool
	// CTLog lists a certificate transparency log, but certificates carry
	// no SCT of it.
	CTLog bool
}

// NewSigstore makes a Sigstore.
func NewSigstore(t testing.TB, opts SigstoreOptions) *Sigstore {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-fulcio", Organization: []string{"test"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	virtual, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return &Sigstore{opts: opts, caCert: cert, caKey: key, virtual: virtual}
}

// WithOtherCA returns a Sigstore with the services of s but a CA of its
// own, which s's trusted root does not list.
func (s *Sigstore) WithOtherCA(t testing.TB) *Sigstore {
	t.Helper()
	o := NewSigstore(t, s.opts)
	o.virtual = s.virtual
	return o
}

// TrustedRootJSON is s's trusted_root.json.
func (s *Sigstore) TrustedRootJSON(t testing.TB) []byte {
	t.Helper()
	cas := []root.CertificateAuthority{&root.FulcioCertificateAuthority{Root: s.caCert,
		ValidityPeriodStart: s.caCert.NotBefore, URI: "https://fulcio.test"}}
	var tsas []root.TimestampingAuthority
	if s.opts.TimestampAuthority {
		tsas = s.virtual.TimestampingAuthorities()
	}
	var tlogs, ctlogs map[string]*root.TransparencyLog
	if s.opts.TransparencyLog {
		tlogs = logsByRawID(t, s.virtual.RekorLogs())
	}
	if s.opts.CTLog {
		ctlogs = logsByRawID(t, s.virtual.CTLogs())
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, ctlogs, tsas, tlogs)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// logsByRawID fixes the log IDs of VirtualSigstore, which holds them hex
// encoded where a trusted root has the raw key ID.
func logsByRawID(t testing.TB, logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
	t.Helper()
	out := map[string]*root.TransparencyLog{}
	for id, l := range logs {
		raw, err := hex.DecodeString(id)
		if err != nil {
			t.Fatal(err)
		}
		c := *l
		c.ID = raw
		out[id] = &c
	}
	return out
}

// KeylessSignature is what Sigstore.Bundle signs, as `cosign sign
// --new-bundle-format` does with a Fulcio certificate.
type KeylessSignature struct {
	// Issuer and Subject are the OIDC identity certified: the issuer
	// extension and the SAN (a URI when Subject parses as one with a
	// scheme, else an email address).
	Issuer, Subject string
	// Name and Digest are the statement's subject (host/path and the
	// claimed manifest digest).
	Name, Digest string
	// PredicateType is cosign's signature predicate when empty.
	PredicateType string
	// NoTlogEntry and NoTimestamp leave out the proofs the trusted root
	// asks for.
	NoTlogEntry, NoTimestamp bool
}

// Bundle signs sig with a fresh certificate of s's CA and returns the
// sigstore bundle (protobuf JSON) cosign would store: the certificate, the
// DSSE envelope, and a transparency log entry (inclusion proof and
// promise) and an RFC 3161 timestamp when s has those services.
func (s *Sigstore) Bundle(t testing.TB, sig KeylessSignature) []byte {
	t.Helper()
	if sig.PredicateType == "" {
		sig.PredicateType = cosign.SignPredicateType
	}
	leaf, key := s.certify(t, sig.Issuer, sig.Subject)
	stmt := statement(t, sig.Name, sig.Digest, sig.PredicateType)
	h := sha256.Sum256(pae(stmt))
	rawSig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	material := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leaf.Raw}},
	}
	if s.opts.TransparencyLog && !sig.NoTlogEntry {
		material.TlogEntries = []*protorekor.TransparencyLogEntry{s.tlogEntry(t, leaf, stmt, rawSig)}
	}
	if s.opts.TimestampAuthority && !sig.NoTimestamp {
		tsr, err := s.virtual.TimestampResponse(rawSig)
		if err != nil {
			t.Fatal(err)
		}
		material.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}}}
	}
	b := &protobundle.Bundle{
		MediaType:            cosign.BundleMediaType,
		VerificationMaterial: material,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: stmt, PayloadType: cosign.InTotoPayloadType, Signatures: []*protodsse.Signature{{Sig: rawSig}}}},
	}
	raw, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// certify issues a Fulcio-style code signing certificate for the identity.
func (s *Sigstore) certify(t testing.TB, issuer, subject string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuerDER, err := asn1.MarshalWithParams(issuer, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		// Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.8).
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: issuerDER}},
	}
	if u, err := url.Parse(subject); err == nil && u.Scheme != "" {
		tmpl.URIs = []*url.URL{u}
	} else {
		tmpl.EmailAddresses = []string{subject}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.caCert, key.Public(), s.caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// tlogEntry logs the DSSE envelope of stmt in the virtual Rekor: a dsse
// v0.0.1 entry with an inclusion proof and a signed entry timestamp.
func (s *Sigstore) tlogEntry(t testing.TB, leaf *x509.Certificate, stmt, rawSig []byte) *protorekor.TransparencyLogEntry {
	t.Helper()
	env := &dsse.Envelope{PayloadType: cosign.InTotoPayloadType, Payload: base64.StdEncoding.EncodeToString(stmt),
		Signatures: []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(rawSig)}}}
	integrated := time.Now().Unix()
	entry, err := s.virtual.GenerateTlogEntry(leaf, env, rawSig, integrated, true)
	if err != nil {
		t.Fatal(err)
	}
	logID, err := s.virtual.RekorLogID()
	if err != nil {
		t.Fatal(err)
	}
	set, err := s.virtual.RekorSignPayload(tlog.RekorPayload{Body: entry.Body(), IntegratedTime: integrated,
		LogIndex: entry.LogIndex(), LogID: logID})
	if err != nil {
		t.Fatal(err)
	}
	tle := proto.Clone(entry.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle
}

// SignKeyless signs repo@digest as `cosign sign --new-bundle-format` does
// keylessly, with a certificate of s for the OIDC identity, and pushes the
// bundle as a referrer of digest.
func (r *Registry) SignKeyless(t testing.TB, repo, digest string, s *Sigstore, issuer, subject string) {
	t.Helper()
	r.PushBundle(t, repo, digest, s.Bundle(t, KeylessSignature{Issuer: issuer, Subject: subject,
		Name: r.Host + "/" + repo, Digest: digest}))
}

// PushBundle pushes a sigstore bundle as a referrer of repo@digest.
func (r *Registry) PushBundle(t testing.TB, repo, digest string, bundle []byte) {
	t.Helper()
	r.pushReferrer(t, repo, digest, cosign.BundleMediaType, bundle)
}
