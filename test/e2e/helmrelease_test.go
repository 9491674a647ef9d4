package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
	"github.com/gitops-apiserver/gitops-apiserver/test/chartrepo"
)

// webChart is a small chart: a Deployment (replicas and nodeSelector from
// values), a ConfigMap with a greeting, a Secret with a token, and a test
// hook pod that the simulated node completes.
func webChart(t *testing.T, version string) []byte {
	t.Helper()
	archive, err := chartrepo.Package("web", version, map[string]string{
		"values.yaml": "replicaCount: 1\ngreeting: hello\ntoken: none\nnodeSelector: {}\n",
		"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector: {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:6.5.0
`,
		"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  greeting: {{ .Values.greeting | quote }}
`,
		"templates/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-token
stringData:
  token: {{ .Values.token | quote }}
`,
		"templates/tests/test-connection.yaml": `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  restartPolicy: Never
  containers:
  - name: curl
    image: curlimages/curl:8.8.0
    args: ["http://{{ .Release.Name }}"]
`,
	})
	if err != nil {
		t.Fatal(err)
	}
	return archive
}

// chartRepo serves web 1.0.0 from a loopback Helm repository behind basic
// auth, and declares a HelmRepository "charts" for it in ns.
func chartRepo(t *testing.T, ns string) *chartrepo.Repo {
	t.Helper()
	repo, err := chartrepo.NewRepo("flux", "chart-password")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(repo.Close)
	repo.Publish("web", "1.0.0", webChart(t, "1.0.0"))
	kubectl(t, "create", "secret", "generic", "charts-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=chart-password")
	apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: %s
spec:
  interval: 10m
  url: %s
  secretRef: {name: charts-auth}
`, ns, repo.URL()))
	return repo
}

