package oci_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/cosign"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

// verifyIn fetches the signatures of digest from the registry and checks
// them with the public keys of signers.
func verifyIn(t *testing.T, opts oci.Options, digest string, signers ...*ocitest.CosignKey) (*cosign.Verified, error) {
	t.Helper()
	sigs, err := oci.FetchSignatures(context.Background(), opts, digest)
	if err != nil {
		t.Fatalf("FetchSignatures: %v", err)
	}
	data := map[string][]byte{"README": []byte("not a key")}
	for i, k := range signers {
		data[string(rune('a'+i))+".pub"] = k.PublicPEM
	}
	keys, err := cosign.PublicKeys(data)
	if err != nil {
		t.Fatal(err)
	}
	return cosign.Verify(digest, sigs, keys)
}

func TestFetchSignatures_CosignClassicAndBundleFormats(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "flux", Password: "pw"})
	opts := oci.Options{URL: reg.URL("app"), Credentials: &oci.Credentials{Username: "flux", Password: "pw"}}
	trusted, other := ocitest.NewCosignKey(t), ocitest.NewCosignKey(t)
	push := func(tag string) string {
		return reg.Push(t, "app", tag, ocitest.Image(t, map[string]string{"tag": tag}, nil, ""))
	}

	tests := []struct {
		name       string
		sign       func(digest string)
		keys       []*ocitest.CosignKey
		wantFormat string
		wantErr    error
		wantMsg    string
	}{
		{name: "classic signature by the key", sign: func(d string) { reg.SignClassic(t, "app", d, trusted) },
			keys: []*ocitest.CosignKey{trusted}, wantFormat: cosign.FormatClassic},
		{name: "any of the keys verifies", sign: func(d string) { reg.SignClassic(t, "app", d, trusted) },
			keys: []*ocitest.CosignKey{other, trusted}, wantFormat: cosign.FormatClassic},
		{name: "signed by another key", sign: func(d string) { reg.SignClassic(t, "app", d, other) },
			keys: []*ocitest.CosignKey{trusted}, wantErr: cosign.ErrNoValidSignature, wantMsg: "not signed by any of the keys"},
		{name: "a signature of another digest moved under this one's tag", sign: func(d string) {
			elsewhere := push("elsewhere-" + d[7:19])
			reg.PushClassicSignature(t, "app", d, trusted.ClassicSignature(t, reg.Host+"/app", elsewhere))
		}, keys: []*ocitest.CosignKey{trusted}, wantErr: cosign.ErrNoValidSignature, wantMsg: "is for 'sha256:"},
		{name: "unsigned", sign: func(string) {}, keys: []*ocitest.CosignKey{trusted}, wantErr: cosign.ErrUnsigned},
		{name: "bundle signature by the key", sign: func(d string) { reg.SignBundle(t, "app", d, "", trusted) },
			keys: []*ocitest.CosignKey{trusted}, wantFormat: cosign.FormatBundle},
		{name: "bundle by another key", sign: func(d string) { reg.SignBundle(t, "app", d, "", other) },
			keys: []*ocitest.CosignKey{trusted}, wantErr: cosign.ErrNoValidSignature, wantMsg: "bundle signature 1: not signed"},
		{name: "an attestation is not a signature", sign: func(d string) {
			reg.SignBundle(t, "app", d, "https://slsa.dev/provenance/v1", trusted)
		}, keys: []*ocitest.CosignKey{trusted}, wantErr: cosign.ErrNoValidSignature, wantMsg: "attestation of 'https://slsa.dev/provenance/v1'"},
		{name: "a bad classic signature does not hide a good bundle", sign: func(d string) {
			reg.SignClassic(t, "app", d, other)
			reg.SignBundle(t, "app", d, "", trusted)
		}, keys: []*ocitest.CosignKey{trusted}, wantFormat: cosign.FormatBundle},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			digest := push("v" + string(rune('a'+i)))
			tt.sign(digest)
			v, err := verifyIn(t, opts, digest, tt.keys...)
			t.Logf("verified %+v, err %v", v, err)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %v; want %v containing %q", err, tt.wantErr, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Format != tt.wantFormat || !strings.HasSuffix(v.Key, ".pub") {
				t.Errorf("verified = %+v, want format %s", v, tt.wantFormat)
			}
		})
	}
}

func TestFetchSignatures_AuthenticationAndBadDigest(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "flux", Password: "pw"})
	d := reg.Push(t, "app", "v1", ocitest.Image(t, map[string]string{"a": "b"}, nil, ""))
	if _, err := oci.FetchSignatures(context.Background(), oci.Options{URL: reg.URL("app")}, d); !errors.Is(err, oci.ErrAuthentication) {
		t.Errorf("anonymous: err = %v, want ErrAuthentication", err)
	}
	if _, err := oci.FetchSignatures(context.Background(), oci.Options{URL: reg.URL("app")}, "sha256:nothex"); !errors.Is(err, oci.ErrInvalidOptions) {
		t.Errorf("bad digest: err = %v, want ErrInvalidOptions", err)
	}
	if tag, _ := oci.SignatureTag(d); tag != "sha256-"+d[7:]+".sig" {
		t.Errorf("SignatureTag = %s", tag)
	}
}
