package cosign_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/cosign"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

const (
	testIssuer  = "https://token.actions.example.com"
	testSubject = "https://git.example.com/org/app/.github/workflows/release.yml@refs/heads/main"
	testDigest  = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	otherDigest = "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

// anchored is the matchOIDCIdentity entry for the test identity.
var anchored = cosign.Identity{Issuer: `^https://token\.actions\.example\.com$`, Subject: `^https://git\.example\.com/org/app/`}

func keyless(t *testing.T, s *ocitest.Sigstore, ids ...cosign.Identity) *cosign.Keyless {
	t.Helper()
	k, err := cosign.NewKeyless(s.TrustedRootJSON(t), ids)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func bundleSig(t *testing.T, s *ocitest.Sigstore, sig ocitest.KeylessSignature) []cosign.Signature {
	t.Helper()
	if sig.Issuer == "" {
		sig.Issuer = testIssuer
	}
	if sig.Subject == "" {
		sig.Subject = testSubject
	}
	if sig.Digest == "" {
		sig.Digest = testDigest
	}
	sig.Name = "registry.example.com/app"
	return []cosign.Signature{{MediaType: cosign.BundleMediaType, Content: s.Bundle(t, sig)}}
}

// TestKeyless_VerifiesBundlesOfMatchingIdentities: a bundle signed with a
// certificate of the trusted CA, for the manifest digest, by an identity
// matching one of the entries, verifies, whatever the trusted root asks
// for: a log entry, a signed timestamp, or (with neither) a certificate
// valid now.
func TestKeyless_VerifiesBundlesOfMatchingIdentities(t *testing.T) {
	for name, opts := range map[string]ocitest.SigstoreOptions{
		"log and TSA":    {TransparencyLog: true, TimestampAuthority: true},
		"log only":       {TransparencyLog: true},
		"TSA only":       {TimestampAuthority: true},
		"no log, no TSA": {},
	} {
		t.Run(name, func(t *testing.T) {
			s := ocitest.NewSigstore(t, opts)
			other := cosign.Identity{Issuer: "^https://other$", Subject: ".*"}
			v, err := keyless(t, s, other, anchored).Verify(testDigest, bundleSig(t, s, ocitest.KeylessSignature{}))
			if err != nil {
				t.Fatal(err)
			}
			if v.Format != cosign.FormatBundle || !strings.Contains(v.Identity, testSubject) || !strings.Contains(v.Identity, testIssuer) {
				t.Errorf("verified = %+v", v)
			}
		})
	}
}

func TestKeyless_RefusesWhatDoesNotMatch(t *testing.T) {
	s := ocitest.NewSigstore(t, ocitest.SigstoreOptions{TransparencyLog: true, TimestampAuthority: true})
	k := keyless(t, s, anchored)
	for _, tt := range []struct {
		name string
		sig  ocitest.KeylessSignature
		want []string
	}{
		{"another subject", ocitest.KeylessSignature{Subject: "https://git.example.com/mallory/app/.github/workflows/x.yml@refs/heads/main"},
			[]string{"subject 'https://git.example.com/mallory/app/", "subject does not match '^https://git\\.example\\.com/org/app/'"}},
		{"another issuer", ocitest.KeylessSignature{Issuer: "https://accounts.example.org"},
			[]string{"issuer 'https://accounts.example.org'", "issuer does not match '^https://token\\.actions\\.example\\.com$'"}},
		{"an email subject", ocitest.KeylessSignature{Subject: "dev@example.com"}, []string{"subject 'dev@example.com'", "subject does not match"}},
		{"another digest", ocitest.KeylessSignature{Digest: otherDigest}, []string{"digest"}},
		{"an attestation", ocitest.KeylessSignature{PredicateType: "https://slsa.dev/provenance/v1"}, []string{"attestation of 'https://slsa.dev/provenance/v1'"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.Verify(testDigest, bundleSig(t, s, tt.sig))
			t.Log(err)
			if !errors.Is(err, cosign.ErrNoValidSignature) {
				t.Fatalf("err = %v, want ErrNoValidSignature", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to say %q", err, w)
				}
			}
		})
	}
}

// TestKeyless_RefusesTamperedBundlesAndOtherCAs: a statement changed after signing,
// or a certificate of a CA the trusted root does not list.
func TestKeyless_RefusesTamperedBundlesAndOtherCAs(t *testing.T) {
	s := ocitest.NewSigstore(t, ocitest.SigstoreOptions{TransparencyLog: true})
	k := keyless(t, s, anchored)

	// The DSSE signature no longer verifies; with a log, nor does the
	// entry, which is checked first.
	_, hexDigest, _ := strings.Cut(testDigest, ":")
	_, otherHex, _ := strings.Cut(otherDigest, ":")
	for want, s := range map[string]*ocitest.Sigstore{"does not match envelope payload hash": s,
		"failed to verify signature": ocitest.NewSigstore(t, ocitest.SigstoreOptions{})} {
		tampered := replaceInPayload(t, bundleSig(t, s, ocitest.KeylessSignature{})[0].Content, hexDigest, otherHex)
		_, err := keyless(t, s, anchored).Verify(otherDigest, []cosign.Signature{{MediaType: cosign.BundleMediaType, Content: tampered}})
		if !errors.Is(err, cosign.ErrNoValidSignature) || !strings.Contains(err.Error(), want) {
			t.Errorf("a tampered digest: err = %v, want ErrNoValidSignature saying %q", err, want)
		}
	}

	// Same log, another CA: the log entry verifies, the chain does not.
	_, err := k.Verify(testDigest, bundleSig(t, s.WithOtherCA(t), ocitest.KeylessSignature{}))
	if !errors.Is(err, cosign.ErrNoValidSignature) || !strings.Contains(err.Error(), "failed to verify leaf certificate") {
		t.Errorf("another CA: err = %v, want ErrNoValidSignature about the certificate", err)
	}
}

// replaceInPayload swaps old for new in the DSSE payload of a bundle,
// without signing it again.
func replaceInPayload(t *testing.T, bundle []byte, old, new string) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	env := b["dsseEnvelope"].(map[string]any)
	payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(payload, []byte(old)) {
		t.Fatalf("the statement %s does not name %s", payload, old)
	}
	env["payload"] = base64.StdEncoding.EncodeToString(bytes.ReplaceAll(payload, []byte(old), []byte(new)))
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeyless_RequiresTheProofsTheTrustedRootAsksFor: a root listing a
// log wants a log entry (a timestamp alone is not enough), one listing
// only a TSA wants a signed timestamp, one listing a CT log wants an SCT.
func TestKeyless_RequiresTheProofsTheTrustedRootAsksFor(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts ocitest.SigstoreOptions
		sig  ocitest.KeylessSignature
		want string
	}{
		{"no log entry", ocitest.SigstoreOptions{TransparencyLog: true, TimestampAuthority: true}, ocitest.KeylessSignature{NoTlogEntry: true}, "log"},
		{"no timestamp", ocitest.SigstoreOptions{TimestampAuthority: true}, ocitest.KeylessSignature{NoTimestamp: true}, "timestamp"},
		{"no SCT", ocitest.SigstoreOptions{TransparencyLog: true, CTLog: true}, ocitest.KeylessSignature{}, "certificate timestamp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := ocitest.NewSigstore(t, tt.opts)
			_, err := keyless(t, s, anchored).Verify(testDigest, bundleSig(t, s, tt.sig))
			t.Log(err)
			if !errors.Is(err, cosign.ErrNoValidSignature) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrNoValidSignature naming %q", err, tt.want)
			}
		})
	}
}

