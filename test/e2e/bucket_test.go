package e2e

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/test/s3server"
)

func bucketFrom(apiVersion, ns, name, endpoint string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/%s
kind: Bucket
metadata:
  name: %s
  namespace: %s
spec:
  provider: generic
  interval: 1m
  bucketName: flux-bucket
  endpoint: %s
  insecure: true
  prefix: deploy/
  secretRef:
    name: bucket-auth
`, apiVersion, name, ns, endpoint)
}

// bucketRevision is Flux's Bucket revision of objects (key → content): the
// sha256 of sorted "<key> <etag>" lines, the etag being the content's MD5.
func bucketRevision(objects map[string]string) string {
	keys := make([]string, 0, len(objects))
	for k := range objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		sum := md5.Sum([]byte(objects[k]))
		fmt.Fprintf(&b, "%s %s\n", k, hex.EncodeToString(sum[:]))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestBucket_FetchStoreServeAndKeepOnFailure follows one Bucket against a
// real S3-protocol server (SigV4 credentials, plain HTTP on loopback): it
// becomes Ready with Flux's revision of the listing under spec.prefix, after
// the bucket's .sourceignore; /artifact serves exactly those files; a changed
// object is fetched at once through /reconcile; a wrong secret key makes it
// Ready=False while the last artifact is kept and the key shows nowhere.
func TestBucket_FetchStoreServeAndKeepOnFailure(t *testing.T) {
	const accessKey, secretKey = "flux-reader", "bucket-Secret-Key-4242"
	srv := s3server.NewServer(t, accessKey, secretKey)
	srv.CreateBucket("flux-bucket")
	srv.PutObjects("flux-bucket", map[string]string{
		".sourceignore":      "*.txt\n",
		"deploy/app.yaml":    "kind: ConfigMap\n",
		"deploy/notes.txt":   "left out by .sourceignore\n",
		"deploy/sub/cm.yaml": "kind: ConfigMap\nmetadata: {name: sub}\n",
		"other/app.yaml":     "outside the prefix\n",
	})
	want := map[string]string{
		"deploy/app.yaml":    "kind: ConfigMap\n",
		"deploy/sub/cm.yaml": "kind: ConfigMap\nmetadata: {name: sub}\n",
	}
	ns := namespace(t, "it-bucket")
	kubectl(t, "create", "secret", "generic", "bucket-auth", "-n", ns, "--from-literal=accesskey="+accessKey, "--from-literal=secretkey="+secretKey)
	apply(t, bucketFrom("v1", ns, "app", srv.Endpoint()))

	first := bucketRevision(want)
	obj := waitForObject(t, "buckets", ns, "app", 90*time.Second, "Ready at the first revision", revisionIs(first))
	if _, reason, msg := condition(obj, "Ready"); reason != "Succeeded" || !strings.Contains(msg, "stored artifact for revision '"+first+"'") {
		t.Errorf("Ready reason %q message %q", reason, msg)
	}
	if s, _, _ := condition(obj, "ArtifactInStorage"); s != "True" {
		t.Errorf("ArtifactInStorage = %q", s)
	}
	artifactPath := "/apis/source.toolkit.fluxcd.io/v1/namespaces/" + ns + "/buckets/app/artifact"
	if got := nested(obj, "status", "artifact", "url"); got != artifactPath {
		t.Errorf("status.artifact.url = %q, want %q", got, artifactPath)
	}

	t.Run("artifact holds exactly the selected objects", func(t *testing.T) {
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
		got := map[string]string{}
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			got[filepath.ToSlash(rel)] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("artifact files %v, want %v", got, want)
		}
	})

	t.Run("events name the new artifact", func(t *testing.T) {
		waitFor(t, 30*time.Second, "a NewArtifact event", func() bool {
			out := kubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=app,involvedObject.kind=Bucket", "-o", "jsonpath={.items[*].reason}")
			return strings.Contains(out, "NewArtifact")
		})
	})

	srv.PutObject("flux-bucket", "deploy/app.yaml", "kind: ConfigMap\nmetadata: {name: v2}\n")
	want["deploy/app.yaml"] = "kind: ConfigMap\nmetadata: {name: v2}\n"
	second := bucketRevision(want)
	t.Run("reconcile fetches a changed object at once", func(t *testing.T) {
		at := requestReconcile(t, ns, "buckets", "app", "")
		obj := waitForObject(t, "buckets", ns, "app", 30*time.Second, "the second revision (interval is 1m)", revisionIs(second))
		if got := nested(obj, "status", "lastHandledReconcileAt"); got != at {
			t.Errorf("lastHandledReconcileAt = %q, want %q", got, at)
		}
	})

	t.Run("a wrong secret key keeps the last artifact", func(t *testing.T) {
		const wrong = "not-the-Secret-Key-77"
		out := kubectl(t, "create", "secret", "generic", "bucket-auth", "-n", ns, "--from-literal=accesskey="+accessKey, "--from-literal=secretkey="+wrong, "--dry-run=client", "-o", "yaml")
		apply(t, out)
		requestReconcile(t, ns, "buckets", "app", "")
		obj := waitForObject(t, "buckets", ns, "app", 30*time.Second, "Ready=False", func(o map[string]interface{}) bool {
			s, _, _ := condition(o, "Ready")
			return s == "False"
		})
		_, reason, msg := condition(obj, "Ready")
		if reason != "AuthenticationFailed" {
			t.Errorf("reason = %q (%s)", reason, msg)
		}
		if s, _, _ := condition(obj, "FetchFailed"); s != "True" {
			t.Errorf("FetchFailed = %q", s)
		}
		if got := nested(obj, "status", "artifact", "revision"); got != second {
			t.Errorf("artifact revision = %q, want the last good one", got)
		}
		if _, err := kubectlStdout(t, "", "get", "--raw", artifactPath); err != nil {
			t.Errorf("the last artifact is no longer served: %v", err)
		}
		status := kubectl(t, "get", "bucket", "app", "-n", ns, "-o", "json")
		events := kubectl(t, "get", "events", "-n", ns, "-o", "json")
		for _, secret := range []string{wrong, secretKey} {
			if strings.Contains(status, secret) || strings.Contains(events, secret) {
				t.Error("the status or an event shows a secret key")
			}
		}
		if b, _ := os.ReadFile(cp.GitOpsLog()); bytes.Contains(b, []byte(wrong)) || bytes.Contains(b, []byte(secretKey)) {
			t.Error("the server log shows a secret key")
		}
	})

	t.Run("v1beta2 is served and reconciled too", func(t *testing.T) {
		out := kubectl(t, "create", "secret", "generic", "bucket-auth", "-n", ns, "--from-literal=accesskey="+accessKey, "--from-literal=secretkey="+secretKey, "--dry-run=client", "-o", "yaml")
		apply(t, out)
		apply(t, bucketFrom("v1beta2", ns, "app-beta", srv.Endpoint()))
		waitForObject(t, "buckets.v1beta2.source.toolkit.fluxcd.io", ns, "app-beta", 60*time.Second, "Ready", revisionIs(second))
	})
}

// TestBucket_UnsupportedProviderStalls reports gcp as not supported yet.
func TestBucket_UnsupportedProviderStalls(t *testing.T) {
	ns := namespace(t, "it-bucket-gcp")
	apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: Bucket
metadata:
  name: gcs
  namespace: %s
spec:
  provider: gcp
  interval: 1m
  bucketName: flux-bucket
  endpoint: storage.googleapis.com
`, ns))
	obj := waitForObject(t, "buckets", ns, "gcs", 60*time.Second, "Stalled", func(o map[string]interface{}) bool {
		s, _, _ := condition(o, "Stalled")
		return s == "True"
	})
	if s, _, msg := condition(obj, "Ready"); s != "False" || !strings.Contains(msg, "provider 'gcp' is not supported yet") {
		t.Errorf("Ready %s: %s", s, msg)
	}
}
