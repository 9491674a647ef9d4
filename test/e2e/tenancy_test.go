package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// diffActions returns Kind/name → action of a Kustomization's /diff.
func diffActions(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	out, err := kubectlStdout(t, "", "get", "--raw", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/"+ns+"/kustomizations/"+name+"/diff")
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Objects []struct {
			Object struct{ Kind, Name string } `json:"object"`
			Action string                      `json:"action"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("diff %s: %v", out, err)
	}
	actions := map[string]string{}
	for _, o := range report.Objects {
		actions[o.Object.Kind+"/"+o.Object.Name] = o.Action
	}
	return actions
}

func inventoryIDs(obj map[string]interface{}) string {
	b, _ := json.Marshal(obj["status"].(map[string]interface{})["inventory"])
	return string(b)
}

// TestKustomization_NeverPrunesWhatUsersExcluded: an object annotated
// ssa: Ignore in the cluster, and one marked reconcile: disabled in the
// manifest, stay in the inventory and are never deleted by a
// Kustomization with prune: true — not while they are in the source, and
// the ssa: Ignore one not after it left the source either; /diff says
// the same.
func TestKustomization_NeverPrunesWhatUsersExcluded(t *testing.T) {
	ns := namespace(t, "ks-excluded")
	cm := func(name, annotations string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n" + annotations + "data: {v: \"1\"}\n"
	}
	files := map[string]string{
		"app/kept.yaml":     cm("kept", ""),
		"app/ignored.yaml":  cm("ignored", ""),
		"app/disabled.yaml": cm("disabled", ""),
	}
	repo, first := gitSource(t, ns, files)
	apply(t, kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+first))
	ignoredUID := jsonpath(t, "configmap", ns, "ignored", "{.metadata.uid}")
	disabledUID := jsonpath(t, "configmap", ns, "disabled", "{.metadata.uid}")

	// The user takes "ignored" over in the cluster, and the source marks
	// "disabled" as not to be reconciled.
	kubectl(t, "annotate", "configmap", "ignored", "-n", ns, "kustomize.toolkit.fluxcd.io/ssa=Ignore")
	files["app/disabled.yaml"] = cm("disabled", "  annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}\n")
	second := repo.Commit(t, files, "disable reconciliation of one")
	requestReconcile(t, ns, "gitrepositories", "app", "")
	obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "second revision", appliedAt("main@sha1:"+second))
	for i := 0; i < 2; i++ { // a prune happens on every run: do two more
		reconcileKustomization(t, ns, "app", "{}")
		obj = waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "reconciled", func(o map[string]interface{}) bool {
			return appliedAt("main@sha1:"+second)(o) && nested(o, "status", "lastHandledReconcileAt") == nested(o, "metadata", "annotations", "reconcile.fluxcd.io/requestedAt")
		})
	}
	inv := inventoryIDs(obj)
	for _, name := range []string{"ignored", "disabled", "kept"} {
		if !strings.Contains(inv, ns+"_"+name+"__ConfigMap") {
			t.Errorf("inventory lacks %s: %s", name, inv)
		}
	}
	if got := jsonpath(t, "configmap", ns, "ignored", "{.metadata.uid}"); got != ignoredUID {
		t.Errorf("the ssa: Ignore ConfigMap was recreated: uid %s, was %s", got, ignoredUID)
	}
	if got := jsonpath(t, "configmap", ns, "disabled", "{.metadata.uid}"); got != disabledUID {
		t.Errorf("the reconcile: disabled ConfigMap was recreated: uid %s, was %s", got, disabledUID)
	}
	actions := diffActions(t, ns, "app")
	for _, name := range []string{"ConfigMap/ignored", "ConfigMap/disabled"} {
		if actions[name] != "skipped" {
			t.Errorf("/diff: %s is %q, want skipped (%v)", name, actions[name], actions)
		}
	}

	// "ignored" leaves the source: a prune would be due, but the object
	// says ssa: Ignore, so it stays; /diff agrees.
	delete(files, "app/ignored.yaml")
	third := repo.Commit(t, files, "drop ignored")
	kubectl(t, "patch", "kustomization", "app", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	requestReconcile(t, ns, "gitrepositories", "app", "")
	waitForObject(t, "gitrepositories", ns, "app", 60*time.Second, "third revision", revisionIs("main@sha1:"+third))
	if a := diffActions(t, ns, "app")["ConfigMap/ignored"]; a != "skipped" {
		t.Errorf("/diff after it left the source: ConfigMap/ignored is %q, want skipped", a)
	}
	kubectl(t, "patch", "kustomization", "app", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "third revision", appliedAt("main@sha1:"+third))
	if got := jsonpath(t, "configmap", ns, "ignored", "{.metadata.uid}"); got != ignoredUID {
		t.Errorf("the ssa: Ignore ConfigMap was pruned: uid %q, was %s", got, ignoredUID)
	}
}

// TestArtifacts_OfObjectsDeletedWhileWorkersWereDownAreSwept deletes a
// GitRepository while no worker runs (the server serves the API with
// --disable-workers, as an API-only replica would): its artifact stays on
// disk until the workers start again, which sweep it once their caches
// have synced.
func TestArtifacts_OfObjectsDeletedWhileWorkersWereDownAreSwept(t *testing.T) {
	ns := namespace(t, "sweep")
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	srv.CreateRepo(t, "app").Commit(t, map[string]string{"a.yaml": "kind: ConfigMap\n"}, "one")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=unused")
	apply(t, gitRepositoryFrom(ns, "gone", srv.URL("app"), "branch: main"))
	apply(t, gitRepositoryFrom(ns, "kept", srv.URL("app"), "branch: main"))
	dir := func(name string) string {
		return filepath.Join(cp.GitOpsDataDir(), "artifacts", "gitrepository", ns, name)
	}
	for _, name := range []string{"gone", "kept"} {
		waitForObject(t, "gitrepositories", ns, name, 60*time.Second, "an artifact", func(o map[string]interface{}) bool {
			return nested(o, "status", "artifact", "digest") != ""
		})
		if _, err := os.Stat(dir(name)); err != nil {
			t.Fatalf("artifact directory of %s: %v", name, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cp.RestartGitOps(ctx, "--disable-workers"); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "delete", "gitrepository", "gone", "-n", ns)
	if _, err := os.Stat(dir("gone")); err != nil {
		t.Fatalf("the artifact went without workers: %v", err)
	}
	if err := cp.RestartGitOps(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the orphaned artifact swept", func() bool {
		_, err := os.Stat(dir("gone"))
		return errors.Is(err, os.ErrNotExist)
	})
	if _, err := os.Stat(dir("kept")); err != nil {
		t.Errorf("the artifact of an existing object was swept: %v", err)
	}
}
