package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests need a control plane that behaves like a cluster:
// kube-controller-manager rolls Deployments out and deletes namespaces,
// kube-scheduler binds pods to the simulated node, and kwok marks them
// Running and Ready.

// deploymentFiles is one Deployment named name with replicas pods; extra
// is added to the pod spec (e.g. a nodeSelector no node has).
func deploymentFiles(dir, name string, replicas int, podSpecExtra string) map[string]string {
	return map[string]string{dir + "/deployment.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
%[3]s      containers:
      - name: app
        image: ghcr.io/stefanprodan/podinfo:6.5.0
`, name, replicas, podSpecExtra)}
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// kustomizationAt is a Kustomization of the "app" GitRepository at path,
// applying into ns.
func kustomizationAt(ns, name, path, extra string) string {
	return fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  path: %s
  prune: true
  targetNamespace: %s
  sourceRef:
    kind: GitRepository
    name: app
%s`, name, ns, path, ns, extra)
}

// TestKustomization_WaitsForRolloutOnTheLocalCluster is the guide's
// quick start with wait: true: the Kustomization becomes Ready once the
// Deployment's two replicas are available, and a Deployment that can never
// become available fails its health check naming it.
func TestKustomization_WaitsForRolloutOnTheLocalCluster(t *testing.T) {
	ns := namespace(t, "ks-rollout")
	_, rev := gitSource(t, ns, merge(appFiles(2, "hello"),
		deploymentFiles("stuck", "stuck", 1, "      nodeSelector: {disktype: none-has-this}\n")))
	apply(t, kustomizationAt(ns, "app", "./app", "  wait: true\n  timeout: 2m\n"))

	obj := waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "Ready after the rollout", appliedAt("main@sha1:"+rev))
	if s, _, msg := condition(obj, "Healthy"); s != "True" || !strings.HasPrefix(msg, "Health check passed") {
		t.Errorf("Healthy %s %q", s, msg)
	}
	if got := jsonpath(t, "deployment", ns, "web", "{.status.availableReplicas}"); got != "2" {
		t.Errorf("availableReplicas = %q", got)
	}

	apply(t, kustomizationAt(ns, "stuck", "./stuck", "  wait: true\n  timeout: 8s\n"))
	obj = waitForObject(t, "kustomizations", ns, "stuck", 90*time.Second, "HealthCheckFailed", func(o map[string]interface{}) bool {
		s, reason, _ := condition(o, "Ready")
		return s == "False" && reason == "HealthCheckFailed"
	})
	_, _, msg := condition(obj, "Ready")
	if !strings.Contains(msg, "Deployment/"+ns+"/stuck") || !strings.Contains(msg, "InProgress") {
		t.Errorf("Ready message does not name the Deployment and its status: %q", msg)
	}
	if s, reason, _ := condition(obj, "Healthy"); s != "False" || reason != "HealthCheckFailed" {
		t.Errorf("Healthy %s %s", s, reason)
	}
}

