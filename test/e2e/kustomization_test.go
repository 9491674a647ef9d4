package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// The quick-start app: a Deployment, a Service and a ConfigMap in the
// namespace the Kustomization targets.
func appFiles(replicas int, greeting string) map[string]string {
	return map[string]string{
		"app/deployment.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: %d
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:6.5.0
`, replicas),
		"app/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 9898
`,
		"app/configmap.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: %q
`, greeting),
	}
}

// gitSource starts a git server with one repository, commits files to it
// and creates a GitRepository "app" in ns that follows main.
func gitSource(t *testing.T, ns string, files map[string]string) (*gitserver.Repo, string) {
	t.Helper()
	const password = "kustomize-e2e-password"
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: password})
	repo := srv.CreateRepo(t, "app")
	commit := repo.Commit(t, files, "initial")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password="+password)
	apply(t, gitRepositoryFrom(ns, "app", srv.URL("app"), "branch: main"))
	waitForObject(t, "gitrepositories", ns, "app", 90*time.Second, "the first commit", revisionIs("main@sha1:"+commit))
	return repo, commit
}

func kustomizationFrom(ns, name, extra string) string {
	return fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: app
%s`, name, ns, extra)
}

// appliedAt is true once the Kustomization is Ready at the current
// generation with rev applied.
func appliedAt(rev string) func(map[string]interface{}) bool {
	return func(obj map[string]interface{}) bool {
		return readyAt(obj) && nested(obj, "status", "lastAppliedRevision") == rev
	}
}

// reconcileKustomization POSTs body to a Kustomization's /reconcile.
func reconcileKustomization(t *testing.T, ns, name, body string) {
	t.Helper()
	postReconcile(t, "kustomize.toolkit.fluxcd.io/v1", ns, "kustomizations", name, "", body)
}

func jsonpath(t *testing.T, resource, ns, name, path string) string {
	t.Helper()
	return kubectl(t, "get", resource, name, "-n", ns, "-o", "jsonpath="+path)
}

func events(t *testing.T, ns string) string {
	t.Helper()
	return kubectl(t, "get", "events", "-n", ns, "-o", "json")
}

