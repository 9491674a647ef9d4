package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestKustomization_IgnoredPathsAreNotApplied: spec.ignore leaves a path
// of the selected objects to others — an edit there stays, while an edit
// elsewhere is reverted.
func TestKustomization_IgnoredPathsAreNotApplied(t *testing.T) {
	ns := namespace(t, "ks-ignore")
	_, rev := gitSource(t, ns, map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tuned}\ndata: {managed: from-git, tuned: from-git}\n",
	})
	apply(t, kustomizationAt(ns, "app", "./app", `  ignore:
  - paths: ["/data/tuned"]
    target: {kind: ConfigMap, name: tuned}
`))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+rev))
	if got := jsonpath(t, "configmap", ns, "tuned", "{.data}"); strings.Contains(got, `"tuned"`) {
		t.Errorf("the ignored path was applied: %s", got)
	}
	kubectl(t, "patch", "configmap", "tuned", "-n", ns, "--type=merge", "-p", `{"data":{"managed":"edited","tuned":"by-hand"}}`)
	reconcileKustomization(t, ns, "app", "{}")
	waitFor(t, 60*time.Second, "the managed key reverted", func() bool {
		return jsonpath(t, "configmap", ns, "tuned", "{.data.managed}") == "from-git"
	})
	if got := jsonpath(t, "configmap", ns, "tuned", "{.data.tuned}"); got != "by-hand" {
		t.Errorf("the ignored key was reverted: %q", got)
	}
}

// TestKustomization_DependsOnAHelmRelease waits for a HelmRelease (beyond
// Flux, which allows only Kustomizations) before it applies.
func TestKustomization_DependsOnAHelmRelease(t *testing.T) {
	ns := namespace(t, "ks-deps-hr")
	chartRepo(t, ns)
	_, rev := gitSource(t, ns, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after-helm}\ndata: {a: b}\n"})
	apply(t, helmReleaseFrom(ns, "web", "  suspend: true\n"))
	apply(t, kustomizationAt(ns, "app", "./app", "  dependsOn:\n  - kind: HelmRelease\n    name: web\n"))
	waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "waiting for the HelmRelease", func(o map[string]interface{}) bool {
		_, reason, msg := condition(o, "Ready")
		return reason == "DependencyNotReady" && strings.Contains(msg, "HelmRelease/"+ns+"/web")
	})
	kubectl(t, "patch", "helmrelease", "web", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "installed", releasedAt(1))
	waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "applied after the HelmRelease", appliedAt("main@sha1:"+rev))
}
