package e2e

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt/decrypttest"
)

// encryptedSecret is a Secret manifest with token, encrypted for key as
// `sops --encrypt --age ... --encrypted-regex '^(data|stringData)$'` does.
func encryptedSecret(t *testing.T, key decrypttest.AgeKey, token string) string {
	t.Helper()
	plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  token: " + token + "\n"
	return string(decrypttest.Encrypt(t, []byte(plain), "yaml",
		decrypttest.Options{Age: []decrypttest.AgeKey{key}, EncryptedRegex: "^(data|stringData)$"}))
}

func secretValue(t *testing.T, ns, name, key string) string {
	t.Helper()
	v, err := base64.StdEncoding.DecodeString(jsonpath(t, "secret", ns, name, "{.data."+key+"}"))
	if err != nil {
		t.Fatalf("secret %s/%s %s: %v", ns, name, key, err)
	}
	return string(v)
}

// TestKustomization_DecryptsSOPSWithAge: spec.decryption applies a Secret
// decrypted from an age-encrypted manifest and one generated from an
// encrypted dotenv file. No plaintext shows in the Kustomization's status,
// events, the server's log or /diff. Then a file encrypted for a key the
// Secret lacks gives Ready=False naming the file, and the Secrets applied
// before stay as they were.
func TestKustomization_DecryptsSOPSWithAge(t *testing.T) {
	const token = "e2e-t0ken-must-not-leak"
	const password = "e2e-passw0rd-must-not-leak"
	const token2 = "e2e-s3cond-t0ken-must-not-leak"
	ns := namespace(t, "ks-decrypt")
	key := decrypttest.NewAgeKey(t)
	files := map[string]string{
		"app/kustomization.yaml": `resources:
- secret.enc.yaml
secretGenerator:
- name: db
  envs:
  - db.env
  options:
    disableNameSuffixHash: true
`,
		"app/secret.enc.yaml": encryptedSecret(t, key, token),
		"app/db.env": string(decrypttest.Encrypt(t, []byte("DB_USER=app\nDB_PASSWORD="+password+"\n"), "dotenv",
			decrypttest.Options{Age: []decrypttest.AgeKey{key}})),
	}
	for name, content := range files {
		if strings.Contains(content, token) || strings.Contains(content, password) {
			t.Fatalf("%s is not encrypted", name)
		}
	}
	repo, first := gitSource(t, ns, files)
	kubectl(t, "create", "secret", "generic", "sops-age", "-n", ns, "--from-literal=age.agekey="+key.Identity)
	apply(t, kustomizationFrom(ns, "app", `  targetNamespace: `+ns+`
  decryption:
    provider: sops
    secretRef:
      name: sops-age
`))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "the encrypted revision applied", appliedAt("main@sha1:"+first))
	if got := secretValue(t, ns, "creds", "token"); got != token {
		t.Errorf("Secret creds token = %q, want the decrypted value", got)
	}
	if got := secretValue(t, ns, "db", "DB_PASSWORD"); got != password {
		t.Errorf("Secret db DB_PASSWORD = %q, want the decrypted value", got)
	}
	if got := secretValue(t, ns, "db", "DB_USER"); got != "app" {
		t.Errorf("Secret db DB_USER = %q", got)
	}

	base := "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/" + ns + "/kustomizations/app/"
	diff, err := kubectlStdout(t, "", "get", "--raw", base+"diff")
	if err != nil {
		t.Fatalf("/diff: %v", err)
	}
	textDiff, err := kubectlStdout(t, "", "get", "--raw", base+"diff?format=text")
	if err != nil {
		t.Fatalf("/diff?format=text: %v", err)
	}
	// /diff decrypts as the worker does: the same objects, all unchanged.
	actions := diffActions(t, ns, "app")
	if actions["Secret/creds"] != "unchanged" || actions["Secret/db"] != "unchanged" {
		t.Errorf("/diff actions %v, want both Secrets unchanged", actions)
	}

	t.Run("a key the Secret lacks fails naming the file and keeps the applied state", func(t *testing.T) {
		other := decrypttest.NewAgeKey(t)
		second := repo.Commit(t, map[string]string{"app/secret.enc.yaml": encryptedSecret(t, other, token2)}, "encrypt for another key")
		requestReconcile(t, ns, "gitrepositories", "app", "")
		obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "Ready=False for the second revision", func(obj map[string]interface{}) bool {
			s, _, _ := condition(obj, "Ready")
			return s == "False" && nested(obj, "status", "lastAttemptedRevision") == "main@sha1:"+second
		})
		_, reason, msg := condition(obj, "Ready")
		if reason != "BuildFailed" || !strings.Contains(msg, "decrypting 'app/secret.enc.yaml'") ||
			!strings.Contains(msg, "no key of the decryption Secret can decrypt it") || !strings.Contains(msg, other.Recipient) {
			t.Errorf("Ready reason %q message %q; want BuildFailed naming the file and its recipient", reason, msg)
		}
		if got := nested(obj, "status", "lastAppliedRevision"); got != "main@sha1:"+first {
			t.Errorf("lastAppliedRevision = %q, want the last good one", got)
		}
		if got := secretValue(t, ns, "creds", "token"); got != token {
			t.Errorf("Secret creds token = %q after the failure, want the one applied before", got)
		}
		waitFor(t, 30*time.Second, "a warning event naming the file", func() bool {
			return strings.Contains(events(t, ns), "app/secret.enc.yaml")
		})
		// /diff fails the same way, naming the file.
		out, err := kubectlStdout(t, "", "get", "--raw", base+"diff")
		if err == nil || !strings.Contains(err.Error()+string(out), "app/secret.enc.yaml") {
			t.Errorf("/diff with the wrong key: %s %v; want an error naming the file", out, err)
		}
	})

	serverLog, err := os.ReadFile(cp.GitOpsLog())
	if err != nil {
		t.Fatal(err)
	}
	leaks := map[string]string{
		"/diff": string(diff), "/diff?format=text": string(textDiff),
		"statuses": kubectl(t, "get", "kustomizations", "-n", ns, "-o", "yaml"),
		"events":   events(t, ns), "server log": string(serverLog),
	}
	for where, s := range leaks {
		for _, v := range []string{token, password, token2, key.Identity} {
			if strings.Contains(s, v) || strings.Contains(s, base64.StdEncoding.EncodeToString([]byte(v))) {
				t.Errorf("a decrypted value or key appears in %s", where)
			}
		}
	}
}