func TestKeyless_RefusesKeysClassicSignaturesAndBadSpecs(t *testing.T) {
	s := ocitest.NewSigstore(t, ocitest.SigstoreOptions{})
	k := keyless(t, s, anchored)
	_, err := k.Verify(testDigest, []cosign.Signature{{MediaType: cosign.SimpleSigningMediaType}})
	if !errors.Is(err, cosign.ErrNoValidSignature) || !strings.Contains(err.Error(), "sigstore bundles only") {
		t.Errorf("classic: err = %v", err)
	}
	if _, err := k.Verify(testDigest, nil); !errors.Is(err, cosign.ErrUnsigned) {
		t.Errorf("nothing: err = %v, want ErrUnsigned", err)
	}

	for name, ids := range map[string][]cosign.Identity{
		"no identities": nil,
		"empty subject": {{Issuer: ".*"}},
		"not a regexp":  {{Issuer: ".*", Subject: "(unclosed"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := cosign.NewKeyless(s.TrustedRootJSON(t), ids); !errors.Is(err, cosign.ErrInvalidIdentity) {
				t.Errorf("err = %v, want ErrInvalidIdentity", err)
			}
		})
	}
	for name, root := range map[string]string{
		"not JSON":   "not json",
		"no CA":      `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`,
		"wrong type": `{"mediaType":"application/json"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := cosign.NewKeyless([]byte(root), []cosign.Identity{anchored}); !errors.Is(err, cosign.ErrInvalidTrustedRoot) {
				t.Errorf("err = %v, want ErrInvalidTrustedRoot", err)
			}
		})
	}
}

// TestKeyless_VerifiesARealPublicGoodBundle: a bundle the public Sigstore
// made in 2022 (sigstore-go's test data, with Sigstore's public trusted
// root of that data) passes every check (log entry and its timestamp, SCT,
// chain to the Fulcio CA, identity, subject digest) up to the predicate: it
// is a SLSA provenance, not a cosign signature. A trusted root from
// `cosign trusted-root create` or Sigstore's own is read the same way.
func TestKeyless_VerifiesARealPublicGoodBundle(t *testing.T) {
	root := sigstoreTestData(t, "trusted-roots/public-good.json")
	b := sigstoreTestData(t, "bundles/dsse.sigstore.json")
	const digest = "sha512:bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f"
	k, err := cosign.NewKeyless(root, []cosign.Identity{{Issuer: `^https://github\.com/login/oauth$`, Subject: `^brian@dehamer\.com$`}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(k.Proofs, "transparency log") || !strings.Contains(k.Proofs, "SCT") {
		t.Errorf("proofs for the public trusted root: %s", k.Proofs)
	}
	sigs := []cosign.Signature{{MediaType: cosign.BundleMediaType, Content: b}}
	_, err = k.Verify(digest, sigs)
	if err == nil || !strings.Contains(err.Error(), "attestation of 'https://slsa.dev/provenance/v0.2'") {
		t.Errorf("err = %v, want the bundle verified up to its predicate", err)
	}
	k, err = cosign.NewKeyless(root, []cosign.Identity{{Issuer: `^https://token\.actions\.githubusercontent\.com$`, Subject: ".*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(digest, sigs); err == nil || !strings.Contains(err.Error(), "issuer does not match") {
		t.Errorf("err = %v, want the issuer named", err)
	}
}

// sigstoreTestData reads a file of sigstore-go's test data from the module
// cache.
func sigstoreTestData(t *testing.T, name string) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/sigstore/sigstore-go").Output()
	if err != nil {
		t.Skipf("sigstore-go's module directory: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "pkg/testing/data", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
