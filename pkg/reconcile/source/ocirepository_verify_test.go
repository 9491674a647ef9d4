package source

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

func sourceVerified(conds []metav1.Condition) *metav1.Condition {
	return apimeta.FindStatusCondition(conds, source.SourceVerifiedCondition)
}

// pushApp pushes an artifact as app:tag and returns its manifest digest
// and the digest of its layer.
func pushApp(t *testing.T, reg *ocitest.Registry, tag string) (string, string) {
	t.Helper()
	img := ocitest.Image(t, map[string]string{"deploy/app.yaml": "version: " + tag + "\n"}, nil, "")
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	ld, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	return reg.Push(t, "app", tag, img), ld.String()
}

// TestOCIRepository_VerifyCosign_StoresOnlyVerifiedDigests: with
// spec.verify and a Secret of public keys, a digest signed by one of them
// (cosign's classic .sig tag or a sigstore bundle referrer) is stored and
// SourceVerified=True; a digest signed by another key, carrying a
// signature of another digest, or unsigned is never pulled: Ready=False
// and SourceVerified=False (VerificationError), the last verified
// artifact stays. A verified digest is not verified again while it and
// the generation are unchanged.
func TestOCIRepository_VerifyCosign_StoresOnlyVerifiedDigests(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	trusted, other, spare := ocitest.NewCosignKey(t), ocitest.NewCosignKey(t), ocitest.NewCosignKey(t)
	d100, _ := pushApp(t, reg, "1.0.0")
	reg.SignClassic(t, "app", d100, trusted)
	h := newOCIHarness(t)
	h.secrets["ns/cosign-keys"] = &corev1.Secret{Data: map[string][]byte{
		"spare.pub": spare.PublicPEM, "trusted.pub": trusted.PublicPEM, "cosign.key": []byte("ignored"),
	}}
	obj := ociRepo(reg.URL("app"), &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0"})
	obj.Spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider,
		SecretRef: &common.LocalObjectReference{Name: "cosign-keys"}}
	ctx := context.Background()

	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	good := obj.Status.Artifact.DeepCopy()
	if good.Revision != "1.0.0@"+d100 {
		t.Fatalf("artifact = %+v", good)
	}
	if c := sourceVerified(obj.Status.Conditions); c == nil || c.Status != metav1.ConditionTrue || c.Reason != common.SucceededReason ||
		c.Message != "verified signature of revision 1.0.0@"+d100 || c.ObservedGeneration != 1 {
		t.Errorf("SourceVerified = %+v", c)
	}

	before := len(reg.Requests(".sig")) + len(reg.Requests("/referrers/"))
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	if after := len(reg.Requests(".sig")) + len(reg.Requests("/referrers/")); after != before {
		t.Errorf("an unchanged, verified digest was verified again (%d signature requests, were %d)", after, before)
	}

	tests := []struct {
		name, tag, wantMsg string
		sign               func(digest string)
	}{
		{"signed by a key not in the Secret", "1.1.0", "not signed by any of the keys",
			func(d string) { reg.SignClassic(t, "app", d, other) }},
		{"a trusted signature of another digest", "1.2.0", "is for '" + d100 + "'",
			func(d string) {
				reg.PushClassicSignature(t, "app", d, trusted.ClassicSignature(t, reg.Host+"/app", d100))
			}},
		{"unsigned", "1.3.0", "no signature found", func(string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, layer := pushApp(t, reg, tt.tag)
			tt.sign(d)
			res := h.rec.Reconcile(ctx, obj)
			if o, reason := loop.Classify(res.Err, ""); o != loop.Failed || reason != source.VerificationError {
				t.Fatalf("outcome %v %s: %v; want a retried VerificationError", o, reason, res.Err)
			}
			r, v := ready(obj), sourceVerified(obj.Status.Conditions)
			if r.Status != metav1.ConditionFalse || r.Reason != source.VerificationError || !strings.Contains(r.Message, tt.wantMsg) ||
				!strings.Contains(r.Message, "failed to verify the signature using provider 'cosign'") {
				t.Errorf("Ready = %s %s: %s", r.Status, r.Reason, r.Message)
			}
			if v.Status != metav1.ConditionFalse || v.Reason != source.VerificationError || v.Message != r.Message {
				t.Errorf("SourceVerified = %+v", v)
			}
			if obj.Status.Artifact.Revision != good.Revision || !h.rec.Store.Exists(good.Path) {
				t.Errorf("the last verified artifact was not kept: %+v", obj.Status.Artifact)
			}
			if got := reg.Requests("GET /v2/app/blobs/" + layer); len(got) != 0 {
				t.Errorf("the unverified layer was downloaded: %v", got)
			}
		})
	}

	t.Run("a bundle signature, once pushed, verifies the same digest", func(t *testing.T) {
		d, _ := pushApp(t, reg, "1.3.0")
		reg.SignBundle(t, "app", d, "", trusted)
		if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
			t.Fatal(res.Err)
		}
		if obj.Status.Artifact.Revision != "1.3.0@"+d {
			t.Errorf("artifact = %+v", obj.Status.Artifact)
		}
		if c := sourceVerified(obj.Status.Conditions); c.Status != metav1.ConditionTrue || c.Message != "verified signature of revision 1.3.0@"+d {
			t.Errorf("SourceVerified = %+v", c)
		}
	})

	t.Run("a new generation verifies again, without spec.verify the condition goes", func(t *testing.T) {
		obj.Spec.Verify.SecretRef.Name = "other-keys"
		h.secrets["ns/other-keys"] = &corev1.Secret{Data: map[string][]byte{"other.pub": other.PublicPEM}}
		obj.Generation++
		if res := h.rec.Reconcile(ctx, obj); res.Err == nil || !strings.Contains(res.Err.Error(), "with key 'other.pub'") {
			t.Errorf("err = %v; want the signature checked with the new key", res.Err)
		}
		obj.Spec.Verify = nil
		obj.Generation++
		if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
			t.Fatal(res.Err)
		}
		if c := sourceVerified(obj.Status.Conditions); c != nil {
			t.Errorf("SourceVerified = %+v without spec.verify", c)
		}
	})
}