func helmReleaseFrom(ns, name, extra string) string {
	return fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  chart:
    spec:
      chart: web
      version: "1.0.x"
      sourceRef:
        kind: HelmRepository
        name: charts
%s`, name, ns, extra)
}

// releasedAt is true once the HelmRelease is Ready at its generation with
// Helm release revision rev.
func releasedAt(rev int) func(map[string]interface{}) bool {
	return func(obj map[string]interface{}) bool {
		return readyAt(obj) && nested(obj, "status", "lastReleaseRevision") == fmt.Sprint(rev)
	}
}

// releaseSecrets lists the Helm release Secrets (sh.helm.release.v1.*) of
// a release in ns, as `helm history` reads them.
func releaseSecrets(t *testing.T, ns, name string) string {
	t.Helper()
	return kubectl(t, "get", "secrets", "-n", ns, "-l", "owner=helm,name="+name, "-o",
		`jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.status}{"\n"}{end}`)
}

// rollbackManifest returns the manifest of the release revision a
// rollback made (its description starts with "Rollback"), read from the
// release Secrets listed in secrets (name=status lines).
func rollbackManifest(t *testing.T, ns, secrets string) (string, bool) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(secrets), "\n") {
		name, _, _ := strings.Cut(line, "=")
		data := kubectl(t, "get", "secret", name, "-n", ns, "-o", "jsonpath={.data.release}")
		once, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			t.Fatalf("Secret %s: %v", name, err)
		}
		gz, err := base64.StdEncoding.DecodeString(string(once))
		if err != nil {
			t.Fatalf("Secret %s: %v", name, err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("Secret %s: %v", name, err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("Secret %s: %v", name, err)
		}
		var rel struct {
			Info struct {
				Description string `json:"description"`
			} `json:"info"`
			Manifest string `json:"manifest"`
		}
		if err := json.Unmarshal(raw, &rel); err != nil {
			t.Fatalf("Secret %s: %v", name, err)
		}
		if strings.HasPrefix(rel.Info.Description, "Rollback") {
			return rel.Manifest, true
		}
	}
	return "", false
}

// TestHelmRelease_InstallUpgradeTestRollbackUninstall follows a release
// through its life on the local cluster: install with tests from a
// repository that needs credentials, an upgrade on a values change
// (revision 2 in Helm's storage), /tree and /diff, a failing upgrade
// rolled back, and the uninstall when the HelmRelease is deleted.
func TestHelmRelease_InstallUpgradeTestRollbackUninstall(t *testing.T) {
	ns := namespace(t, "hr-life")
	chartRepo(t, ns)
	apply(t, helmReleaseFrom(ns, "web", "  test: {enable: true}\n  values: {greeting: hello}\n"))

	obj := waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "installed", releasedAt(1))
	if s, reason, msg := condition(obj, "Released"); s != "True" || reason != "InstallSucceeded" || !strings.Contains(msg, ns+"/web.v1") {
		t.Errorf("Released %s %s %q", s, reason, msg)
	}
	if s, reason, _ := condition(obj, "TestSuccess"); s != "True" || reason != "TestSucceeded" {
		t.Errorf("TestSuccess %s %s", s, reason)
	}
	if got := nested(obj, "status", "helmChart"); got != ns+"/"+ns+"-web" {
		t.Errorf("status.helmChart = %q", got)
	}
	if got := jsonpath(t, "deployment", ns, "web", "{.status.availableReplicas}"); got != "1" {
		t.Errorf("availableReplicas = %q", got)
	}
	if got := jsonpath(t, "deployment", ns, "web", "{.metadata.managedFields[*].manager}"); !strings.Contains(got, "helm-controller") {
		t.Errorf("field managers %q, want helm-controller", got)
	}
	if got := releaseSecrets(t, ns, "web"); !strings.Contains(got, "sh.helm.release.v1.web.v1=deployed") {
		t.Errorf("release Secrets:\n%s", got)
	}
	if inv, _ := json.Marshal(obj["status"].(map[string]interface{})["inventory"]); !strings.Contains(string(inv), ns+"_web_apps_Deployment") {
		t.Errorf("inventory %s", inv)
	}

	t.Run("a values change upgrades to revision 2", func(t *testing.T) {
		kubectl(t, "patch", "helmrelease", "web", "-n", ns, "--type=merge", "-p", `{"spec":{"values":{"greeting":"hi"}}}`)
		obj := waitForObject(t, "helmreleases", ns, "web", 90*time.Second, "upgraded", releasedAt(2))
		if _, reason, _ := condition(obj, "Released"); reason != "UpgradeSucceeded" {
			t.Errorf("Released reason %s", reason)
		}
		if got := jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}"); got != "hi" {
			t.Errorf("greeting = %q", got)
		}
		if got := releaseSecrets(t, ns, "web"); !strings.Contains(got, "web.v1=superseded") || !strings.Contains(got, "web.v2=deployed") {
			t.Errorf("release Secrets:\n%s", got)
		}
		if h := obj["status"].(map[string]interface{})["history"].([]interface{}); len(h) != 2 {
			t.Errorf("status.history has %d entries", len(h))
		}
	})

	t.Run("tree lists the release's objects", func(t *testing.T) {
		out := kubectl(t, "get", "--raw", "/apis/helm.toolkit.fluxcd.io/v2/namespaces/"+ns+"/helmreleases/web/tree?format=text")
		for _, want := range []string{"Deployment/" + ns + "/web", "ConfigMap/" + ns + "/web-config"} {
			if !strings.Contains(out, want) {
				t.Errorf("tree lacks %s:\n%s", want, out)
			}
		}
	})

	t.Run("diff shows a pending change", func(t *testing.T) {
		kubectl(t, "patch", "helmrelease", "web", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true,"values":{"greeting":"pending"}}}`)
		out := kubectl(t, "get", "--raw", "/apis/helm.toolkit.fluxcd.io/v2/namespaces/"+ns+"/helmreleases/web/diff?format=text")
		if !strings.Contains(out, "ConfigMap/"+ns+"/web-config") || !strings.Contains(out, "pending") {
			t.Errorf("diff does not show the new greeting:\n%s", out)
		}
		if got := jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}"); got != "hi" {
			t.Errorf("/diff changed the cluster: greeting = %q", got)
		}
		kubectl(t, "patch", "helmrelease", "web", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":false,"values":{"greeting":"hi"}}}`)
		waitForObject(t, "helmreleases", ns, "web", 60*time.Second, "resumed", releasedAt(2))
	})

	t.Run("a failing upgrade is rolled back", func(t *testing.T) {
		kubectl(t, "patch", "helmrelease", "web", "-n", ns, "--type=merge", "-p",
			`{"spec":{"timeout":"5s","upgrade":{"remediation":{"retries":1}},"values":{"nodeSelector":{"disktype":"none-has-this"}}}}`)
		// With retries 1 the worker retries at once after the rollback, so
		// the live Deployment and the Remediated condition may already show
		// the retry: the rollback is checked in what it left, its event and
		// its release revision, once the retry has failed too and the
		// release stalls (retries exhausted).
		obj := waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "stalled", func(o map[string]interface{}) bool {
			s, _, _ := condition(o, "Stalled")
			return s == "True"
		})
		_, _, msg := condition(obj, "Released")
		t.Logf("Released: %s", msg)
		if out := kubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=web,reason=RollbackSucceeded", "-o", "name"); strings.TrimSpace(out) == "" {
			t.Error("no RollbackSucceeded event for the HelmRelease")
		}
		secrets := releaseSecrets(t, ns, "web")
		if !strings.Contains(secrets, "=failed") {
			t.Errorf("release Secrets after the rollback:\n%s", secrets)
		}
		manifest, ok := rollbackManifest(t, ns, secrets)
		switch {
		case !ok:
			t.Errorf("no rollback revision among the release Secrets:\n%s", secrets)
		case strings.Contains(manifest, "none-has-this"):
			t.Errorf("the rollback released the failing nodeSelector:\n%s", manifest)
		case !strings.Contains(manifest, "kind: Deployment"):
			t.Errorf("the rollback revision has no Deployment:\n%s", manifest)
		}
	})

	t.Run("deleting the HelmRelease uninstalls", func(t *testing.T) {
		kubectl(t, "delete", "helmrelease", "web", "-n", ns, "--timeout=90s")
		if got := releaseSecrets(t, ns, "web"); strings.TrimSpace(got) != "" {
			t.Errorf("release Secrets left:\n%s", got)
		}
		for _, kind := range []string{"deployment/web", "configmap/web-config", "helmchart/" + ns + "-web"} {
			out, err := kubectlStdout(t, "", "get", kind, "-n", ns, "--ignore-not-found", "-o", "name")
			if err != nil || strings.TrimSpace(string(out)) != "" {
				t.Errorf("%s still there: %q %v", kind, out, err)
			}
		}
	})
}

