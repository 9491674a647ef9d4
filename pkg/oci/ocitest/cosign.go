package ocitest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"

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
	algo, hex, _ := strings.Cut(digest, ":")
	stmt, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": r.Host + "/" + repo, "digest": map[string]string{algo: hex}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(cosign.InTotoPayloadType), cosign.InTotoPayloadType, len(stmt), stmt)
	bundle, err := json.Marshal(map[string]any{
		"mediaType":            cosign.BundleMediaType,
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": "test"}},
		"dsseEnvelope": map[string]any{
			"payload": stmt, "payloadType": cosign.InTotoPayloadType,
			"signatures": []any{map[string]any{"sig": k.sign(t, pae)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.pushReferrer(t, repo, digest, cosign.BundleMediaType, bundle)
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