// TestKustomization_QuickStart follows the quick-start shape through its
// life: apply, a new commit (picked up when the source has it, and at
// once through /reconcile), drift reverted, a removed file pruned, and the
// objects pruned when the Kustomization is deleted.
func TestKustomization_QuickStart(t *testing.T) {
	ns := namespace(t, "ks-quickstart")
	repo, first := gitSource(t, ns, appFiles(1, "hello"))
	apply(t, kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"))

	obj := waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "first revision applied", appliedAt("main@sha1:"+first))
	if _, reason, msg := condition(obj, "Ready"); reason != "ReconciliationSucceeded" || msg != "Applied revision: main@sha1:"+first {
		t.Errorf("Ready reason %q message %q", reason, msg)
	}
	if got := nested(obj, "status", "lastAttemptedRevision"); got != "main@sha1:"+first {
		t.Errorf("lastAttemptedRevision = %q", got)
	}
	var inv []string
	for _, e := range obj["status"].(map[string]interface{})["inventory"].(map[string]interface{})["entries"].([]interface{}) {
		inv = append(inv, e.(map[string]interface{})["id"].(string)+"@"+e.(map[string]interface{})["v"].(string))
	}
	want := []string{ns + "_web-config__ConfigMap@v1", ns + "_web__Service@v1", ns + "_web_apps_Deployment@v1"}
	for _, w := range want {
		if !strings.Contains(strings.Join(inv, " "), w) {
			t.Errorf("inventory %v lacks %s", inv, w)
		}
	}
	if len(obj["status"].(map[string]interface{})["history"].([]interface{})) == 0 {
		t.Error("status.history is empty")
	}
	if got := jsonpath(t, "deployment", ns, "web", "{.metadata.labels}"); !strings.Contains(got, `"kustomize.toolkit.fluxcd.io/name":"app"`) ||
		!strings.Contains(got, `"kustomize.toolkit.fluxcd.io/namespace":"`+ns+`"`) {
		t.Errorf("Deployment labels %s", got)
	}
	if got := jsonpath(t, "deployment", ns, "web", "{.metadata.managedFields[*].manager}"); !strings.Contains(got, "kustomize-controller") {
		t.Errorf("field managers %q", got)
	}
	if got := jsonpath(t, "kustomization", ns, "app", "{.metadata.finalizers}"); !strings.Contains(got, "finalizers.fluxcd.io") {
		t.Errorf("finalizers %q", got)
	}
	waitFor(t, 30*time.Second, "a change-set event", func() bool {
		return strings.Contains(events(t, ns), "Deployment/"+ns+"/web created")
	})

	t.Run("a new commit is applied once the source has it", func(t *testing.T) {
		second := repo.Commit(t, appFiles(2, "hello"), "two replicas")
		// Only the source is asked; the Kustomization follows on its own.
		requestReconcile(t, ns, "gitrepositories", "app", "")
		waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "second revision applied", appliedAt("main@sha1:"+second))
		if got := jsonpath(t, "deployment", ns, "web", "{.spec.replicas}"); got != "2" {
			t.Errorf("replicas = %s", got)
		}
	})

	t.Run("reconcile withSource fetches and applies at once", func(t *testing.T) {
		third := repo.Commit(t, appFiles(3, "hello"), "three replicas")
		reconcileKustomization(t, ns, "app", `{"withSource":true}`)
		waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "third revision applied", appliedAt("main@sha1:"+third))
		if got := jsonpath(t, "deployment", ns, "web", "{.spec.replicas}"); got != "3" {
			t.Errorf("replicas = %s", got)
		}
	})

	t.Run("drift is reverted", func(t *testing.T) {
		kubectl(t, "patch", "deployment", "web", "-n", ns, "--type=merge", "-p", `{"spec":{"replicas":7}}`)
		kubectl(t, "patch", "configmap", "web-config", "-n", ns, "--type=merge", "-p", `{"data":{"greeting":"edited"}}`)
		reconcileKustomization(t, ns, "app", "{}")
		waitFor(t, 60*time.Second, "replicas reverted to 3", func() bool {
			return jsonpath(t, "deployment", ns, "web", "{.spec.replicas}") == "3" &&
				jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}") == "hello"
		})
	})

	t.Run("a removed file is pruned", func(t *testing.T) {
		fourth := repo.DeleteFile(t, "app/service.yaml", "drop the service")
		requestReconcile(t, ns, "gitrepositories", "app", "")
		obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "fourth revision applied", appliedAt("main@sha1:"+fourth))
		waitFor(t, 30*time.Second, "the Service deleted", func() bool {
			out, err := kubectlStdout(t, "", "get", "service", "web", "-n", ns, "--ignore-not-found", "-o", "name")
			return err == nil && len(strings.TrimSpace(string(out))) == 0
		})
		if s, _ := json.Marshal(obj["status"].(map[string]interface{})["inventory"]); strings.Contains(string(s), "_Service") {
			t.Errorf("inventory still lists the Service: %s", s)
		}
		waitFor(t, 30*time.Second, "a deleted event", func() bool {
			return strings.Contains(events(t, ns), "Service/"+ns+"/web deleted")
		})
	})

	t.Run("deleting the Kustomization prunes its objects", func(t *testing.T) {
		kubectl(t, "delete", "kustomization", "app", "-n", ns, "--timeout=60s")
		for _, kind := range []string{"deployment/web", "configmap/web-config"} {
			out, err := kubectlStdout(t, "", "get", kind, "-n", ns, "--ignore-not-found", "-o", "name")
			if err != nil || len(strings.TrimSpace(string(out))) != 0 {
				t.Errorf("%s still there after the Kustomization was deleted: %q %v", kind, out, err)
			}
		}
	})
}