// TestHelmRelease_ValuesFromSecretNeverLeak composes values from a Secret
// (whole document and targetPath) and a ConfigMap; the Secret's values
// reach the release but never status, events or /diff.
func TestHelmRelease_ValuesFromSecretNeverLeak(t *testing.T) {
	const secret = "hr-s3cr3t-do-not-leak"
	ns := namespace(t, "hr-values")
	chartRepo(t, ns)
	kubectl(t, "create", "configmap", "web-values", "-n", ns, "--from-literal=values.yaml=greeting: from-configmap\nreplicaCount: 1\n")
	kubectl(t, "create", "secret", "generic", "web-token", "-n", ns, "--from-literal=token="+secret)
	apply(t, helmReleaseFrom(ns, "web", `  valuesFrom:
  - kind: ConfigMap
    name: web-values
  - kind: Secret
    name: web-token
    valuesKey: token
    targetPath: token
  - kind: Secret
    name: optional-missing
    optional: true
  values:
    replicaCount: 1
`))
	waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "installed", releasedAt(1))
	if got := jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}"); got != "from-configmap" {
		t.Errorf("greeting = %q", got)
	}
	if got := jsonpath(t, "secret", ns, "web-token", "{.data.token}"); got == "" {
		t.Error("the chart's Secret has no token")
	}
	kubectl(t, "patch", "helmrelease", "web", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	kubectl(t, "create", "secret", "generic", "web-token2", "-n", ns, "--from-literal=token="+secret+"-2")
	kubectl(t, "patch", "helmrelease", "web", "-n", ns, "--type=json", "-p", `[{"op":"replace","path":"/spec/valuesFrom/1/name","value":"web-token2"}]`)
	diff := kubectl(t, "get", "--raw", "/apis/helm.toolkit.fluxcd.io/v2/namespaces/"+ns+"/helmreleases/web/diff?format=text")
	for where, text := range map[string]string{
		"status": kubectl(t, "get", "helmrelease", "web", "-n", ns, "-o", "yaml"),
		"events": events(t, ns),
		"/diff":  diff,
	} {
		if strings.Contains(text, secret) {
			t.Errorf("the Secret's value appears in %s", where)
		}
	}
	if !strings.Contains(diff, "Secret/"+ns+"/web-token") {
		t.Errorf("/diff does not list the changed Secret:\n%s", diff)
	}
}

// TestHelmRelease_ChartFromOCIRegistry releases a chart pushed to a
// loopback OCI registry, through an OCIRepository (spec.chartRef).
func TestHelmRelease_ChartFromOCIRegistry(t *testing.T) {
	ns := namespace(t, "hr-oci")
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	layer := ocitest.Layer(t, webChart(t, "2.0.0"), "application/vnd.cncf.helm.chart.content.v1.tar+gzip")
	reg.Push(t, "charts/web", "2.0.0", ocitest.ImageWithLayers(t, nil, layer))
	apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: web
  namespace: %s
spec:
  interval: 10m
  url: %s
  insecure: true
  ref: {semver: ">=2.0.0"}
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: %s
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: web}
  values: {greeting: from-oci}
