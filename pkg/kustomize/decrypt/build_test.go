package decrypt_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/build"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt/decrypttest"
)

// TestBuild_DecryptsResourcesAndSecretGeneratorSources runs kustomize on
// an overlay whose base holds an encrypted Secret and a secretGenerator
// with encrypted envs and files (dotenv, JSON, binary), next to plain
// files: what kustomize builds is decrypted, plain files are as they were,
// and the file system holds only ciphertext again afterwards.
func TestBuild_DecryptsResourcesAndSecretGeneratorSources(t *testing.T) {
	key := decrypttest.NewAgeKey(t)
	pgpKey := decrypttest.NewPGPKey(t, 0)
	forAge := decrypttest.Options{Age: []decrypttest.AgeKey{key}}
	secret := decrypttest.Encrypt(t, []byte(secretManifest), "yaml",
		decrypttest.Options{Age: []decrypttest.AgeKey{key}, EncryptedRegex: "^(data|stringData)$"})
	files := map[string][]byte{
		"base/kustomization.yaml": []byte(`resources:
- secret.yaml
- configmap.yaml
secretGenerator:
- name: generated
  envs:
  - db.env
  files:
  - config.json
  - tls.key=tls.key.enc
  options:
    disableNameSuffixHash: true
- name: plain
  literals:
  - user=admin
  files:
  - notes.txt
  options:
    disableNameSuffixHash: true
configMapGenerator:
- name: settings
  envs:
  - settings.env
  options:
    disableNameSuffixHash: true
`),
		"base/secret.yaml":    secret,
		"base/configmap.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  greeting: hello\n"),
		"base/db.env":         decrypttest.Encrypt(t, []byte("DB_PASSWORD=env-s3cr3t-value\n"), "dotenv", forAge),
		"base/config.json": decrypttest.Encrypt(t, []byte(`{"apiKey":"json-s3cr3t-value"}`), "json",
			decrypttest.Options{PGP: []decrypttest.PGPKey{pgpKey}}),
		"base/tls.key.enc":           decrypttest.Encrypt(t, []byte("binary-s3cr3t-value\n"), "binary", forAge),
		"base/notes.txt":             []byte("sops is not mentioned here in any metadata\n"),
		"base/settings.env":          []byte("MODE=fast\n"),
		"overlay/kustomization.yaml": []byte("resources:\n- ../base\nnamePrefix: prod-\n"),
	}
	fs := filesys.MakeFsInMemory()
	for name, data := range files {
		if err := fs.WriteFile("/"+name, data); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := decrypt.ParseKeys(map[string][]byte{"age.agekey": []byte(key.Identity), "pgp.asc": []byte(pgpKey.ArmoredPrivate(t))})
	if err != nil {
		t.Fatal(err)
	}
	d := decrypt.New(keys, decrypt.Options{})

	objs, err := build.Build(fs, build.Options{Path: "./overlay", Decryptor: d})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	creds := object(t, objs, "Secret", "prod-creds")
	if got, _, _ := unstructured.NestedString(creds.Object, "stringData", "token"); got != "s3cr3t-token-value" {
		t.Errorf("prod-creds token = %q", got)
	}
	if _, found := creds.Object["sops"]; found {
		t.Error("the built Secret keeps its sops metadata")
	}
	generated := object(t, objs, "Secret", "prod-generated")
	for k, want := range map[string]string{
		"DB_PASSWORD": "env-s3cr3t-value",
		"tls.key":     "binary-s3cr3t-value\n",
	} {
		if got := secretData(t, generated, k); got != want {
			t.Errorf("generated %s = %q, want %q", k, got, want)
		}
	}
	if got := secretData(t, generated, "config.json"); !strings.Contains(got, `"apiKey": "json-s3cr3t-value"`) || strings.Contains(got, "sops") {
		t.Errorf("generated config.json = %q", got)
	}
	if got := secretData(t, object(t, objs, "Secret", "prod-plain"), "notes.txt"); got != string(files["base/notes.txt"]) {
		t.Errorf("plain file source = %q, want it unchanged", got)
	}
	if got, _, _ := unstructured.NestedString(object(t, objs, "ConfigMap", "prod-settings").Object, "data", "MODE"); got != "fast" {
		t.Errorf("configMapGenerator MODE = %q", got)
	}

	for name, data := range files {
		got, err := fs.ReadFile("/" + name)
		if err != nil || string(got) != string(data) {
			t.Errorf("%s changed in the file system after the build", name)
		}
	}
	for _, v := range []string{"s3cr3t-token-value", "env-s3cr3t-value", "binary-s3cr3t-value"} {
		if got := d.Redact("error near " + v); got != "error near ***" {
			t.Errorf("Redact(%q) = %q", v, got)
		}
	}
}

// TestBuild_DecryptionFailureNamesTheFile: a generator source for a key
// the Secret lacks fails the build, naming the file from the source root.
func TestBuild_DecryptionFailureNamesTheFile(t *testing.T) {
	key, other := decrypttest.NewAgeKey(t), decrypttest.NewAgeKey(t)
	fs := filesys.MakeFsInMemory()
	for name, data := range map[string][]byte{
		"apps/kustomization.yaml": []byte("secretGenerator:\n- name: s\n  envs:\n  - app.env\n"),
		"apps/app.env":            decrypttest.Encrypt(t, []byte("A=b-secret-value\n"), "dotenv", decrypttest.Options{Age: []decrypttest.AgeKey{other}}),
	} {
		if err := fs.WriteFile("/"+name, data); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := decrypt.ParseKeys(map[string][]byte{"age.agekey": []byte(key.Identity)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = build.Build(fs, build.Options{Path: "apps", Decryptor: decrypt.New(keys, decrypt.Options{})})
	if err == nil || !strings.HasPrefix(err.Error(), "decrypting 'apps/app.env': no key of the decryption Secret can decrypt it") {
		t.Errorf("Build error %v", err)
	}
}

func object(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s built", kind, name)
	return nil
}

func secretData(t *testing.T, s *unstructured.Unstructured, key string) string {
	t.Helper()
	v, _, _ := unstructured.NestedString(s.Object, "data", key)
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Fatalf("data %s: %v", key, err)
	}
	return string(b)
}