// TestOCIRepository_VerifyRefusesWhatItCannotCheck: notation, keyless
// verification without a trusted root or identities, and identities that
// are no regular expressions stall before the registry is contacted; a
// missing Secret, one without keys or without a usable trusted root fails
// (it may be fixed). Nothing is stored.
func TestOCIRepository_VerifyRefusesWhatItCannotCheck(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	pushApp(t, reg, "1.0.0")
	h := newOCIHarness(t)
	h.secrets["ns/no-keys"] = &corev1.Secret{Data: map[string][]byte{"cosign.key": []byte("x")}}
	keys := &common.LocalObjectReference{Name: "no-keys"}
	h.secrets["ns/root"] = &corev1.Secret{Data: map[string][]byte{
		"trusted_root.json": ocitest.NewSigstore(t, ocitest.SigstoreOptions{}).TrustedRootJSON(t)}}
	h.secrets["ns/bad-root"] = &corev1.Secret{Data: map[string][]byte{"trusted_root.json": []byte("{}")}}
	root := &common.LocalObjectReference{Name: "root"}
	anyIdentity := []sourcev1.OIDCIdentityMatch{{Issuer: ".*", Subject: ".*"}}
	tests := []struct {
		name        string
		verify      sourcev1.OCIRepositoryVerification
		wantOutcome loop.Outcome
		wantMsg     string
	}{
		{"notation", sourcev1.OCIRepositoryVerification{Provider: source.NotationVerificationProvider, SecretRef: keys},
			loop.Stalled, "spec.verify.provider 'notation' is not supported"},
		{"keyless without a trusted root", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider,
			MatchOIDCIdentity: []sourcev1.OIDCIdentityMatch{{Issuer: "^https://token.actions.githubusercontent.com$", Subject: ".*"}}},
			loop.Stalled, "spec.verify.matchOIDCIdentity asks for keyless verification, which needs a Sigstore trusted root"},
		{"keyless without identities", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider},
			loop.Stalled, "spec.verify without secretRef asks for keyless verification"},
		{"a trusted root without identities", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider,
			TrustedRootSecretRef: root}, loop.Stalled, "spec.verify.trustedRootSecretRef needs spec.verify.matchOIDCIdentity"},
		{"a trusted root next to keys", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider, SecretRef: keys,
			TrustedRootSecretRef: root}, loop.Stalled, "spec.verify.trustedRootSecretRef is for keyless verification"},
		{"an identity that is no regular expression", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider,
			TrustedRootSecretRef: root, MatchOIDCIdentity: []sourcev1.OIDCIdentityMatch{{Issuer: ".*", Subject: "(unclosed"}}},
			loop.Stalled, "spec.verify.matchOIDCIdentity: invalid identity 1: subject"},
		{"a trusted root secret without trusted_root.json", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider,
			TrustedRootSecretRef: keys, MatchOIDCIdentity: anyIdentity},
			loop.Failed, "secret 'ns/no-keys' (spec.verify.trustedRootSecretRef) has no 'trusted_root.json' entry"},
		{"a trusted root that is not one", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider,
			TrustedRootSecretRef: &common.LocalObjectReference{Name: "bad-root"}, MatchOIDCIdentity: anyIdentity},
			loop.Failed, "invalid secret 'ns/bad-root' (spec.verify.trustedRootSecretRef): invalid trusted root"},
		{"missing secret", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider,
			SecretRef: &common.LocalObjectReference{Name: "nope"}}, loop.Failed, "secret 'ns/nope' (spec.verify.secretRef) not found"},
		{"no key in the secret", sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider, SecretRef: keys},
			loop.Failed, "no entry ending in '.pub'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := ociRepo(reg.URL("app"), &sourcev1.OCIRepositoryRef{Tag: "1.0.0"})
			obj.Spec.Verify = &tt.verify
			sent := len(reg.Requests(""))
			res := h.rec.Reconcile(context.Background(), obj)
			if o, reason := loop.Classify(res.Err, ""); o != tt.wantOutcome || reason != source.VerificationError {
				t.Errorf("outcome %v %s: %v", o, reason, res.Err)
			}
			if v := sourceVerified(obj.Status.Conditions); v == nil || v.Status != metav1.ConditionFalse || !strings.Contains(v.Message, tt.wantMsg) {
				t.Errorf("SourceVerified = %+v; want False with %q", v, tt.wantMsg)
			}
			if obj.Status.Artifact != nil || len(reg.Requests("")) != sent {
				t.Errorf("artifact %+v, registry requests %v", obj.Status.Artifact, reg.Requests("")[sent:])
			}
		})
	}
}