`, ns, reg.URL("charts/web"), ns))
	obj := waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "installed", releasedAt(1))
	if got := nested(obj, "status", "lastAttemptedRevision"); got != "2.0.0" {
		t.Errorf("lastAttemptedRevision = %q", got)
	}
	if got := jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}"); got != "from-oci" {
		t.Errorf("greeting = %q", got)
	}
}

// TestHelmRelease_DependsOnAKustomization waits for a Kustomization (a
// dependency kind Flux does not allow) and releases once it is Ready.
func TestHelmRelease_DependsOnAKustomization(t *testing.T) {
	ns := namespace(t, "hr-deps")
	chartRepo(t, ns)
	_, rev := gitSource(t, ns, map[string]string{"infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: infra}\ndata: {a: b}\n"})
	apply(t, kustomizationAt(ns, "infra", "./infra", "  suspend: true\n"))
	apply(t, helmReleaseFrom(ns, "web", "  dependsOn:\n  - kind: Kustomization\n    name: infra\n"))
	waitForObject(t, "helmreleases", ns, "web", 60*time.Second, "waiting for the Kustomization", func(o map[string]interface{}) bool {
		_, reason, msg := condition(o, "Ready")
		return reason == "DependencyNotReady" && strings.Contains(msg, "Kustomization/"+ns+"/infra")
	})
	if out, _ := kubectlStdout(t, "", "get", "deployment", "web", "-n", ns, "--ignore-not-found", "-o", "name"); strings.TrimSpace(string(out)) != "" {
		t.Fatal("released before its dependency was ready")
	}
	kubectl(t, "patch", "kustomization", "infra", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	waitForObject(t, "kustomizations", ns, "infra", 60*time.Second, "applied", appliedAt("main@sha1:"+rev))
	waitForObject(t, "helmreleases", ns, "web", 90*time.Second, "installed after the dependency", releasedAt(1))
}

// TestHelmRelease_DriftIsCorrected edits a release object by hand; with
// driftDetection enabled the next run applies it back and says so.
func TestHelmRelease_DriftIsCorrected(t *testing.T) {
	ns := namespace(t, "hr-drift")
	chartRepo(t, ns)
	apply(t, helmReleaseFrom(ns, "web", "  driftDetection: {mode: enabled}\n"))
	waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "installed", releasedAt(1))
	kubectl(t, "patch", "configmap", "web-config", "-n", ns, "--type=merge", "-p", `{"data":{"greeting":"edited by hand"}}`)
	kubectl(t, "scale", "deployment", "web", "-n", ns, "--replicas=3")
	kubectl(t, "annotate", "helmrelease", "web", "-n", ns, "--overwrite", "reconcile.fluxcd.io/requestedAt="+time.Now().Format(time.RFC3339Nano))
	waitFor(t, 60*time.Second, "the drift corrected", func() bool {
		return jsonpath(t, "configmap", ns, "web-config", "{.data.greeting}") == "hello" &&
			jsonpath(t, "deployment", ns, "web", "{.spec.replicas}") == "1"
	})
	waitFor(t, 30*time.Second, "a DriftCorrected event", func() bool {
		return strings.Contains(events(t, ns), "DriftCorrected")
	})
	// Correcting drift is no new release.
	if got := releaseSecrets(t, ns, "web"); strings.Contains(got, "web.v2") {
		t.Errorf("drift correction made a new revision:\n%s", got)
	}
}

// TestHelmRelease_CELHealthCheckExprs: Helm's wait assesses the kinds
// healthCheckExprs covers with their expressions instead of kstatus: the
// chart's ConfigMap (Current for kstatus at once) holds the install until
// the expression is true, so the install times out; with values that make
// it true the release is Ready.
func TestHelmRelease_CELHealthCheckExprs(t *testing.T) {
	ns := namespace(t, "it-hr-cel")
	chartRepo(t, ns)
	const exprs = `  timeout: 5s
  install:
    remediation:
      retries: 0
  healthCheckExprs:
  - apiVersion: v1
    kind: ConfigMap
    current: "data.greeting == 'ready'"
`
	apply(t, helmReleaseFrom(ns, "web", exprs+"  values:\n    greeting: hello\n"))
	obj := waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "the install failing its health check", func(o map[string]interface{}) bool {
		s, reason, _ := condition(o, "Ready")
		return s == "False" && reason == "InstallFailed"
	})
	if _, _, msg := condition(obj, "Ready"); !strings.Contains(msg, "ConfigMap") && !strings.Contains(msg, "context deadline exceeded") {
		t.Logf("Ready message: %s", msg)
	}
	apply(t, helmReleaseFrom(ns, "web", exprs+"  values:\n    greeting: ready\n"))
	waitForObject(t, "helmreleases", ns, "web", 120*time.Second, "Ready once the expression holds", readyAt)
}
