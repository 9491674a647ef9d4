package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRBAC_ViewerReadsButCannotWrite binds flux-view (from
// artifacts/deploy/rbac.yaml) to a user and acts as that user through
// kube-apiserver's impersonation; gitops-apiserver authorizes each request
// with a SubjectAccessReview.
func TestRBAC_ViewerReadsButCannotWrite(t *testing.T) {
	ns := namespace(t, "it-rbac")
	apply(t, gitRepository(ns, "podinfo", "1m"))
	kubectl(t, "create", "rolebinding", "viewer", "-n", ns, "--clusterrole=flux-view", "--user=viewer")
	kubectl(t, "create", "rolebinding", "editor-view", "-n", ns, "--clusterrole=flux-view", "--user=editor")
	kubectl(t, "create", "rolebinding", "editor-edit", "-n", ns, "--clusterrole=flux-edit", "--user=editor")

	if out, err := kubectlErr(t, "--as=viewer", "get", "gitrepo", "podinfo", "-n", ns); err != nil {
		t.Fatalf("viewer cannot get: %v\n%s", err, out)
	}
	out, err := kubectlErr(t, "--as=viewer", "patch", "gitrepo", "podinfo", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	if err == nil || !strings.Contains(out, "forbidden") {
		t.Errorf("viewer patched: err=%v\n%s", err, out)
	}
	if _, err := kubectlErr(t, "--as=viewer", "get", "gitrepo", "-n", "default"); err == nil {
		t.Error("viewer listed a namespace it has no binding in")
	}

	// The editor may change spec, but not status (the workers' record).
	if out, err := kubectlErr(t, "--as=editor", "patch", "gitrepo", "podinfo", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true}}`); err != nil {
		t.Errorf("editor cannot patch spec: %v\n%s", err, out)
	}
	status := `{"status":{"observedGeneration":7}}`
	out, err = kubectlErr(t, "--as=editor", "patch", "gitrepo", "podinfo", "-n", ns, "--subresource=status", "--type=merge", "-p", status)
	if err == nil || !strings.Contains(out, "gitrepositories/status") {
		t.Errorf("editor without gitrepositories/status updated status: err=%v\n%s", err, out)
	}
	kubectl(t, "create", "role", "status-writer", "-n", ns, "--verb=patch,get", "--resource=gitrepositories.source.toolkit.fluxcd.io/status")
	kubectl(t, "create", "rolebinding", "status-writer", "-n", ns, "--role=status-writer", "--user=editor")
	if out, err := kubectlErr(t, "--as=editor", "patch", "gitrepo", "podinfo", "-n", ns, "--subresource=status", "--type=merge", "-p", status); err != nil {
		t.Errorf("editor with gitrepositories/status cannot patch status: %v\n%s", err, out)
	}
}

// TestStatus_SpecAndStatusAreSeparate: writes to the object keep status,
// writes to /status keep spec.
func TestStatus_SpecAndStatusAreSeparate(t *testing.T) {
	ns := namespace(t, "it-status")
	apply(t, gitRepository(ns, "podinfo", "1m"))
	kubectl(t, "patch", "gitrepo", "podinfo", "-n", ns, "--subresource=status", "--type=merge",
		"-p", `{"spec":{"interval":"9m"},"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","reason":"Succeeded","message":"stored artifact","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`)
	got := getObject(t, "gitrepositories", ns, "podinfo")
	if got["spec"].(map[string]interface{})["interval"] != "1m" {
		t.Errorf("a /status write changed spec: %v", got["spec"])
	}
	if table := kubectl(t, "get", "gitrepo", "podinfo", "-n", ns); !strings.Contains(table, "stored artifact") || !strings.Contains(table, "True") {
		t.Errorf("READY/MESSAGE columns do not show the condition:\n%s", table)
	}
	kubectl(t, "patch", "gitrepo", "podinfo", "-n", ns, "--type=merge", "-p", `{"spec":{"interval":"2m"},"status":{"observedGeneration":42}}`)
	got = getObject(t, "gitrepositories", ns, "podinfo")
	if s := got["status"].(map[string]interface{}); s["observedGeneration"] != float64(1) {
		t.Errorf("a spec write changed status: %v", s)
	}
	if got["spec"].(map[string]interface{})["interval"] != "2m" {
		t.Errorf("spec write lost: %v", got["spec"])
	}
}

// TestValidation_RejectsInvalidWithFieldPaths: invalid objects are refused
// with HTTP 422 (kubectl: "is invalid") and the offending field named.
func TestValidation_RejectsInvalidWithFieldPaths(t *testing.T) {
	ns := namespace(t, "it-validation")
	cases := []struct {
		name, manifest string
		want           []string
	}{
		{"git url scheme", `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: bad-url, namespace: NS}
spec: {interval: 1m, url: ftp://example.com/repo.git}`, []string{"spec.url"}},
		{"bad interval", `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: bad-interval, namespace: NS}
spec: {interval: bogus, url: https://example.com/repo.git}`, []string{"spec.interval"}},
		{"missing required", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bad-ks, namespace: NS}
spec: {interval: 10m}`, []string{"spec.sourceRef.kind", "spec.sourceRef.name"}},
		{"source kind", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bad-kind, namespace: NS}
spec: {interval: 10m, prune: true, sourceRef: {kind: ConfigMap, name: x}}`, []string{"spec.sourceRef.kind", "Unsupported value"}},
		{"chart xor chartRef", `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: bad-hr, namespace: NS}
spec:
  interval: 5m
  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}
  chartRef: {kind: OCIRepository, name: podinfo}`, []string{"spec"}},
		{"enum", `apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: bad-provider, namespace: NS}
spec: {type: carrier-pigeon}`, []string{"spec.type", "Unsupported value"}},
		{"policy choice", `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: bad-policy, namespace: NS}
spec: {imageRepositoryRef: {name: app}, policy: {}}`, []string{"spec.policy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := kubectlStdin(t, strings.ReplaceAll(tc.manifest, "NS", ns), "create", "-f", "-")
			if err == nil {
				t.Fatalf("accepted:\n%s", out)
			}
			if !strings.Contains(out, "is invalid") {
				t.Errorf("not a 422 Invalid error:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("error does not mention %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRestart_DataSurvives stops and restarts gitops-apiserver; objects in
// its embedded etcd are still there.
func TestRestart_DataSurvives(t *testing.T) {
	ns := namespace(t, "it-restart")
	for i := 0; i < 3; i++ {
		apply(t, gitRepository(ns, fmt.Sprintf("kept-%d", i), "1m"))
	}
	before := getObject(t, "gitrepositories", ns, "kept-1")
	cp.StopGitOps()
	if err := cp.StartGitOps(t.Context()); err != nil {
		t.Fatalf("restart: %v", err)
	}
	after := getObject(t, "gitrepositories", ns, "kept-1")
	if before["metadata"].(map[string]interface{})["uid"] != after["metadata"].(map[string]interface{})["uid"] {
		t.Errorf("uid changed across restart")
	}
	if out := kubectl(t, "get", "gitrepo", "-n", ns, "-o", "name"); strings.Count(out, "\n") != 3 {
		t.Errorf("after restart: %q", out)
	}
}

// TestRBAC_BuiltinViewReadsEveryFluxKind binds only the built-in `view`
// ClusterRole: kube-controller-manager aggregates flux-view into it (the
// aggregate-to-view label), so the user can list and get every Flux kind,
// and patch none.
func TestRBAC_BuiltinViewReadsEveryFluxKind(t *testing.T) {
	ns := namespace(t, "it-view")
	kubectl(t, "create", "rolebinding", "plain-view", "-n", ns, "--clusterrole=view", "--user=plain-viewer")
	resources := []string{
		"gitrepositories.source.toolkit.fluxcd.io", "ocirepositories.source.toolkit.fluxcd.io",
		"helmrepositories.source.toolkit.fluxcd.io", "helmcharts.source.toolkit.fluxcd.io",
		"buckets.source.toolkit.fluxcd.io", "externalartifacts.source.toolkit.fluxcd.io",
		"kustomizations.kustomize.toolkit.fluxcd.io", "helmreleases.helm.toolkit.fluxcd.io",
		"alerts.notification.toolkit.fluxcd.io", "providers.notification.toolkit.fluxcd.io",
		"receivers.notification.toolkit.fluxcd.io", "imagerepositories.image.toolkit.fluxcd.io",
		"imagepolicies.image.toolkit.fluxcd.io", "imageupdateautomations.image.toolkit.fluxcd.io",
	}
	can := func(verb, resource string) bool {
		out, _ := kubectlErr(t, "auth", "can-i", verb, resource, "-n", ns, "--as=plain-viewer")
		return strings.TrimSpace(out) == "yes"
	}
	// Aggregation is kube-controller-manager's, a moment after the roles
	// exist; wait for it (bounded).
	deadline := time.Now().Add(60 * time.Second)
	for !can("list", resources[0]) {
		if time.Now().After(deadline) {
			t.Fatal("view never included the Flux kinds: is ClusterRole aggregation running?")
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, r := range resources {
		for _, verb := range []string{"get", "list", "watch"} {
			if !can(verb, r) {
				t.Errorf("view cannot %s %s", verb, r)
			}
		}
		if can("patch", r) {
			t.Errorf("view can patch %s", r)
		}
	}
	apply(t, gitRepository(ns, "podinfo", "1m"))
	if out, err := kubectlErr(t, "--as=plain-viewer", "get", "fluxcd", "-n", ns); err != nil || !strings.Contains(out, "podinfo") {
		t.Errorf("view cannot list the fluxcd category: %v\n%s", err, out)
	}
}
