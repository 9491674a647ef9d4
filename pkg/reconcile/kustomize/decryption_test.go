package kustomize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt/decrypttest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

const plainSecret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  token: t0ken-plaintext-value\n"

// storeArtifact stores files as the artifact of GitRepository apps/repo.
func storeArtifact(t *testing.T, files map[string][]byte) (*artifact.Store, artifact.Key, *common.Artifact) {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	key := artifact.Key{Kind: "GitRepository", Namespace: "apps", Name: "repo"}
	stored, err := store.Put(context.Background(), key, dir, artifact.ArchiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return store, key, &common.Artifact{Path: stored.Path, Revision: "main@sha1:1", Digest: stored.Digest, Size: &stored.Size}
}

// TestBuild_Decryption runs the worker's build on artifacts with SOPS files
// and decryption Secrets of every kind.
func TestBuild_Decryption(t *testing.T) {
	ours, theirs := decrypttest.NewAgeKey(t), decrypttest.NewAgeKey(t)
	encryptedFor := func(k decrypttest.AgeKey) []byte {
		return decrypttest.Encrypt(t, []byte(plainSecret), "yaml",
			decrypttest.Options{Age: []decrypttest.AgeKey{k}, EncryptedRegex: "^(data|stringData)$"})
	}
	kmsOnly := decrypttest.Encrypt(t, []byte(plainSecret), "yaml",
		decrypttest.Options{AWSKMS: []string{"arn:aws:kms:eu-west-1:111122223333:key/k"}})
	ageSecret := map[string][]byte{"age.agekey": []byte(ours.Identity)}
	tests := []struct {
		name        string
		file        []byte
		decryption  *kustomizev1.Decryption
		secret      map[string][]byte
		wantOutcome loop.Outcome
		wantReason  string
		wantMessage string
	}{
		{name: "decrypted with the Secret's age key", file: encryptedFor(ours), secret: ageSecret,
			decryption: &kustomizev1.Decryption{Provider: "sops", SecretRef: &common.LocalObjectReference{Name: "sops"}}},
		{name: "wrong key", file: encryptedFor(theirs), secret: ageSecret,
			decryption:  &kustomizev1.Decryption{Provider: "sops", SecretRef: &common.LocalObjectReference{Name: "sops"}},
			wantOutcome: loop.Failed, wantReason: kustomize.BuildFailedReason,
			wantMessage: "decrypting 'app/secret.yaml': no key of the decryption Secret can decrypt it (it is encrypted for age " + theirs.Recipient + ")"},
		{name: "no secretRef", file: encryptedFor(ours), decryption: &kustomizev1.Decryption{Provider: "sops"},
			wantOutcome: loop.Failed, wantReason: kustomize.BuildFailedReason,
			wantMessage: "decrypting 'app/secret.yaml': no key of the decryption Secret can decrypt it"},
		{name: "Secret missing", file: encryptedFor(ours),
			decryption:  &kustomizev1.Decryption{Provider: "sops", SecretRef: &common.LocalObjectReference{Name: "sops"}},
			wantOutcome: loop.Failed, wantReason: kustomize.BuildFailedReason,
			wantMessage: "decryption secret 'apps/sops' (spec.decryption.secretRef) not found"},
		{name: "Vault token in the Secret", file: encryptedFor(ours),
			secret:      map[string][]byte{"age.agekey": []byte(ours.Identity), "sops.vault-token": []byte("hvs.s3cr3t")},
			decryption:  &kustomizev1.Decryption{Provider: "sops", SecretRef: &common.LocalObjectReference{Name: "sops"}},
			wantOutcome: loop.Stalled, wantReason: kustomize.BuildFailedReason,
			wantMessage: "decryption secret 'apps/sops' (spec.decryption.secretRef): entry 'sops.vault-token' holds a HashiCorp Vault token"},
		{name: "file for AWS KMS only", file: kmsOnly, secret: ageSecret,
			decryption:  &kustomizev1.Decryption{Provider: "sops", SecretRef: &common.LocalObjectReference{Name: "sops"}},
			wantOutcome: loop.Stalled, wantReason: kustomize.BuildFailedReason,
			wantMessage: "decrypting 'app/secret.yaml': it is encrypted only for AWS KMS, which is not supported by this server"},
		{name: "encrypted Secret without spec.decryption", file: encryptedFor(ours),
			wantOutcome: loop.Failed, wantReason: kustomize.BuildFailedReason,
			wantMessage: "Secret/creds is encrypted with SOPS: set spec.decryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, key, a := storeArtifact(t, map[string][]byte{"app/secret.yaml": tt.file})
			host := fake.NewClientset()
			if tt.secret != nil {
				_, err := host.CoreV1().Secrets("apps").Create(context.Background(),
					&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "sops"}, Data: tt.secret}, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
			}
			r := &Reconciler{Store: store, Host: host}
			obj := ks("app")
			obj.Spec.Path = "./app"
			obj.Spec.Decryption = tt.decryption

			objs, dec, err := r.build(context.Background(), obj, key, a)

			if tt.wantMessage == "" {
				if err != nil {
					t.Fatalf("build: %v", err)
				}
				if got, _, _ := unstructured.NestedString(objs[0].Object, "stringData", "token"); got != "t0ken-plaintext-value" {
					t.Errorf("token = %q", got)
				}
				if got := dec.Redact("token t0ken-plaintext-value"); got != "token ***" {
					t.Errorf("Redact = %q", got)
				}
				return
			}
			outcome, reason := loop.Classify(err, "")
			if outcome != tt.wantOutcome || reason != tt.wantReason {
				t.Errorf("outcome %v %q, want %v %q (%v)", outcome, reason, tt.wantOutcome, tt.wantReason, err)
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantMessage) {
				t.Errorf("error %v, want it to start with %q", err, tt.wantMessage)
			}
			for _, secret := range []string{"t0ken-plaintext-value", ours.Identity, "hvs.s3cr3t"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds secret material", err)
				}
			}
		})
	}
}

