package cosign_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/cosign"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

func TestPublicKeys_ReadsEveryPubEntryAndNamesBadOnes(t *testing.T) {
	a, b := ocitest.NewCosignKey(t), ocitest.NewCosignKey(t)
	keys, err := cosign.PublicKeys(map[string][]byte{"z.pub": a.PublicPEM, "cosign.pub": b.PublicPEM, "cosign.key": []byte("private")})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Name != "cosign.pub" || keys[1].Name != "z.pub" {
		t.Errorf("keys = %+v, want cosign.pub and z.pub", keys)
	}

	const secretLooking = "c2VjcmV0LWxvb2tpbmctY29udGVudA=="
	for name, data := range map[string]map[string][]byte{
		"no .pub entry": {"cosign.key": []byte("x")},
		"not PEM":       {"cosign.pub": []byte(secretLooking)},
		"a certificate": {"cosign.pub": []byte("-----BEGIN CERTIFICATE-----\n" + secretLooking + "\n-----END CERTIFICATE-----\n")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cosign.PublicKeys(data)
			if !errors.Is(err, cosign.ErrInvalidKey) {
				t.Fatalf("err = %v, want ErrInvalidKey", err)
			}
			if strings.Contains(err.Error(), secretLooking) {
				t.Errorf("the message quotes the entry: %v", err)
			}
		})
	}
}

// TestVerify_RSAAndEd25519Keys: cosign signs with RSA (PKCS#1 v1.5 over
// SHA-256) and Ed25519 keys too.
func TestVerify_RSAAndEd25519Keys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const digest = "sha256:4d3c3a7f2bc2a0e16b5bbb4e5d8d66c3a4f4f1c2e2a5f2c9a2b3c4d5e6f70812"
	body := fmt.Appendf(nil, `{"critical":{"identity":{"docker-reference":"r/app"},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, digest)
	for name, priv := range map[string]crypto.Signer{"rsa": rsaKey, "ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			signer, err := signature.LoadSigner(priv, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := signer.SignMessage(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
			if err != nil {
				t.Fatal(err)
			}
			keys, err := cosign.PublicKeys(map[string][]byte{name + ".pub": pub})
			if err != nil {
				t.Fatal(err)
			}
			sigs := []cosign.Signature{{MediaType: cosign.SimpleSigningMediaType, Content: body,
				Annotations: map[string]string{cosign.SignatureAnnotation: base64.StdEncoding.EncodeToString(sig)}}}
			if v, err := cosign.Verify(digest, sigs, keys); err != nil || v.Key != name+".pub" {
				t.Fatalf("Verify = %+v, %v", v, err)
			}
			sigs[0].Content = bytes.Replace(body, []byte("r/app"), []byte("r/evil"), 1)
			if _, err := cosign.Verify(digest, sigs, keys); !errors.Is(err, cosign.ErrNoValidSignature) {
				t.Errorf("a changed payload: err = %v, want ErrNoValidSignature", err)
			}
		})
	}
}
