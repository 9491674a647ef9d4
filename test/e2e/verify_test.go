package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

// cosignKeySecret is a Secret holding the public key of key as cosign.pub.
func cosignKeySecret(ns, name string, key *ocitest.CosignKey) string {
	pem := strings.ReplaceAll(strings.TrimSpace(string(key.PublicPEM)), "\n", "\n    ")
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: %s
stringData:
  cosign.pub: |
    %s
`, name, ns, pem)
}

// TestOCIRepository_VerifyCosignSignatures follows an OCIRepository with
// spec.verify (cosign, public key in a Secret) on a tag of a loopback
// registry: the signed artifact is Ready with SourceVerified=True and
// served; a new artifact pushed to the same tag carrying a trusted
// signature of the old digest, then an unsigned one, each make it
// Ready=False and SourceVerified=False (VerificationError) while the
// verified artifact is still the one in status and served.
func TestOCIRepository_VerifyCosignSignatures(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	key := ocitest.NewCosignKey(t)
	push := func(version string) string {
		return reg.Push(t, "app", "stable", ocitest.Image(t, manifests(version), nil, ""))
	}
	d1 := push("1.0.0")
	reg.SignClassic(t, "app", d1, key)
	ns := namespace(t, "it-oci-verify")
	apply(t, cosignKeySecret(ns, "cosign-pub", key))
	apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: app
  namespace: %s
spec:
  interval: 1m
  url: %s
  insecure: true
  ref:
    tag: stable
  verify:
    provider: cosign
    secretRef:
      name: cosign-pub
`, ns, reg.URL("app")))

	obj := waitForObject(t, "ocirepositories", ns, "app", 90*time.Second, "Ready and verified at stable@"+d1, revisionIs("stable@"+d1))
	if s, reason, msg := condition(obj, "SourceVerified"); s != "True" || reason != "Succeeded" || msg != "verified signature of revision stable@"+d1 {
		t.Errorf("SourceVerified = %s %s %q", s, reason, msg)
	}
	if files := artifactFiles(t, ns, "ocirepositories", "app"); files["README.md"] != "app 1.0.0\n" {
		t.Fatalf("artifact files = %v", files)
	}

	for _, tt := range []struct {
		name, version, wantMsg string
		sign                   func(digest string)
	}{
		{"a trusted signature of the previous digest", "2.0.0", "is for '" + d1 + "'", func(d string) {
			reg.PushClassicSignature(t, "app", d, key.ClassicSignature(t, reg.Host+"/app", d1))
		}},
		{"unsigned", "3.0.0", "no signature found", func(string) {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := push(tt.version)
			tt.sign(d)
			requestReconcile(t, ns, "ocirepositories", "app", "")
			obj := waitForObject(t, "ocirepositories", ns, "app", 30*time.Second, "Ready=False for "+d, func(o map[string]interface{}) bool {
				s, _, msg := condition(o, "Ready")
				return s == "False" && strings.Contains(msg, d)
			})
			if _, reason, msg := condition(obj, "Ready"); reason != "VerificationError" || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("Ready reason %q message %q; want VerificationError with %q", reason, msg, tt.wantMsg)
			}
			if s, reason, _ := condition(obj, "SourceVerified"); s != "False" || reason != "VerificationError" {
				t.Errorf("SourceVerified = %s %s", s, reason)
			}
			if got := nested(obj, "status", "artifact", "revision"); got != "stable@"+d1 {
				t.Errorf("artifact revision = %q, want the verified stable@%s", got, d1)
			}
			if files := artifactFiles(t, ns, "ocirepositories", "app"); files["README.md"] != "app 1.0.0\n" {
				t.Errorf("served artifact files = %v, want the verified 1.0.0", files)
			}
		})
	}
}

// trustedRootSecret is a Secret holding s's trusted root as
// trusted_root.json.
func trustedRootSecret(t *testing.T, ns, name string, s *ocitest.Sigstore) string {
	root := base64.StdEncoding.EncodeToString(s.TrustedRootJSON(t))
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: %s
data:
  trusted_root.json: %s
`, name, ns, root)
}

// TestOCIRepository_VerifyKeylessSignatures follows two OCIRepositories
// with keyless spec.verify (a private Sigstore's trusted root in a Secret,
// matchOIDCIdentity) on a tag of a loopback registry whose artifact is
// signed keylessly (a sigstore bundle referrer: certificate of the private
// CA, transparency log entry, signed timestamp): the one whose identity
// matches is Ready with SourceVerified=True and serves the artifact; the
// one expecting another subject is Ready=False (VerificationError) naming
// the mismatch and has no artifact.
func TestOCIRepository_VerifyKeylessSignatures(t *testing.T) {
	const issuer, subject = "https://token.ci.example.com", "https://git.example.com/org/app/.ci/release.yml@refs/tags/v1.0.0"
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	sigstore := ocitest.NewSigstore(t, ocitest.SigstoreOptions{TransparencyLog: true, TimestampAuthority: true})
	d := reg.Push(t, "app", "stable", ocitest.Image(t, manifests("1.0.0"), nil, ""))
	reg.SignKeyless(t, "app", d, sigstore, issuer, subject)
	ns := namespace(t, "it-oci-keyless")
	apply(t, trustedRootSecret(t, ns, "sigstore-root", sigstore))
	for name, subjectRegexp := range map[string]string{"app": `^https://git\.example\.com/org/app/`, "fork": `^https://git\.example\.com/fork/`} {
		apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: %s
  namespace: %s
spec:
  interval: 1m
  url: %s
  insecure: true
  ref:
    tag: stable
  verify:
    provider: cosign
    trustedRootSecretRef:
      name: sigstore-root
    matchOIDCIdentity:
    - issuer: '^https://token\.ci\.example\.com$'
      subject: '%s'
`, name, ns, reg.URL("app"), subjectRegexp))
	}

	obj := waitForObject(t, "ocirepositories", ns, "app", 90*time.Second, "Ready and verified at stable@"+d, revisionIs("stable@"+d))
	if s, reason, msg := condition(obj, "SourceVerified"); s != "True" || reason != "Succeeded" || msg != "verified signature of revision stable@"+d {
		t.Errorf("SourceVerified = %s %s %q", s, reason, msg)
	}
	if files := artifactFiles(t, ns, "ocirepositories", "app"); files["README.md"] != "app 1.0.0\n" {
		t.Errorf("artifact files = %v", files)
	}

	obj = waitForObject(t, "ocirepositories", ns, "fork", 60*time.Second, "Ready=False (VerificationError)", func(o map[string]interface{}) bool {
		s, reason, _ := condition(o, "Ready")
		return s == "False" && reason == "VerificationError"
	})
	want := "subject does not match '^https://git\\.example\\.com/fork/'"
	if _, reason, msg := condition(obj, "Ready"); reason != "VerificationError" || !strings.Contains(msg, want) || !strings.Contains(msg, subject) {
		t.Errorf("Ready reason %q message %q; want VerificationError naming %s and %q", reason, msg, subject, want)
	}
	if s, reason, _ := condition(obj, "SourceVerified"); s != "False" || reason != "VerificationError" {
		t.Errorf("SourceVerified = %s %s", s, reason)
	}
	if a := nested(obj, "status", "artifact", "revision"); a != "" {
		t.Errorf("an unverified artifact is in status: %s", a)
	}
}
