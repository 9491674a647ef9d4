package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// driftFiles: two ConfigMaps, one to edit and one to delete.
func driftFiles() map[string]string {
	return map[string]string{
		"app/config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
`,
		"app/extra.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  a: b
`,
	}
}

// revertWait bounds the wait for a revert. The target is 2 s on an idle
// server (measured by the benchmark); the test allows for a busy machine.
// The interval is 10m, so only the watch explains a revert within it.
const revertWait = 20 * time.Second

// editAndDelete edits driftFiles' web-config, as kubectl edit does (an
// update by another manager), and deletes its extra, and waits for both to
// be reverted.
func editAndDelete(t *testing.T, ns string) {
	t.Helper()
	start := time.Now()
	kubectl(t, "patch", "configmap", "web-config", "-n", ns, "--type=merge", "-p", `{"data":{"greeting":"edited"}}`)
	waitFor(t, revertWait, "the edit reverted", func() bool {
		return jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}") == "hello"
	})
	t.Logf("edit reverted in %s (observed by polling every 250ms)", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	kubectl(t, "delete", "configmap", "extra", "-n", ns)
	waitFor(t, revertWait, "the deleted ConfigMap recreated", func() bool {
		out, err := kubectlStdout(t, "", "get", "configmap", "extra", "-n", ns, "--ignore-not-found", "-o", "jsonpath={.data.a}")
		return err == nil && string(out) == "b"
	})
	t.Logf("deletion reverted in %s (observed by polling every 250ms)", time.Since(start).Round(time.Millisecond))
}

// TestDrift_EditAndDeleteRevertedAtOnce: with a 10m interval, a kubectl
// edit of a managed ConfigMap's data and a kubectl delete of another are
// reverted within seconds, because the applied objects are watched; the
// correction is reported in an event. An object that merely carries the
// Kustomization's labels (anyone can forge them) triggers nothing.
func TestDrift_EditAndDeleteRevertedAtOnce(t *testing.T) {
	ns := namespace(t, "drift-watch")
	_, first := gitSource(t, ns, driftFiles())
	apply(t, kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+first))

	editAndDelete(t, ns)

	waitFor(t, 10*time.Second, "events reporting both corrections", func() bool {
		ev := events(t, ns)
		return strings.Contains(ev, "ConfigMap/"+ns+"/web-config configured") && strings.Contains(ev, "ConfigMap/"+ns+"/extra created")
	})

	// Labels are no claim: a ConfigMap the Kustomization never applied,
	// labelled as if it had, changes without a run.
	kubectl(t, "create", "configmap", "forged", "-n", ns, "--from-literal=x=1")
	kubectl(t, "label", "configmap", "forged", "-n", ns, "kustomize.toolkit.fluxcd.io/name=app", "kustomize.toolkit.fluxcd.io/namespace="+ns)
	before := readCounts(t, ns, "app").runs
	kubectl(t, "patch", "configmap", "forged", "-n", ns, "--type=merge", "-p", `{"data":{"x":"2"}}`)
	kubectl(t, "delete", "configmap", "forged", "-n", ns)
	// Nothing to wait for but time: a run would follow these events
	// within the revert times measured above.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if got := readCounts(t, ns, "app").runs; got != before {
			t.Fatalf("a forged label triggered %v runs", got-before)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if _, err := kubectlStdout(t, "", "get", "configmap", "forged", "-n", ns); err == nil {
		t.Error("the forged ConfigMap was recreated")
	}

	// And drift is still seen after that.
	kubectl(t, "patch", "configmap", "web-config", "-n", ns, "--type=merge", "-p", `{"data":{"greeting":"again"}}`)
	waitFor(t, revertWait, "the second edit reverted", func() bool {
		return jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}") == "hello"
	})
}

// TestDrift_RemoteClusterWatchedWithTheTenantsCredentials: a Kustomization
// applying through spec.kubeConfig, with a tenant's token that may touch
// ConfigMaps in its own namespace only, has its edits and deletions
// reverted at once too. Its informers run with that token: listing
// ConfigMaps in all namespaces is refused, so they fall back to the
// namespace it applied to.
func TestDrift_RemoteClusterWatchedWithTheTenantsCredentials(t *testing.T) {
	ns := namespace(t, "drift-remote")
	_, first := gitSource(t, ns, driftFiles())
	kubectl(t, "create", "serviceaccount", "deployer", "-n", ns)
	kubectl(t, "create", "role", "configmaps", "-n", ns, "--verb=get,list,watch,create,update,patch,delete", "--resource=configmaps")
	kubectl(t, "create", "rolebinding", "deployer", "-n", ns, "--role=configmaps", "--serviceaccount="+ns+":deployer")
	token := strings.TrimSpace(kubectl(t, "create", "token", "deployer", "-n", ns, "--duration=1h"))
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: remote
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: deployer
  user: {token: %q}
contexts:
- name: c
  context: {cluster: remote, user: deployer, namespace: %s}
current-context: c
`, cp.RESTConfig().Host, token, ns)
	kubectl(t, "create", "secret", "generic", "remote-kubeconfig", "-n", ns, "--from-literal=value="+kubeconfig)
	apply(t, kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n  kubeConfig:\n    secretRef: {name: remote-kubeconfig}\n"))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+first))

	editAndDelete(t, ns)

	// The refusal of the wide list is logged, naming the Secret, never
	// the token.
	log, err := os.ReadFile(cp.GitOpsLog())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "Watching applied objects was refused") || !strings.Contains(string(log), "secret:"+ns+"/remote-kubeconfig[value]@") {
		t.Error("no log line says the list over all namespaces was refused")
	}
	if strings.Contains(string(log), token) {
		t.Error("the tenant's token is in the log")
	}
}
