package e2e

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// imageDeployment is a Deployment whose image carries a setter marker for
// the ImagePolicy ns:app, with comments and spacing an update must keep.
func imageDeployment(ns, image string) string {
	return fmt.Sprintf(`# The web tier.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}

  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web   # the only container
        image: %s # {"$imagepolicy": "%s:app"}
`, image, ns)
}

func imageRepositoryFrom(ns, name, image, extra string) string {
	return fmt.Sprintf(`apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: %s
  namespace: %s
spec:
  image: %s
  interval: 10m
  insecure: true
%s`, name, ns, image, extra)
}

func imagePolicyFrom(ns, name, repo, policy string) string {
	return fmt.Sprintf(`apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: %s
  namespace: %s
spec:
  imageRepositoryRef:
    name: %s
%s`, name, ns, repo, policy)
}

func imageUpdateAutomationFrom(ns, name, extra string) string {
	return fmt.Sprintf(`apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  sourceRef:
    kind: GitRepository
    name: app
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        name: fluxcdbot
        email: fluxcdbot@example.com
      messageTemplate: |
        Automated image update by {{ .AutomationObject }}
        {{ range .Changed.Changes }}
        - {{ .OldValue }} -> {{ .NewValue }}
        {{- end }}
    push:
      branch: main
  update:
    path: ./app
    strategy: Setters
%s`, name, ns, extra)
}

// pushTag pushes a small image under tag.
func pushTag(t *testing.T, reg *ocitest.Registry, repo, tag string) {
	t.Helper()
	reg.Push(t, repo, tag, ocitest.Image(t, map[string]string{"version": tag}, nil, ""))
}

