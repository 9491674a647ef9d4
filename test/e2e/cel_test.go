package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// widgetFiles is a ConfigMap standing in for a custom resource whose health
// only a CEL expression can tell: kstatus finds every ConfigMap Current.
func widgetFiles(state string) map[string]string {
	return map[string]string{"app/widget.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: widget
data:
  state: %q
`, state)}
}

// celHealthChecks judge ConfigMaps by data.state: the object's top-level
// fields are the expressions' variables, as in Flux.
const celHealthChecks = `  wait: true
  timeout: 2m
  healthCheckExprs:
  - apiVersion: v1
    kind: ConfigMap
    inProgress: "data.state == 'starting'"
    failed: "data.state == 'broken'"
    current: "data.state == 'ready'"
`

// TestKustomization_CELHealthCheckExprs: a Kustomization waits for an
// object its healthCheckExprs say is not ready, becomes Ready once a commit
// makes the current expression true, and fails naming the object when the
// failed expression is true; an expression that does not compile is
// refused by the API naming its field.
func TestKustomization_CELHealthCheckExprs(t *testing.T) {
	ns := namespace(t, "ks-cel-health")
	repo, first := gitSource(t, ns, widgetFiles("starting"))
	apply(t, kustomizationAt(ns, "app", "./app", celHealthChecks))

	want := fmt.Sprintf("Running health checks for revision main@sha1:%s with a timeout of 2m0s", first)
	obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "health checks running", func(o map[string]interface{}) bool {
		_, _, msg := condition(o, "Reconciling")
		return msg == want
	})
	if s, reason, _ := condition(obj, "Ready"); s != "Unknown" || reason != "Progressing" {
		t.Errorf("Ready while the expressions say starting: %s %s", s, reason)
	}
	if s, reason, _ := condition(obj, "Healthy"); s != "Unknown" || reason != "Progressing" {
		t.Errorf("Healthy while the expressions say starting: %s %s", s, reason)
	}
	// kstatus finds a ConfigMap Current at the first look: only the
	// expressions can have parked this run.

	t.Run("Ready once current is true", func(t *testing.T) {
		second := repo.Commit(t, widgetFiles("ready"), "widget ready")
		requestReconcile(t, ns, "gitrepositories", "app", "")
		obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "Ready with the widget ready", appliedAt("main@sha1:"+second))
		if s, _, msg := condition(obj, "Healthy"); s != "True" || !strings.HasPrefix(msg, "Health check passed") {
			t.Errorf("Healthy %s %q", s, msg)
		}
	})

	t.Run("HealthCheckFailed once failed is true", func(t *testing.T) {
		third := repo.Commit(t, widgetFiles("broken"), "widget broken")
		requestReconcile(t, ns, "gitrepositories", "app", "")
		obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "HealthCheckFailed", func(o map[string]interface{}) bool {
			s, reason, _ := condition(o, "Ready")
			return s == "False" && reason == "HealthCheckFailed" && nested(o, "status", "lastAttemptedRevision") == "main@sha1:"+third
		})
		_, _, msg := condition(obj, "Ready")
		t.Logf("Ready: %s", msg)
		if !strings.Contains(msg, "ConfigMap/"+ns+"/widget status: 'Failed'") || !strings.Contains(msg, "healthCheckExprs[0].failed is true") {
			t.Errorf("Ready message does not name the object and the expression: %q", msg)
		}
		if s, reason, _ := condition(obj, "Healthy"); s != "False" || reason != "HealthCheckFailed" {
			t.Errorf("Healthy %s %s", s, reason)
		}
	})

	t.Run("an expression that does not compile is refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		bad := strings.Replace(kustomizationAt(ns, "bad", "./app", celHealthChecks), "data.state == 'ready'", "data.state ==", 1)
		out, err := cp.KubectlWithInput(ctx, strings.NewReader(bad), "apply", "-f", "-")
		t.Logf("apply: %s", out)
		if err == nil || !strings.Contains(string(out), "spec.healthCheckExprs[0].current") {
			t.Errorf("apply: %v\n%s\nwant it refused naming spec.healthCheckExprs[0].current", err, out)
		}
	})
}

// TestKustomization_CELReadyExprGatesDependent: a dependency with a
// readyExpr is ready when the expression over dep (and self) is true, in
// place of Flux's built-in check: the dependent waits while its Ready
// dependency lacks a label and is applied once the label is set.
func TestKustomization_CELReadyExprGatesDependent(t *testing.T) {
	ns := namespace(t, "ks-cel-ready")
	_, rev := gitSource(t, ns, map[string]string{
		"infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra\ndata: {a: b}\n",
		"app/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata: {a: b}\n",
	})
	apply(t, kustomizationAt(ns, "infra", "./infra", ""))
	waitForObject(t, "kustomizations", ns, "infra", 60*time.Second, "infra applied", appliedAt("main@sha1:"+rev))
	kubectl(t, "label", "kustomization", "infra", "-n", ns, "stage=warming")

	apply(t, kustomizationAt(ns, "app", "./app", `  dependsOn:
  - name: infra
    readyExpr: "dep.metadata.labels['stage'] == 'done' && self.metadata.name == 'app'"
`))
	obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "DependencyNotReady", func(o map[string]interface{}) bool {
		s, reason, _ := condition(o, "Ready")
		return s == "False" && reason == "DependencyNotReady"
	})
	if _, _, msg := condition(obj, "Ready"); msg != "dependency '"+ns+"/infra' is not ready according to its readyExpr" {
		t.Errorf("Ready message %q", msg)
	}
	if out, _ := kubectlStdout(t, "", "get", "configmap", "app", "-n", ns, "--ignore-not-found", "-o", "name"); len(out) != 0 {
		t.Fatalf("applied before its dependency's readyExpr was true: %s", out)
	}

	start := time.Now()
	kubectl(t, "label", "kustomization", "infra", "-n", ns, "stage=done", "--overwrite")
	waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "applied once the readyExpr is true", appliedAt("main@sha1:"+rev))
	t.Logf("applied %s after the dependency was labelled", time.Since(start).Round(time.Millisecond))
	if got := jsonpath(t, "configmap", ns, "app", "{.data.a}"); got != "b" {
		t.Errorf("ConfigMap app data.a = %q", got)
	}
}