// TestKustomization_IntervalCorrectsDrift leaves the worker alone: a
// manual edit is reverted at the next interval, no request needed.
func TestKustomization_IntervalCorrectsDrift(t *testing.T) {
	ns := namespace(t, "ks-drift")
	_, first := gitSource(t, ns, appFiles(1, "hello"))
	apply(t, strings.Replace(kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"), "interval: 10m", "interval: 3s", 1))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+first))
	kubectl(t, "scale", "deployment", "web", "-n", ns, "--replicas=5")
	waitFor(t, 30*time.Second, "replicas back to 1 at the next interval", func() bool {
		return jsonpath(t, "deployment", ns, "web", "{.spec.replicas}") == "1"
	})
}

// TestKustomization_DependsOnAndSubstitution: apps waits for infra, which
// creates the namespace and the ConfigMap apps substitutes from.
func TestKustomization_DependsOnAndSubstitution(t *testing.T) {
	ns := namespace(t, "ks-deps")
	target := "ks-deps-apps"
	files := map[string]string{
		"infra/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + target + "\n",
		"app/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ` + target + `
spec:
  replicas: ${replicas:=1}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:${version}
`,
		"app/script.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: script
  namespace: ` + target + `
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  run.sh: echo ${HOME}
`,
	}
	_, first := gitSource(t, ns, files)
	t.Cleanup(func() { kubectl(t, "delete", "namespace", target, "--wait=false", "--ignore-not-found") })
	kubectl(t, "create", "configmap", "vars", "-n", ns, "--from-literal=version=6.5.0", "--from-literal=replicas=2")

	// apps first: it must wait for infra.
	apply(t, kustomizationFrom(ns, "apps", `  dependsOn:
  - name: infra
  postBuild:
    substitute:
      replicas: "3"
    substituteFrom:
    - kind: ConfigMap
      name: vars
    - kind: Secret
      name: missing-but-optional
      optional: true
`))
	waitForObject(t, "kustomizations", ns, "apps", 60*time.Second, "DependencyNotReady", func(obj map[string]interface{}) bool {
		s, reason, msg := condition(obj, "Ready")
		return s == "False" && reason == "DependencyNotReady" && strings.Contains(msg, "infra")
	})
	if out, _ := kubectlStdout(t, "", "get", "deployment", "web", "-n", target, "--ignore-not-found", "-o", "name"); len(out) != 0 {
		t.Fatalf("apps applied before its dependency: %s", out)
	}
	apply(t, strings.Replace(kustomizationFrom(ns, "infra", ""), "path: ./app", "path: ./infra", 1))
	waitForObject(t, "kustomizations", ns, "infra", 60*time.Second, "infra applied", appliedAt("main@sha1:"+first))
	waitForObject(t, "kustomizations", ns, "apps", 60*time.Second, "apps applied after infra", appliedAt("main@sha1:"+first))

	if got := jsonpath(t, "deployment", target, "web", "{.spec.replicas} {.spec.template.spec.containers[0].image}"); got != "3 ghcr.io/stefanprodan/podinfo:6.5.0" {
		t.Errorf("substituted deployment: %q (want replicas from spec.postBuild.substitute, version from the ConfigMap)", got)
	}
	if got := jsonpath(t, "configmap", target, "script", "{.data.run\\.sh}"); got != "echo ${HOME}" {
		t.Errorf("opted-out ConfigMap was substituted: %q", got)
	}
	infra := getObject(t, "kustomizations", ns, "infra")
	apps := getObject(t, "kustomizations", ns, "apps")
	if ti, ta := readyTime(infra), readyTime(apps); ta.Before(ti) {
		t.Errorf("apps ready at %v before infra at %v", ta, ti)
	}
}

func readyTime(obj map[string]interface{}) time.Time {
	st, _ := obj["status"].(map[string]interface{})
	conds, _ := st["conditions"].([]interface{})
	for _, c := range conds {
		m, _ := c.(map[string]interface{})
		if m["type"] == "Ready" {
			ts, _ := time.Parse(time.RFC3339, fmt.Sprint(m["lastTransitionTime"]))
			return ts
		}
	}
	return time.Time{}
}

// TestKustomization_BrokenManifestKeepsAppliedState: an invalid object
// makes Ready=False naming it, and nothing of the new revision is applied.
func TestKustomization_BrokenManifestKeepsAppliedState(t *testing.T) {
	ns := namespace(t, "ks-broken")
	repo, first := gitSource(t, ns, appFiles(1, "hello"))
	apply(t, kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+first))

	broken := appFiles(-1, "changed")
	second := repo.Commit(t, broken, "negative replicas")
	requestReconcile(t, ns, "gitrepositories", "app", "")
	obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "Ready=False for the broken revision", func(obj map[string]interface{}) bool {
		s, _, _ := condition(obj, "Ready")
		return s == "False" && nested(obj, "status", "lastAttemptedRevision") == "main@sha1:"+second
	})
	_, reason, msg := condition(obj, "Ready")
	if reason != "ReconciliationFailed" || !strings.Contains(msg, "Deployment/"+ns+"/web") || !strings.Contains(msg, "replicas") {
		t.Errorf("Ready reason %q message %q; want the object and the field named", reason, msg)
	}
	if got := nested(obj, "status", "lastAppliedRevision"); got != "main@sha1:"+first {
		t.Errorf("lastAppliedRevision = %q, want the last good one", got)
	}
	if got := jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}"); got != "hello" {
		t.Errorf("the ConfigMap of the broken revision was applied: greeting = %q", got)
	}

	t.Run("a syntax error is a BuildFailed naming the file", func(t *testing.T) {
		third := repo.Commit(t, map[string]string{"app/service.yaml": "apiVersion: v1\nkind: Service\nmetadata: [oops\n"}, "bad yaml")
		requestReconcile(t, ns, "gitrepositories", "app", "")
		obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "BuildFailed", func(obj map[string]interface{}) bool {
			s, reason, _ := condition(obj, "Ready")
			return s == "False" && reason == "BuildFailed" && nested(obj, "status", "lastAttemptedRevision") == "main@sha1:"+third
		})
		if _, _, msg := condition(obj, "Ready"); !strings.Contains(msg, "service.yaml") {
			t.Errorf("message %q does not name the file", msg)
		}
	})
}