// TestImageAutomation_TagToDeployment is the loop users come for: a new tag
// in a private registry is picked by a semver policy, written into Git by
// the automation (comments and layout kept), and rolled out by the
// GitRepository and Kustomization, which the push triggers at once (both
// have a 10m interval). Registry credentials appear in no status, event or
// log.
func TestImageAutomation_TagToDeployment(t *testing.T) {
	const regPassword = "registry-secret-pw-4711"
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "robot", Password: regPassword})
	pushTag(t, reg, "team/app", "1.0.0")
	pushTag(t, reg, "team/app", "1.1.0") // outside ~1.0
	pushTag(t, reg, "team/app", "0.9.9")
	image := reg.Host + "/team/app"

	ns := namespace(t, "it-image")
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: "git-pw"})
	repo := srv.CreateRepo(t, "app")
	repo.AllowPush(t)
	first := repo.Commit(t, map[string]string{"app/deployment.yaml": imageDeployment(ns, image+":1.0.0")}, "initial")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=git-pw")
	kubectl(t, "create", "secret", "docker-registry", "regcred", "-n", ns,
		"--docker-server="+reg.Host, "--docker-username=robot", "--docker-password="+regPassword)
	apply(t, strings.Replace(gitRepositoryFrom(ns, "app", srv.URL("app"), "branch: main"), "interval: 1m", "interval: 10m", 1))
	apply(t, kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"))
	waitForObject(t, "kustomizations", ns, "app", 120*time.Second, "the first commit applied", appliedAt("main@sha1:"+first))

	apply(t, imageRepositoryFrom(ns, "app", image, "  secretRef:\n    name: regcred\n"))
	apply(t, imagePolicyFrom(ns, "app", "app", "  policy:\n    semver:\n      range: \"~1.0\"\n"))
	apply(t, imageUpdateAutomationFrom(ns, "app", ""))

	ir := waitForObject(t, "imagerepositories", ns, "app", 60*time.Second, "scanned", readyAt)
	if got := nested(ir, "status", "lastScanResult", "tagCount"); got != "3" {
		t.Errorf("tagCount = %s, want 3", got)
	}
	if got := nested(ir, "status", "canonicalImageName"); got != image {
		t.Errorf("canonicalImageName = %q, want %q", got, image)
	}
	if _, _, msg := condition(ir, "Ready"); msg != "successful scan: found 3 tags" {
		t.Errorf("ImageRepository Ready message %q", msg)
	}
	waitForObject(t, "imagepolicies", ns, "app", 60*time.Second, "1.0.0 picked", func(o map[string]interface{}) bool {
		return readyAt(o) && nested(o, "status", "latestRef", "tag") == "1.0.0"
	})
	iua := waitForObject(t, "imageupdateautomations", ns, "app", 90*time.Second, "a first run", readyAt)
	if _, _, msg := condition(iua, "Ready"); msg != "repository up-to-date" {
		t.Errorf("first run: Ready message %q, want up-to-date (the manifests already have 1.0.0)", msg)
	}
	if got := nested(iua, "status", "lastPushCommit"); got != "" {
		t.Errorf("first run pushed %s although nothing changed", got)
	}

	// A new tag: scanned on request (as a Receiver would ask), picked,
	// committed, pushed, fetched and applied.
	pushTag(t, reg, "team/app", "1.0.1")
	start := time.Now()
	postReconcile(t, "image.toolkit.fluxcd.io/v1", ns, "imagerepositories", "app", "", "{}")
	waitFor(t, 120*time.Second, "the Deployment runs 1.0.1", func() bool {
		out, err := cp.Kubectl(t.Context(), "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
		return err == nil && string(out) == image+":1.0.1"
	})
	t.Logf("time from tag push to Deployment updated: %v", time.Since(start).Round(10*time.Millisecond))

	pol := getObject(t, "imagepolicies", ns, "app")
	if got := nested(pol, "status", "observedPreviousRef", "tag"); got != "1.0.0" {
		t.Errorf("observedPreviousRef.tag = %q, want 1.0.0", got)
	}
	if got := nested(pol, "status", "latestRef", "name"); got != image {
		t.Errorf("latestRef.name = %q, want %q", got, image)
	}
	head := repo.ServerHead(t, "main")
	iua = waitForObject(t, "imageupdateautomations", ns, "app", 30*time.Second, "the push recorded", func(o map[string]interface{}) bool {
		return nested(o, "status", "lastPushCommit") == head
	})
	if nested(iua, "status", "lastPushTime") == "" {
		t.Error("lastPushTime is not set")
	}
	if got := nested(iua, "status", "observedPolicies", "app", "tag"); got != "1.0.1" {
		t.Errorf("observedPolicies.app.tag = %q", got)
	}
	repo.Pull(t)
	data, err := os.ReadFile(repo.WorkDir + "/app/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := imageDeployment(ns, image+":1.0.1"); string(data) != want {
		t.Errorf("the pushed manifest is not the old one with the tag changed:\n%s\nwant:\n%s", data, want)
	}
	msg := repo.Git(t, "log", "-1", "--format=%an <%ae>%n%B")
	if !strings.Contains(msg, "fluxcdbot <fluxcdbot@example.com>") ||
		!strings.Contains(msg, "Automated image update by "+ns+"/app") ||
		!strings.Contains(msg, "- "+image+":1.0.0 -> "+image+":1.0.1") {
		t.Errorf("commit:\n%s", msg)
	}
	gr := getObject(t, "gitrepositories", ns, "app")
	if nested(gr, "status", "lastHandledReconcileAt") == "" {
		t.Error("the GitRepository was not asked to reconcile after the push")
	}

	// No credential anywhere users or logs can see.
	for _, res := range []string{"imagerepositories", "imagepolicies", "imageupdateautomations", "events"} {
		if out := kubectl(t, "get", res, "-n", ns, "-o", "yaml"); strings.Contains(out, regPassword) {
			t.Errorf("%s show the registry password", res)
		}
	}
	if b, _ := os.ReadFile(cp.GitOpsLog()); bytes.Contains(b, []byte(regPassword)) {
		t.Error("the server log shows the registry password")
	}

	// A wrong password: Ready=False AuthenticationFailed, the last scan and
	// tags kept, the password in no message.
	const wrong = "wrong-registry-pw-0815"
	out := kubectl(t, "create", "secret", "docker-registry", "regcred", "-n", ns, "--docker-server="+reg.Host,
		"--docker-username=robot", "--docker-password="+wrong, "--dry-run=client", "-o", "yaml")
	apply(t, out)
	postReconcile(t, "image.toolkit.fluxcd.io/v1", ns, "imagerepositories", "app", "", "{}")
	ir = waitForObject(t, "imagerepositories", ns, "app", 60*time.Second, "authentication failure", func(o map[string]interface{}) bool {
		s, reason, _ := condition(o, "Ready")
		return s == "False" && reason == "AuthenticationFailed"
	})
	if got := nested(ir, "status", "lastScanResult", "tagCount"); got != "4" {
		t.Errorf("the last scan was lost: tagCount = %s", got)
	}
	if _, _, m := condition(ir, "Ready"); strings.Contains(m, wrong) {
		t.Errorf("the message shows the password: %s", m)
	}
	if b, _ := os.ReadFile(cp.GitOpsLog()); bytes.Contains(b, []byte(wrong)) {
		t.Error("the server log shows the wrong password")
	}
	if got := nested(getObject(t, "imagepolicies", ns, "app"), "status", "latestRef", "tag"); got != "1.0.1" {
		t.Errorf("the policy lost its pick: %q", got)
	}
}

// TestImagePolicy_FilterTagsExtract picks the newest build of
// main-<sha>-<timestamp> tags by the extracted timestamp, ignoring tags the
// pattern does not match, and follows a newer build.
func TestImagePolicy_FilterTagsExtract(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	for _, tag := range []string{"main-0a1b2c3-1700000100", "main-ffee001-1700000900", "main-9d8e7f6-1700000500", "feature-aaaaaaa-1800000000", "2.0.0"} {
		pushTag(t, reg, "app", tag)
	}
	ns := namespace(t, "it-imgfilter")
	apply(t, imageRepositoryFrom(ns, "app", reg.Host+"/app", ""))
	apply(t, imagePolicyFrom(ns, "builds", "app", `  filterTags:
    pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$'
    extract: '$ts'
  policy:
    numerical:
      order: asc
`))
	waitForObject(t, "imagepolicies", ns, "builds", 60*time.Second, "the newest main build", func(o map[string]interface{}) bool {
		return readyAt(o) && nested(o, "status", "latestRef", "tag") == "main-ffee001-1700000900"
	})

	// A newer build is picked as soon as the repository is scanned.
	pushTag(t, reg, "app", "main-1234abc-1700001000")
	postReconcile(t, "image.toolkit.fluxcd.io/v1", ns, "imagerepositories", "app", "", "{}")
	pol := waitForObject(t, "imagepolicies", ns, "builds", 60*time.Second, "the newer build", func(o map[string]interface{}) bool {
		return readyAt(o) && nested(o, "status", "latestRef", "tag") == "main-1234abc-1700001000"
	})
	if got := nested(pol, "status", "observedPreviousRef", "tag"); got != "main-ffee001-1700000900" {
		t.Errorf("observedPreviousRef.tag = %q", got)
	}
	ev := events(t, ns)
	if !strings.Contains(ev, "updated from main-ffee001-1700000900 to main-1234abc-1700001000") {
		t.Errorf("no event for the changed pick:\n%s", ev)
	}
}

// TestImageUpdateAutomation_RejectedPush: a server that refuses the push
// leaves the automation Ready=False with the reason, the branch untouched
// and nothing lost: once the server accepts pushes, the same update lands.
func TestImageUpdateAutomation_RejectedPush(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	pushTag(t, reg, "app", "1.0.0")
	pushTag(t, reg, "app", "1.0.1")
	image := reg.Host + "/app"

	ns := namespace(t, "it-imgreject")
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: "pw"})
	repo := srv.CreateRepo(t, "app")
	repo.AllowPush(t)
	first := repo.Commit(t, map[string]string{"app/deployment.yaml": imageDeployment(ns, image+":1.0.0")}, "initial")
	if err := os.WriteFile(repo.BareDir+"/hooks/pre-receive", []byte("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=pw")
	apply(t, gitRepositoryFrom(ns, "app", srv.URL("app"), "branch: main"))
	apply(t, imageRepositoryFrom(ns, "app", image, ""))
	apply(t, imagePolicyFrom(ns, "app", "app", "  policy:\n    semver:\n      range: \"1.0.x\"\n"))
	apply(t, imageUpdateAutomationFrom(ns, "app", ""))

	iua := waitForObject(t, "imageupdateautomations", ns, "app", 90*time.Second, "a rejected push", func(o map[string]interface{}) bool {
		s, reason, _ := condition(o, "Ready")
		return s == "False" && reason == "GitOperationFailed"
	})
	if _, _, msg := condition(iua, "Ready"); !strings.Contains(msg, "rejected") {
		t.Errorf("Ready message does not say the push was rejected: %q", msg)
	}
	if got := repo.ServerHead(t, "main"); got != first {
		t.Fatalf("the branch moved to %s although the push was refused", got)
	}
	if got := nested(iua, "status", "lastPushCommit"); got != "" {
		t.Errorf("lastPushCommit = %q after a refused push", got)
	}

	repo.AllowPush(t) // the hook accepts again
	postReconcile(t, "image.toolkit.fluxcd.io/v1", ns, "imageupdateautomations", "app", "", "{}")
	waitFor(t, 90*time.Second, "the update pushed", func() bool { return repo.ServerHead(t, "main") != first })
	repo.Pull(t)
	data, err := os.ReadFile(repo.WorkDir + "/app/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), image+":1.0.1 # {\"$imagepolicy\"") {
		t.Errorf("pushed manifest:\n%s", data)
	}
	waitForObject(t, "imageupdateautomations", ns, "app", 60*time.Second, "Ready after the push", readyAt)
}