// TestKustomization_HealthWaitNeverHoldsTheQueue runs the workers with one
// worker per kind: a Kustomization waiting up to 10 minutes for health
// says so in its status, does not delay another one, gives way at once to
// a spec change, and a Kustomization whose remote cluster accepts
// connections and never answers fails after its timeout.
func TestKustomization_HealthWaitNeverHoldsTheQueue(t *testing.T) {
	restartGitOps(t, "--concurrent=1")
	ns := namespace(t, "ks-yield")
	_, rev := gitSource(t, ns, merge(
		deploymentFiles("stuck", "stuck", 1, "      nodeSelector: {disktype: none-has-this}\n"),
		map[string]string{"config/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata: {a: b}\n"}))

	apply(t, kustomizationAt(ns, "slow", "./stuck", "  wait: true\n  timeout: 10m\n"))
	want := fmt.Sprintf("Running health checks for revision main@sha1:%s with a timeout of 10m0s", rev)
	obj := waitForObject(t, "kustomizations", ns, "slow", 60*time.Second, "health checks running", func(o map[string]interface{}) bool {
		_, _, msg := condition(o, "Reconciling")
		return msg == want
	})
	if s, reason, msg := condition(obj, "Ready"); s != "Unknown" || reason != "Progressing" || msg != want {
		t.Errorf("Ready during the wait: %s %s %q", s, reason, msg)
	}

	start := time.Now()
	apply(t, kustomizationAt(ns, "other", "./config", ""))
	waitForObject(t, "kustomizations", ns, "other", 30*time.Second, "Ready beside the waiting one", appliedAt("main@sha1:"+rev))
	t.Logf("the second Kustomization was Ready %s after it was applied", time.Since(start).Round(time.Millisecond))

	// A new generation cancels the wait and runs at once.
	start = time.Now()
	kubectl(t, "patch", "kustomization", "slow", "-n", ns, "--type=merge", "-p", `{"spec":{"wait":false}}`)
	waitForObject(t, "kustomizations", ns, "slow", 20*time.Second, "the new generation applied", appliedAt("main@sha1:"+rev))
	t.Logf("the spec change was applied %s after the patch", time.Since(start).Round(time.Millisecond))

	// A remote cluster that accepts TCP and never answers.
	hang := hangingServer(t)
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: hang
  cluster: {server: "https://%s", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: not-a-secret}
contexts:
- name: c
  context: {cluster: hang, user: u}
current-context: c
`, hang)
	kubectl(t, "create", "secret", "generic", "hang-kubeconfig", "-n", ns, "--from-literal=value="+kubeconfig)
	apply(t, kustomizationAt(ns, "remote", "./config", "  timeout: 5s\n  kubeConfig:\n    secretRef: {name: hang-kubeconfig}\n"))
	start = time.Now()
	obj = waitForObject(t, "kustomizations", ns, "remote", 60*time.Second, "Ready=False after the timeout", func(o map[string]interface{}) bool {
		s, _, _ := condition(o, "Ready")
		return s == "False"
	})
	_, _, msg := condition(obj, "Ready")
	t.Logf("the hanging remote failed %s after it was applied: %s", time.Since(start).Round(time.Millisecond), msg)
	if !strings.Contains(msg, "deadline") && !strings.Contains(msg, "timeout") && !strings.Contains(msg, "Timeout") {
		t.Errorf("Ready message does not say the run timed out: %q", msg)
	}
	// And the worker is free again.
	kubectl(t, "annotate", "kustomization", "other", "-n", ns, "--overwrite", "reconcile.fluxcd.io/requestedAt="+time.Now().Format(time.RFC3339Nano))
	waitForObject(t, "kustomizations", ns, "other", 30*time.Second, "a reconcile request handled after the hang", func(o map[string]interface{}) bool {
		return nested(o, "status", "lastHandledReconcileAt") == nested(o, "metadata", "annotations", "reconcile.fluxcd.io/requestedAt")
	})
}

// TestNamespace_DeletionCompletes deletes a namespace holding a source, a
// Kustomization and what it applied: kube-controller-manager deletes the
// Flux objects through the aggregated API, the worker prunes, and the
// namespace goes away.
func TestNamespace_DeletionCompletes(t *testing.T) {
	ns := "ns-delete"
	kubectl(t, "create", "namespace", ns)
	_, rev := gitSource(t, ns, appFiles(1, "hello"))
	apply(t, kustomizationAt(ns, "app", "./app", ""))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+rev))
	start := time.Now()
	kubectl(t, "delete", "namespace", ns, "--timeout=120s")
	t.Logf("namespace deleted in %s", time.Since(start).Round(time.Millisecond))
}

// TestKustomization_DeleteCompletesWithoutWorkers deletes a Kustomization
// that carries the worker's finalizer while the server runs with
// --disable-workers: no worker holds the Lease, so the API-only server
// releases the finalizer and the delete completes.
func TestKustomization_DeleteCompletesWithoutWorkers(t *testing.T) {
	ns := namespace(t, "ks-noworkers")
	_, rev := gitSource(t, ns, appFiles(1, "hello"))
	apply(t, kustomizationAt(ns, "app", "./app", ""))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+rev))
	if got := jsonpath(t, "kustomization", ns, "app", "{.metadata.finalizers}"); !strings.Contains(got, "finalizers.fluxcd.io") {
		t.Fatalf("finalizers %q", got)
	}
	restartGitOps(t, "--disable-workers")
	start := time.Now()
	kubectl(t, "delete", "kustomization", "app", "-n", ns, "--timeout=90s")
	t.Logf("deleted in %s", time.Since(start).Round(time.Millisecond))
	waitFor(t, 30*time.Second, "a FinalizerReleased event", func() bool {
		return strings.Contains(events(t, ns), "FinalizerReleased")
	})
	// Nothing pruned it: the applied objects are still there.
	if got := jsonpath(t, "deployment", ns, "web", "{.metadata.name}"); got != "web" {
		t.Errorf("the Deployment is gone: %q", got)
	}
}

// restartGitOps restarts gitops-apiserver with extra flags for one test
// and with the usual ones afterwards.
func restartGitOps(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cp.RestartGitOps(ctx, args...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := cp.RestartGitOps(ctx); err != nil {
			t.Errorf("restoring gitops-apiserver: %v", err)
		}
	})
}

// hangingServer accepts TCP connections on loopback and never answers.
func hangingServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
