package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

func gitRepositoryFrom(ns, name, url string, ref string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: %s
  namespace: %s
spec:
  interval: 1m
  url: %s
  ref:
    %s
  secretRef:
    name: git-auth
`, name, ns, url, ref)
}

// kubectlStdout runs kubectl as admin (or with extra flags such as --as)
// and returns stdout only: artifact bytes must not mix with stderr.
func kubectlStdout(t *testing.T, stdin string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cp.KubectlPath(), append([]string{"--kubeconfig=" + cp.Kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %v: %w: %s", args, err, stderr.String())
	}
	return out, nil
}

// requestReconcile POSTs to a source's /reconcile subresource and returns
// the requestedAt it recorded.
func requestReconcile(t *testing.T, ns, resource, name, query string) string {
	t.Helper()
	return postReconcile(t, "source.toolkit.fluxcd.io/v1", ns, resource, name, query, "{}")
}

// postReconcile POSTs body to the /reconcile subresource of an object of
// groupVersion and returns the requestedAt it recorded.
func postReconcile(t *testing.T, groupVersion, ns, resource, name, query, body string) string {
	t.Helper()
	path := fmt.Sprintf("/apis/%s/namespaces/%s/%s/%s/reconcile%s", groupVersion, ns, resource, name, query)
	out, err := kubectlStdout(t, body, "create", "--raw", path, "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	var rr struct {
		Kind        string `json:"kind"`
		RequestedAt string `json:"requestedAt"`
	}
	if err := json.Unmarshal(out, &rr); err != nil || rr.Kind != "ReconcileRequest" || rr.RequestedAt == "" {
		t.Fatalf("reconcile answer %q (%v)", out, err)
	}
	return rr.RequestedAt
}

func revisionIs(rev string) func(map[string]interface{}) bool {
	return func(obj map[string]interface{}) bool {
		return readyAt(obj) && nested(obj, "status", "artifact", "revision") == rev
	}
}

// TestGitRepository_FetchStoreServeAndRecover follows one GitRepository
// against a real git server (smart HTTP, basic auth): it becomes Ready with
// an artifact whose bytes /artifact serves; a new commit is fetched at once
// through /reconcile; a wrong password and an outage make it Ready=False
// while the last artifact is kept; and it recovers on its own.
func TestGitRepository_FetchStoreServeAndRecover(t *testing.T) {
	const password = "correct-horse-battery"
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: password})
	repo := srv.CreateRepo(t, "app")
	first := repo.Commit(t, map[string]string{
		"deploy/app.yaml": "kind: ConfigMap\n",
		"README.md":       "hello\n",
	}, "first commit")
	ns := namespace(t, "it-git")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password="+password)
	apply(t, gitRepositoryFrom(ns, "app", srv.URL("app"), "branch: main"))

	obj := waitForObject(t, "gitrepositories", ns, "app", 90*time.Second, "Ready at the first commit", revisionIs("main@sha1:"+first))
	digest := nested(obj, "status", "artifact", "digest")
	if _, reason, msg := condition(obj, "Ready"); reason != "Succeeded" || !strings.Contains(msg, "stored artifact for revision 'main@sha1:"+first+"'") {
		t.Errorf("Ready reason %q message %q", reason, msg)
	}
	if s, _, _ := condition(obj, "ArtifactInStorage"); s != "True" {
		t.Errorf("ArtifactInStorage = %q", s)
	}

	artifactPath := "/apis/source.toolkit.fluxcd.io/v1/namespaces/" + ns + "/gitrepositories/app/artifact"
	t.Run("artifact bytes match the digest", func(t *testing.T) {
		data, err := kubectlStdout(t, "", "get", "--raw", artifactPath)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if "sha256:"+hex.EncodeToString(sum[:]) != digest {
			t.Fatalf("sha256 of /artifact = %x, status.artifact.digest = %s", sum, digest)
		}
		dir := t.TempDir()
		if err := artifact.Extract(bytes.NewReader(data), dir, artifact.ExtractOptions{}); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "deploy", "app.yaml")); err != nil || string(b) != "kind: ConfigMap\n" {
			t.Errorf("deploy/app.yaml = %q (%v)", b, err)
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			t.Error("the artifact contains .git")
		}
	})

	t.Run("events name the new artifact", func(t *testing.T) {
		// Events are sent asynchronously; wait for it (bounded).
		waitFor(t, 30*time.Second, "a NewArtifact event", func() bool {
			out := kubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=app,involvedObject.kind=GitRepository", "-o", "jsonpath={.items[*].reason}")
			return strings.Contains(out, "NewArtifact")
		})
	})

	t.Run("access to the artifact is its own RBAC noun", func(t *testing.T) {
		kubectl(t, "create", "rolebinding", "git-viewer", "-n", ns, "--clusterrole=flux-view", "--user=git-viewer")
		if _, err := kubectlStdout(t, "", "--as=git-viewer", "get", "gitrepository", "app", "-n", ns); err != nil {
			t.Fatalf("viewer cannot get the object: %v", err)
		}
		_, err := kubectlStdout(t, "", "--as=git-viewer", "get", "--raw", artifactPath)
		if err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Errorf("viewer without gitrepositories/artifact read it: %v", err)
		}
		_, err = kubectlStdout(t, "{}", "--as=git-viewer", "create", "--raw", strings.Replace(artifactPath, "/artifact", "/reconcile", 1), "-f", "-")
		if err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Errorf("viewer without gitrepositories/reconcile requested a run: %v", err)
		}
		kubectl(t, "create", "rolebinding", "git-editor", "-n", ns, "--clusterrole=flux-edit-subresources", "--user=git-editor")
		if _, err := kubectlStdout(t, "", "--as=git-editor", "get", "--raw", artifactPath); err != nil {
			t.Errorf("an editor (flux-edit-subresources) cannot download the artifact: %v", err)
		}
	})

	second := repo.Commit(t, map[string]string{"deploy/app.yaml": "kind: ConfigMap\nmetadata: {name: v2}\n"}, "second commit")
	t.Run("reconcile fetches a new commit at once", func(t *testing.T) {
		before := nested(getObject(t, "gitrepositories", ns, "app"), "metadata", "resourceVersion")
		path := "/apis/source.toolkit.fluxcd.io/v1/namespaces/" + ns + "/gitrepositories/app/reconcile?dryRun=All"
		if out, err := kubectlStdout(t, "{}", "create", "--raw", path, "-f", "-"); err == nil || !strings.Contains(err.Error(), "dryRun") {
			t.Errorf("a dry-run reconcile request was accepted: %s %v", out, err)
		}
		if after := nested(getObject(t, "gitrepositories", ns, "app"), "metadata", "resourceVersion"); after != before {
			t.Error("a dry-run reconcile request changed the object")
		}
		at := requestReconcile(t, ns, "gitrepositories", "app", "")
		obj := waitForObject(t, "gitrepositories", ns, "app", 30*time.Second, "the second commit (interval is 1m)", revisionIs("main@sha1:"+second))
		if got := nested(obj, "status", "lastHandledReconcileAt"); got != at {
			t.Errorf("lastHandledReconcileAt = %q, want %q", got, at)
		}
	})

	third := repo.Commit(t, map[string]string{"deploy/extra.yaml": "kind: Secret\n"}, "third commit")
	t.Run("wrong credentials keep the last artifact", func(t *testing.T) {
		const wrong = "not-the-password-42"
		out := kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password="+wrong, "--dry-run=client", "-o", "yaml")
		apply(t, out)
		requestReconcile(t, ns, "gitrepositories", "app", "")
		obj := waitForObject(t, "gitrepositories", ns, "app", 30*time.Second, "Ready=False", func(o map[string]interface{}) bool {
			s, _, _ := condition(o, "Ready")
			return s == "False"
		})
		_, reason, msg := condition(obj, "Ready")
		if reason != "AuthenticationFailed" {
			t.Errorf("reason = %q (%s)", reason, msg)
		}
		if strings.Contains(msg, wrong) {
			t.Errorf("the message shows the password: %s", msg)
		}
		if got := nested(obj, "status", "artifact", "revision"); got != "main@sha1:"+second {
			t.Errorf("artifact revision = %q, want the last good one", got)
		}
		if _, err := kubectlStdout(t, "", "get", "--raw", artifactPath); err != nil {
			t.Errorf("the last artifact is no longer served: %v", err)
		}
		events := kubectl(t, "get", "events", "-n", ns, "-o", "json")
		if strings.Contains(events, wrong) {
			t.Error("an event shows the password")
		}
		if b, _ := os.ReadFile(cp.GitOpsLog()); bytes.Contains(b, []byte(wrong)) || bytes.Contains(b, []byte(password)) {
			t.Error("the server log shows a password")
		}
	})

	t.Run("an outage is recovered from without help", func(t *testing.T) {
		srv.Stop()
		out := kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password="+password, "--dry-run=client", "-o", "yaml")
		apply(t, out)
		requestReconcile(t, ns, "gitrepositories", "app", "")
		waitForObject(t, "gitrepositories", ns, "app", 30*time.Second, "Ready=False while the server is down", func(o map[string]interface{}) bool {
			s, reason, _ := condition(o, "Ready")
			return s == "False" && reason == "GitOperationFailed"
		})
		srv.Start()
		// No request: the backoff (capped at the 1m interval) retries.
		waitForObject(t, "gitrepositories", ns, "app", 90*time.Second, "the third commit after the outage", revisionIs("main@sha1:"+third))
	})
}

// TestGitRepository_SemverPicksTheHighestMatchingTag selects a tag by range.
func TestGitRepository_SemverPicksTheHighestMatchingTag(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: "pw"})
	repo := srv.CreateRepo(t, "tags")
	repo.Commit(t, map[string]string{"v": "1.0.0"}, "one")
	repo.Tag(t, "v1.0.0")
	want := repo.Commit(t, map[string]string{"v": "1.2.0"}, "one-two")
	repo.Tag(t, "v1.2.0")
	repo.Commit(t, map[string]string{"v": "2.0.0"}, "two")
	repo.Tag(t, "v2.0.0")
	ns := namespace(t, "it-git-semver")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=pw")
	apply(t, gitRepositoryFrom(ns, "tags", srv.URL("tags"), `semver: ">=1.0.0 <2.0.0"`))
	waitForObject(t, "gitrepositories", ns, "tags", 90*time.Second, "Ready at v1.2.0", revisionIs("v1.2.0@sha1:"+want))
}

// TestGitRepository_SSHWithKeyAndKnownHosts fetches over ssh:// with a key
// and a known_hosts entry from the Secret; a wrong host key is refused.
func TestGitRepository_SSHWithKeyAndKnownHosts(t *testing.T) {
	key := gitserver.NewKeyPair(t, "")
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	repo := srv.CreateRepo(t, "ssh-app")
	hash := repo.Commit(t, map[string]string{"deploy/cm.yaml": "kind: ConfigMap\n"}, "over ssh")
	ns := namespace(t, "it-git-ssh")
	secret := func(knownHosts []byte) {
		out := kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--dry-run=client", "-o", "yaml",
			"--from-literal=identity="+string(key.Private), "--from-literal=known_hosts="+string(knownHosts))
		apply(t, out)
	}
	secret(srv.KnownHosts())
	apply(t, gitRepositoryFrom(ns, "app", srv.URL("ssh-app"), "branch: main"))
	waitForObject(t, "gitrepositories", ns, "app", 90*time.Second, "Ready over ssh", revisionIs("main@sha1:"+hash))

	other := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	secret(other.KnownHosts()) // a different server's host key
	repo.Commit(t, map[string]string{"deploy/cm.yaml": "kind: ConfigMap\ndata: {}\n"}, "second")
	requestReconcile(t, ns, "gitrepositories", "app", "")
	obj := waitForObject(t, "gitrepositories", ns, "app", 30*time.Second, "Ready=False on a host key mismatch", func(o map[string]interface{}) bool {
		s, _, _ := condition(o, "Ready")
		return s == "False"
	})
	if _, reason, msg := condition(obj, "Ready"); reason != "AuthenticationFailed" || strings.Contains(msg, "PRIVATE KEY") {
		t.Errorf("reason %q message %q", reason, msg)
	}
	if got := nested(obj, "status", "artifact", "revision"); got != "main@sha1:"+hash {
		t.Errorf("artifact revision = %q, want the last good one", got)
	}
}

// artifactFiles downloads an object's artifact and returns its files.
func artifactFiles(t *testing.T, ns, resource, name string) map[string]string {
	t.Helper()
	data, err := kubectlStdout(t, "", "get", "--raw", "/apis/source.toolkit.fluxcd.io/v1/namespaces/"+ns+"/"+resource+"/"+name+"/artifact")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := artifact.Extract(bytes.NewReader(data), dir, artifact.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			b, _ := os.ReadFile(p)
			files[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	return files
}

// TestGitRepository_IncludeIgnoreAndSparseCheckout builds an artifact from a
// sparse checkout, minus spec.ignore, plus another GitRepository's
// artifact, and rebuilds it when the included one changes.
func TestGitRepository_IncludeIgnoreAndSparseCheckout(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: "pw"})
	shared := srv.CreateRepo(t, "shared")
	shared.Commit(t, map[string]string{"policies/production/p.yaml": "v: 1\n", "policies/staging/s.yaml": "s: 1\n"}, "policies")
	app := srv.CreateRepo(t, "app")
	appHash := app.Commit(t, map[string]string{
		"deploy/app.yaml": "kind: Deployment\n", "docs/guide.md": "# guide\n", "docs/notes.yaml": "n: 1\n", "other/x.yaml": "x: 1\n",
	}, "app")
	ns := namespace(t, "it-git-include")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=pw")
	apply(t, gitRepositoryFrom(ns, "shared", srv.URL("shared"), "branch: main"))
	apply(t, gitRepositoryFrom(ns, "app", srv.URL("app"), "branch: main")+`  ignore: |
    *.md
  sparseCheckout:
  - deploy
  - docs
  include:
  - repository:
      name: shared
    fromPath: policies/production
    toPath: policies
`)
	obj := waitForObject(t, "gitrepositories", ns, "app", 90*time.Second, "Ready with the include", revisionIs("main@sha1:"+appHash))
	files := artifactFiles(t, ns, "gitrepositories", "app")
	want := map[string]string{"deploy/app.yaml": "kind: Deployment\n", "docs/notes.yaml": "n: 1\n", "policies/p.yaml": "v: 1\n"}
	if len(files) != len(want) {
		t.Errorf("artifact files = %v, want %v", files, want)
	}
	for f, c := range want {
		if files[f] != c {
			t.Errorf("%s = %q, want %q (all: %v)", f, files[f], c, files)
		}
	}
	if nested(obj, "status", "includedArtifacts") == "" {
		t.Error("status.includedArtifacts is empty")
	}

	sharedHash := shared.Commit(t, map[string]string{"policies/production/p.yaml": "v: 2\n"}, "policy v2")
	requestReconcile(t, ns, "gitrepositories", "shared", "")
	waitForObject(t, "gitrepositories", ns, "shared", 30*time.Second, "shared at v2", revisionIs("main@sha1:"+sharedHash))
	before := nested(obj, "status", "artifact", "digest")
	requestReconcile(t, ns, "gitrepositories", "app", "")
	waitForObject(t, "gitrepositories", ns, "app", 30*time.Second, "app rebuilt with the new include", func(o map[string]interface{}) bool {
		return readyAt(o) && nested(o, "status", "artifact", "digest") != before
	})
	if got := artifactFiles(t, ns, "gitrepositories", "app")["policies/p.yaml"]; got != "v: 2\n" {
		t.Errorf("included policy after the update = %q", got)
	}
}
