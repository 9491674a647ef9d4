package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

// artifactServer stands in for a third-party controller's artifact server:
// it serves tar.gz files at the paths it was given.
type artifactServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
}

func newArtifactServer(t *testing.T) *artifactServer {
	t.Helper()
	s := &artifactServer{files: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		data, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

// publishBytes serves data at p and returns its URL and sha256 digest.
func (s *artifactServer) publishBytes(p string, data []byte) (url, digest string) {
	s.mu.Lock()
	s.files[p] = data
	s.mu.Unlock()
	sum := sha256.Sum256(data)
	return s.URL + p, "sha256:" + hex.EncodeToString(sum[:])
}

// publish archives files as a tar.gz served at p and returns its URL and
// sha256 digest.
func (s *artifactServer) publish(t *testing.T, p string, files map[string]string) (url, digest string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := artifact.Archive(context.Background(), dir, &buf, artifact.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	return s.publishBytes(p, buf.Bytes())
}

// writeExternalArtifactStatus writes status.artifact and Ready=True through
// the status subresource, as the producing controller does.
func writeExternalArtifactStatus(t *testing.T, ns, name, url, revision, digest string) {
	t.Helper()
	now := time.Now().UTC().Format(time.RFC3339)
	status := map[string]any{"status": map[string]any{
		"artifact": map[string]any{
			"path": "externalartifact/" + ns + "/" + name + "/" + strings.TrimPrefix(digest, "sha256:")[:8] + ".tar.gz",
			"url":  url, "revision": revision, "digest": digest, "lastUpdateTime": now,
		},
		"conditions": []map[string]any{{
			"type": "Ready", "status": "True", "reason": "Succeeded", "lastTransitionTime": now,
			"message": "stored artifact for revision " + revision,
		}},
	}}
	patch, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, "patch", "externalartifacts", name, "-n", ns, "--subresource=status", "--type=merge", "-p", string(patch))
}

// TestExternalArtifact_KustomizationAppliesItAndKeepsStateOnABadDigest:
// a third-party controller publishes an ExternalArtifact (its status
// written through /status, the tarball on its own HTTP server); a
// Kustomization applies the ConfigMap in it, /diff works from it, and a
// new revision whose digest does not match the download is Ready=False
// ArtifactFailed, naming the mismatch, with the applied objects kept.
func TestExternalArtifact_KustomizationAppliesItAndKeepsStateOnABadDigest(t *testing.T) {
	ns := namespace(t, "ea-source")
	srv := newArtifactServer(t)
	cm := func(greeting string) map[string]string {
		return map[string]string{"cm.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ea-config\ndata:\n  greeting: %q\n", greeting)}
	}
	url, digest := srv.publish(t, "/artifacts/"+ns+"/config/v1.tar.gz", cm("hello"))
	apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: ExternalArtifact
metadata:
  name: config
  namespace: %s
spec:
  sourceRef:
    apiVersion: example.com/v1
    kind: Generator
    name: config
`, ns))
	apply(t, fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: from-external
  namespace: %s
spec:
  interval: 10m
  path: ./
  prune: true
  targetNamespace: %s
  sourceRef:
    kind: ExternalArtifact
    name: config
`, ns, ns))

	// Without an artifact, the Kustomization waits.
	waitForObject(t, "kustomizations", ns, "from-external", 60*time.Second, "waiting for the artifact", func(obj map[string]any) bool {
		_, reason, msg := condition(obj, "Ready")
		return reason == "ArtifactFailed" && strings.Contains(msg, "ExternalArtifact/"+ns+"/config")
	})

	revision := "v1@" + digest
	writeExternalArtifactStatus(t, ns, "config", url, revision, digest)
	waitForObject(t, "kustomizations", ns, "from-external", 90*time.Second, "the external artifact applied", appliedAt(revision))
	if got := jsonpath(t, "configmap", ns, "ea-config", "{.data.greeting}"); got != "hello" {
		t.Fatalf("greeting = %q, want hello", got)
	}
	if actions := diffActions(t, ns, "from-external"); actions["ConfigMap/ea-config"] != "unchanged" {
		t.Errorf("/diff from the external artifact: %v, want ConfigMap/ea-config unchanged", actions)
	}

	// A new revision whose published file does not match its digest.
	badURL, _ := srv.publish(t, "/artifacts/"+ns+"/config/v2.tar.gz", cm("tampered"))
	wrong := "sha256:" + strings.Repeat("0", 64)
	writeExternalArtifactStatus(t, ns, "config", badURL, "v2@"+wrong, wrong)
	obj := waitForObject(t, "kustomizations", ns, "from-external", 90*time.Second, "the digest mismatch reported", func(obj map[string]any) bool {
		status, reason, _ := condition(obj, "Ready")
		return status == "False" && reason == "ArtifactFailed"
	})
	if _, _, msg := condition(obj, "Ready"); !strings.Contains(msg, "failed to fetch the artifact of ExternalArtifact/"+ns+"/config") ||
		!strings.Contains(msg, "does not match its digest: expected "+wrong) {
		t.Errorf("Ready message %q, want the digest mismatch named", msg)
	}
	if got := nested(obj, "status", "lastAppliedRevision"); got != revision {
		t.Errorf("lastAppliedRevision = %q, want the last good %q", got, revision)
	}
	if got := jsonpath(t, "configmap", ns, "ea-config", "{.data.greeting}"); got != "hello" {
		t.Errorf("greeting = %q: the previous objects must stay as applied", got)
	}
	if ids := inventoryIDs(obj); !strings.Contains(ids, ns+"_ea-config__ConfigMap") {
		t.Errorf("inventory %s lost the applied ConfigMap", ids)
	}
}

// TestExternalArtifact_HelmReleaseInstallsItsChart: a chart published
// through an ExternalArtifact is what a HelmRelease's chartRef installs.
func TestExternalArtifact_HelmReleaseInstallsItsChart(t *testing.T) {
	ns := namespace(t, "ea-chart")
	srv := newArtifactServer(t)
	url, digest := srv.publishBytes("/charts/web-1.0.0.tgz", webChart(t, "1.0.0"))
	apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: ExternalArtifact
metadata:
  name: web-chart
  namespace: %s
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: %s
spec:
  interval: 10m
  chartRef: {kind: ExternalArtifact, name: web-chart}
  values: {greeting: from-external}
`, ns, ns))
	writeExternalArtifactStatus(t, ns, "web-chart", url, "1.0.0@"+digest, digest)
	waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "installed", releasedAt(1))
	if got := jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}"); got != "from-external" {
		t.Errorf("greeting = %q", got)
	}
}