func TestRedactErr_KeepsOutcomeAndReason(t *testing.T) {
	key := decrypttest.NewAgeKey(t)
	keys, err := decrypt.ParseKeys(map[string][]byte{"a.agekey": []byte(key.Identity)})
	if err != nil {
		t.Fatal(err)
	}
	d := decrypt.New(keys, decrypt.Options{})
	env := decrypttest.Encrypt(t, []byte("PASSWORD=pl4intext-password\n"), "dotenv", decrypttest.Options{Age: []decrypttest.AgeKey{key}})
	if _, _, err := d.DecryptFile("a.env", env); err != nil {
		t.Fatal(err)
	}
	for _, in := range []error{
		loop.Failf("ApplyFailed", "invalid value pl4intext-password"),
		loop.Stallf("BuildFailed", "invalid value pl4intext-password"),
		loop.Waitf("Waiting", 7, "invalid value pl4intext-password"),
		errors.New("invalid value pl4intext-password"),
	} {
		out := redactErr(in, d)
		if out.Error() != "invalid value ***" {
			t.Errorf("redactErr(%v) = %v", in, out)
		}
		gotOutcome, gotReason := loop.Classify(out, "default")
		wantOutcome, wantReason := loop.Classify(in, "default")
		if gotOutcome != wantOutcome || gotReason != wantReason {
			t.Errorf("redactErr changed %v %q into %v %q", wantOutcome, wantReason, gotOutcome, gotReason)
		}
	}
	if redactErr(nil, d) != nil {
		t.Error("redactErr(nil) is not nil")
	}
	plain := loop.Failf("X", "nothing secret")
	if redactErr(plain, d) != plain || redactErr(plain, nil) != plain {
		t.Error("an error without decrypted values was rebuilt")
	}
}