// TestKustomization_DiffTreeAndSecrets: /diff shows a pending change and
// nothing once applied, /tree lists the objects, and a Secret's value
// never shows in /diff, events or logs.
func TestKustomization_DiffTreeAndSecrets(t *testing.T) {
	const secretValue = "s3cr3t-value-do-not-leak"
	const secretValue2 = "an0ther-s3cr3t-do-not-leak"
	ns := namespace(t, "ks-diff")
	files := appFiles(1, "hello")
	files["app/secret.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  token: " + secretValue + "\n"
	repo, first := gitSource(t, ns, files)
	apply(t, kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n"))
	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+first))

	base := "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/" + ns + "/kustomizations/app/"
	diff := func() (report struct {
		Revision string `json:"revision"`
		Objects  []struct {
			Object struct{ Kind, Name string } `json:"object"`
			Action string                      `json:"action"`
			Diff   string                      `json:"diff"`
		} `json:"objects"`
	}, raw string) {
		out, err := kubectlStdout(t, "", "get", "--raw", base+"diff")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &report); err != nil {
			t.Fatalf("diff %s: %v", out, err)
		}
		return report, string(out)
	}
	report, raw := diff()
	for _, o := range report.Objects {
		if o.Action != "unchanged" {
			t.Errorf("right after apply, %s/%s is %s: %s", o.Object.Kind, o.Object.Name, o.Action, o.Diff)
		}
	}
	if len(report.Objects) != 4 {
		t.Errorf("diff lists %d objects: %s", len(report.Objects), raw)
	}

	// Suspend, push a change, fetch it: the diff shows what would happen.
	kubectl(t, "patch", "kustomization", "app", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	changed := appFiles(4, "hello")
	changed["app/secret.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  token: " + secretValue2 + "\n"
	second := repo.Commit(t, changed, "four replicas, new token")
	requestReconcile(t, ns, "gitrepositories", "app", "")
	waitForObject(t, "gitrepositories", ns, "app", 60*time.Second, "second commit fetched", revisionIs("main@sha1:"+second))
	report, raw = diff()
	actions := map[string]string{}
	for _, o := range report.Objects {
		actions[o.Object.Kind+"/"+o.Object.Name] = o.Action
		if o.Object.Kind == "Deployment" && !strings.Contains(o.Diff, "replicas: 4") {
			t.Errorf("Deployment diff does not show the new replicas:\n%s", o.Diff)
		}
	}
	if actions["Deployment/web"] != "configured" || actions["Secret/creds"] != "configured" || actions["ConfigMap/web-config"] != "unchanged" {
		t.Errorf("actions %v", actions)
	}
	if report.Revision != "main@sha1:"+second {
		t.Errorf("diff revision %q", report.Revision)
	}
	text, err := kubectlStdout(t, "", "get", "--raw", base+"diff?format=text")
	if err != nil || !strings.Contains(string(text), "Deployment/"+ns+"/web") {
		t.Errorf("text diff %q (%v)", text, err)
	}
	if got := jsonpath(t, "deployment", ns, "web", "{.spec.replicas}"); got != "1" {
		t.Errorf("/diff changed the cluster: replicas = %s", got)
	}

	kubectl(t, "patch", "kustomization", "app", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "second revision applied", appliedAt("main@sha1:"+second))
	report, raw = diff()
	for _, o := range report.Objects {
		if o.Action != "unchanged" {
			t.Errorf("after apply, %s/%s is %s", o.Object.Kind, o.Object.Name, o.Action)
		}
	}

	tree, err := kubectlStdout(t, "", "get", "--raw", base+"tree?format=text")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Kustomization/" + ns + "/app", "Deployment/" + ns + "/web", "Service/" + ns + "/web", "ConfigMap/" + ns + "/web-config", "Secret/" + ns + "/creds"} {
		if !strings.Contains(string(tree), want) {
			t.Errorf("tree lacks %s:\n%s", want, tree)
		}
	}

	serverLog, err := os.ReadFile(cp.GitOpsLog())
	if err != nil || len(serverLog) == 0 {
		t.Fatalf("reading the server log %s: %v", cp.GitOpsLog(), err)
	}
	leaks := map[string]string{"/diff": raw, "/diff?format=text": string(text), "events": events(t, ns), "server log": string(serverLog)}
	for where, s := range leaks {
		for _, v := range []string{secretValue, secretValue2} {
			if strings.Contains(s, v) || strings.Contains(s, base64.StdEncoding.EncodeToString([]byte(v))) {
				t.Errorf("a Secret value appears in %s", where)
			}
		}
	}
}

// TestKustomization_ImpersonatedTenantWithoutRights: applying as a service
// account without RBAC fails with a clear, attributable error.
func TestKustomization_ImpersonatedTenantWithoutRights(t *testing.T) {
	ns := namespace(t, "ks-tenant")
	_, _ = gitSource(t, ns, appFiles(1, "hello"))
	kubectl(t, "create", "serviceaccount", "tenant", "-n", ns)
	apply(t, kustomizationFrom(ns, "app", "  targetNamespace: "+ns+"\n  serviceAccountName: tenant\n"))
	obj := waitForObject(t, "kustomizations", ns, "app", 60*time.Second, "Ready=False", func(obj map[string]interface{}) bool {
		s, _, _ := condition(obj, "Ready")
		return s == "False"
	})
	_, _, msg := condition(obj, "Ready")
	if !strings.Contains(msg, "forbidden") || !strings.Contains(msg, "system:serviceaccount:"+ns+":tenant") {
		t.Errorf("Ready message %q; want a forbidden error naming the service account", msg)
	}
	if out, _ := kubectlStdout(t, "", "get", "configmap", "web-config", "-n", ns, "--ignore-not-found", "-o", "name"); len(out) != 0 {
		t.Errorf("the tenant without rights applied %s", out)
	}
}
