package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

func ociRepositoryFrom(apiVersion, ns, name, url, extra string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/%s
kind: OCIRepository
metadata:
  name: %s
  namespace: %s
spec:
  interval: 1m
  url: %s
  insecure: true
  ref:
    semver: ">=1.0.0"
%s`, apiVersion, name, ns, url, extra)
}

func manifests(version string) map[string]string {
	return map[string]string{
		"deploy/app.yaml": "kind: ConfigMap\nmetadata: {name: app}\ndata: {version: " + version + "}\n",
		"README.md":       "app " + version + "\n",
	}
}

func pushVersion(t *testing.T, reg *ocitest.Registry, version string) string {
	t.Helper()
	return reg.Push(t, "app", version, ocitest.Image(t, manifests(version),
		map[string]string{"org.opencontainers.image.revision": "v" + version + "@sha1:0123456789abcdef", "org.opencontainers.image.source": "https://example.com/app.git"}, ""))
}

// TestOCIRepository_PullsSemverStoresServesAndFollows resolves a semver
// range against a registry on loopback, serves the artifact through
// /artifact, follows a new tag after /reconcile, and is served as v1beta2.
func TestOCIRepository_PullsSemverStoresServesAndFollows(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	pushVersion(t, reg, "1.0.0")
	d110 := pushVersion(t, reg, "1.1.0")
	ns := namespace(t, "it-oci")
	apply(t, ociRepositoryFrom("v1", ns, "app", reg.URL("app"), ""))

	obj := waitForObject(t, "ocirepositories", ns, "app", 90*time.Second, "Ready at 1.1.0", revisionIs("1.1.0@"+d110))
	if _, reason, msg := condition(obj, "Ready"); reason != "Succeeded" || msg != "stored artifact for revision '1.1.0@"+d110+"'" {
		t.Errorf("Ready reason %q message %q", reason, msg)
	}
	if s, _, _ := condition(obj, "ArtifactInStorage"); s != "True" {
		t.Errorf("ArtifactInStorage = %q", s)
	}
	if got := nested(obj, "status", "artifact", "metadata", "org.opencontainers.image.revision"); got != "v1.1.0@sha1:0123456789abcdef" {
		t.Errorf("artifact metadata revision = %q", got)
	}

	artifactPath := "/apis/source.toolkit.fluxcd.io/v1/namespaces/" + ns + "/ocirepositories/app/artifact"
	data, err := kubectlStdout(t, "", "get", "--raw", artifactPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if digest := nested(obj, "status", "artifact", "digest"); "sha256:"+hex.EncodeToString(sum[:]) != digest {
		t.Fatalf("sha256 of /artifact = %x, status.artifact.digest = %s", sum, digest)
	}
	dir := t.TempDir()
	if err := artifact.Extract(bytes.NewReader(data), dir, artifact.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, want := range manifests("1.1.0") {
		if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil || string(b) != want {
			t.Errorf("%s = %q (%v)", name, b, err)
		}
	}
	waitFor(t, 30*time.Second, "a NewArtifact event", func() bool {
		out := kubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=app,involvedObject.kind=OCIRepository", "-o", "jsonpath={.items[*].reason}")
		return strings.Contains(out, "NewArtifact")
	})

	t.Run("reconcile follows a new tag at once", func(t *testing.T) {
		d120 := pushVersion(t, reg, "1.2.0")
		at := requestReconcile(t, ns, "ocirepositories", "app", "")
		obj := waitForObject(t, "ocirepositories", ns, "app", 30*time.Second, "1.2.0 (interval is 1m)", revisionIs("1.2.0@"+d120))
		if got := nested(obj, "status", "lastHandledReconcileAt"); got != at {
			t.Errorf("lastHandledReconcileAt = %q, want %q", got, at)
		}
	})

	t.Run("served as v1beta2", func(t *testing.T) {
		apply(t, ociRepositoryFrom("v1beta2", ns, "beta", reg.URL("app"), ""))
		waitForObject(t, "ocirepositories.v1beta2.source.toolkit.fluxcd.io", ns, "beta", 60*time.Second, "Ready", func(o map[string]interface{}) bool {
			return readyAt(o) && strings.HasPrefix(nested(o, "status", "artifact", "revision"), "1.2.0@sha256:")
		})
	})
}

// TestOCIRepository_DockerConfigSecretAndWrongPassword pulls from a registry
// requiring basic auth with a kubernetes.io/dockerconfigjson Secret; a wrong
// password makes it Ready=False with the last artifact kept, and the
// password appears nowhere.
func TestOCIRepository_DockerConfigSecretAndWrongPassword(t *testing.T) {
	const password = "oci-correct-horse"
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "flux", Password: password})
	d := pushVersion(t, reg, "1.0.0")
	ns := namespace(t, "it-oci-auth")
	kubectl(t, "create", "secret", "docker-registry", "regcred", "-n", ns,
		"--docker-server="+reg.Host, "--docker-username=flux", "--docker-password="+password)
	apply(t, ociRepositoryFrom("v1", ns, "app", reg.URL("app"), "  secretRef:\n    name: regcred\n"))
	waitForObject(t, "ocirepositories", ns, "app", 90*time.Second, "Ready at 1.0.0", revisionIs("1.0.0@"+d))

	const wrong = "oci-not-the-password-42"
	out := kubectl(t, "create", "secret", "docker-registry", "regcred", "-n", ns,
		"--docker-server="+reg.Host, "--docker-username=flux", "--docker-password="+wrong, "--dry-run=client", "-o", "yaml")
	apply(t, out)
	pushVersion(t, reg, "1.1.0")
	requestReconcile(t, ns, "ocirepositories", "app", "")
	obj := waitForObject(t, "ocirepositories", ns, "app", 30*time.Second, "Ready=False", func(o map[string]interface{}) bool {
		s, _, _ := condition(o, "Ready")
		return s == "False"
	})
	_, reason, msg := condition(obj, "Ready")
	if reason != "AuthenticationFailed" {
		t.Errorf("reason = %q (%s)", reason, msg)
	}
	if got := nested(obj, "status", "artifact", "revision"); got != "1.0.0@"+d {
		t.Errorf("artifact revision = %q, want the last good one", got)
	}
	if _, err := kubectlStdout(t, "", "get", "--raw", "/apis/source.toolkit.fluxcd.io/v1/namespaces/"+ns+"/ocirepositories/app/artifact"); err != nil {
		t.Errorf("the last artifact is no longer served: %v", err)
	}
	encoded := base64.StdEncoding.EncodeToString([]byte("flux:" + wrong))
	status := kubectl(t, "get", "ocirepository", "app", "-n", ns, "-o", "jsonpath={.status}")
	events := kubectl(t, "get", "events", "-n", ns, "-o", "json")
	for where, text := range map[string]string{"status": status, "events": events} {
		if strings.Contains(text, wrong) || strings.Contains(text, password) || strings.Contains(text, encoded) {
			t.Errorf("the %s show a password", where)
		}
	}
	if b, _ := os.ReadFile(cp.GitOpsLog()); bytes.Contains(b, []byte(wrong)) || bytes.Contains(b, []byte(password)) {
		t.Error("the server log shows a password")
	}
}