// TestOCIRepository_VerifyKeyless_StoresOnlyMatchingIdentities: with
// spec.verify.trustedRootSecretRef and matchOIDCIdentity, a digest whose
// sigstore bundle carries a certificate of the trusted root's CA for a
// matching identity (and the log entry the root asks for) is stored and
// SourceVerified=True; one signed by another identity, by another CA, or
// without the log entry is never pulled and the verified artifact stays.
func TestOCIRepository_VerifyKeyless_StoresOnlyMatchingIdentities(t *testing.T) {
	const issuer, subject = "https://token.ci.example.com", "https://git.example.com/org/app/.ci/release.yml@refs/heads/main"
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	sigstore := ocitest.NewSigstore(t, ocitest.SigstoreOptions{TransparencyLog: true, TimestampAuthority: true})
	d100, _ := pushApp(t, reg, "1.0.0")
	reg.SignKeyless(t, "app", d100, sigstore, issuer, subject)
	h := newOCIHarness(t)
	h.secrets["ns/sigstore"] = &corev1.Secret{Data: map[string][]byte{"trusted_root.json": sigstore.TrustedRootJSON(t)}}
	obj := ociRepo(reg.URL("app"), &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0"})
	obj.Spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: source.CosignVerificationProvider,
		TrustedRootSecretRef: &common.LocalObjectReference{Name: "sigstore"},
		MatchOIDCIdentity: []sourcev1.OIDCIdentityMatch{
			{Issuer: "^https://accounts\\.example\\.com$", Subject: ".*"},
			{Issuer: "^https://token\\.ci\\.example\\.com$", Subject: "^https://git\\.example\\.com/org/app/"},
		}}
	ctx := context.Background()
	if res := h.rec.Reconcile(ctx, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	good := obj.Status.Artifact.DeepCopy()
	if good.Revision != "1.0.0@"+d100 {
		t.Fatalf("artifact = %+v", good)
	}
	if c := sourceVerified(obj.Status.Conditions); c == nil || c.Status != metav1.ConditionTrue || c.Message != "verified signature of revision 1.0.0@"+d100 {
		t.Errorf("SourceVerified = %+v", c)
	}

	stranger := sigstore.WithOtherCA(t)
	for _, tt := range []struct {
		name, tag, wantMsg string
		sign               func(digest string)
	}{
		{"another subject", "1.1.0", "subject does not match '^https://git\\.example\\.com/org/app/'",
			func(d string) {
				reg.SignKeyless(t, "app", d, sigstore, issuer, "https://git.example.com/fork/app/.ci/release.yml")
			}},
		{"another CA", "1.2.0", "failed to verify leaf certificate",
			func(d string) { reg.SignKeyless(t, "app", d, stranger, issuer, subject) }},
		{"no log entry", "1.3.0", "transparency log",
			func(d string) {
				reg.PushBundle(t, "app", d, sigstore.Bundle(t, ocitest.KeylessSignature{Issuer: issuer, Subject: subject,
					Name: reg.Host + "/app", Digest: d, NoTlogEntry: true}))
			}},
		{"a key signature", "1.4.0", "signed with a public key, not a certificate",
			func(d string) { reg.SignBundle(t, "app", d, "", ocitest.NewCosignKey(t)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, layer := pushApp(t, reg, tt.tag)
			tt.sign(d)
			res := h.rec.Reconcile(ctx, obj)
			if o, reason := loop.Classify(res.Err, ""); o != loop.Failed || reason != source.VerificationError {
				t.Fatalf("outcome %v %s: %v; want a retried VerificationError", o, reason, res.Err)
			}
			if r := ready(obj); r.Status != metav1.ConditionFalse || r.Reason != source.VerificationError || !strings.Contains(r.Message, tt.wantMsg) {
				t.Errorf("Ready = %s %s: %s\nwant it to say %q", r.Status, r.Reason, r.Message, tt.wantMsg)
			}
			if v := sourceVerified(obj.Status.Conditions); v.Status != metav1.ConditionFalse {
				t.Errorf("SourceVerified = %+v", v)
			}
			if obj.Status.Artifact.Revision != good.Revision || !h.rec.Store.Exists(good.Path) {
				t.Errorf("the last verified artifact was not kept: %+v", obj.Status.Artifact)
			}
			if got := reg.Requests("GET /v2/app/blobs/" + layer); len(got) != 0 {
				t.Errorf("the unverified layer was downloaded: %v", got)
			}
		})
	}
}
