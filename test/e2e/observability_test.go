package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/test/promql"
)

// fluxLogEntry is what `flux logs` decodes each JSON line into (flux2
// cmd/flux/logs.go ControllerLogEntry); it stops reading a pod's log at the
// first line starting with "{" that does not decode.
type fluxLogEntry struct {
	Timestamp      string `json:"ts"`
	Level          string `json:"level"`
	Message        string `json:"msg"`
	Error          string `json:"error,omitempty"`
	Logger         string `json:"logger"`
	Kind           string `json:"reconciler kind,omitempty"`
	ControllerKind string `json:"controllerKind,omitempty"`
	Name           string `json:"name,omitempty"`
	Namespace      string `json:"namespace,omitempty"`
}

// reconciledKinds are the kinds with a worker, and so a reconciliation.
var reconciledKinds = []string{"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket",
	"Kustomization", "HelmRelease", "Receiver", "ImageRepository", "ImagePolicy", "ImageUpdateAutomation"}

// TestObservability_JSONLogsAndTheDashboardsMetrics runs the server with
// --log-encoding=json and --metrics-addr, reconciles one object of every
// kind, and checks that
//   - every metric the Grafana dashboard and the PrometheusRule query is on
//     /metrics (secure port) and on the plain metrics port;
//   - request latency is there per subresource (here /artifact);
//   - every log line `flux logs` reads parses, runs carry Flux's keys, and
//     `flux logs --kind=Kustomization --name=app --namespace=<ns>` shows that
//     Kustomization's lines only.
func TestObservability_JSONLogsAndTheDashboardsMetrics(t *testing.T) {
	metricsAddr := freeAddr(t)
	cp.StopGitOps()
	logStart := fileSize(t, cp.GitOpsLog())
	restartGitOps(t, "--log-encoding=json", "--metrics-addr="+metricsAddr)

	ns := namespace(t, "obs")
	reconcileOneOfEachKind(t, ns)

	// Per-subresource latency: kube-apiserver's request metrics of this
	// server carry the subresource.
	if _, err := kubectlStdout(t, "", "get", "--raw", "/apis/source.toolkit.fluxcd.io/v1/namespaces/"+ns+"/gitrepositories/app/artifact"); err != nil {
		t.Fatal(err)
	}

	wanted := monitoringMetrics(t)
	var secure, plain string
	waitFor(t, 60*time.Second, "every queried metric on /metrics", func() bool {
		secure, plain = readMetrics(t, ""), readMetrics(t, metricsAddr)
		return len(missing(secure, wanted)) == 0 && len(missing(plain, wanted)) == 0
	})
	t.Logf("the dashboard and rules query %d metrics, all exported: %s", len(wanted), strings.Join(wanted, " "))
	if !strings.Contains(secure, `resource="gitrepositories",scope="resource",subresource="artifact"`) {
		t.Error("apiserver_request_duration_seconds has no series for the artifact subresource")
	}
	for _, kind := range reconciledKinds {
		if !strings.Contains(secure, `gotk_reconcile_duration_seconds_count{kind="`+kind+`"`) {
			t.Errorf("no gotk_reconcile_duration_seconds of %s", kind)
		}
		if !strings.Contains(secure, `controller_runtime_reconcile_total{controller="`+strings.ToLower(kind)+`"`) {
			t.Errorf("no controller_runtime_reconcile_total of %s", kind)
		}
	}

	checkFluxLogs(t, readFrom(t, cp.GitOpsLog(), logStart), ns)
}

// reconcileOneOfEachKind creates an object of every reconciled kind in ns
// (and an Alert and Provider that receive the GitRepository's events) and
// waits until each has been reconciled once.
func reconcileOneOfEachKind(t *testing.T, ns string) {
	t.Helper()
	hook := newRecorder(t)
	apply(t, fmt.Sprintf(`apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: hook, namespace: %[1]s}
spec: {type: generic, address: %[2]s}
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: all, namespace: %[1]s}
spec:
  providerRef: {name: hook}
  eventSeverity: info
  eventSources: [{kind: GitRepository, name: '*'}]
`, ns, hook.URL))
	_, rev := gitSource(t, ns, map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: obs, namespace: " + ns + "}\ndata: {a: b}\n",
	})
	apply(t, kustomizationFrom(ns, "app", ""))

	charts := newHelmRepoServer(t, "helm-user", "helm-pw")
	charts.publish(t, "web", "1.0.0")
	kubectl(t, "create", "secret", "generic", "helm-auth", "-n", ns, "--from-literal=username=helm-user", "--from-literal=password=helm-pw")
	apply(t, helmRepositoryFrom(ns, "charts", charts.URL+"/charts"))
	apply(t, helmChartFrom(ns, "web", "web", "1.0.x", "charts"))
	apply(t, helmReleaseFrom(ns, "web", ""))

	// Sources that cannot be reached are reconciled (and fail) all the same.
	apply(t, bucketFrom("v1", ns, "bucket", "127.0.0.1:1"))
	apply(t, ociRepositoryFrom("v1", ns, "oci", "oci://127.0.0.1:1/app", ""))
	apply(t, imageRepositoryFrom(ns, "img", "127.0.0.1:1/app", ""))
	apply(t, imagePolicyFrom(ns, "img", "img", "  policy:\n    semver:\n      range: '>=1.0.0'\n"))
	apply(t, imageUpdateAutomationFrom(ns, "iua", ""))
	kubectl(t, "create", "secret", "generic", "webhook-token", "-n", ns, "--from-literal=token=obs-token")
	apply(t, fmt.Sprintf(`apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: hook, namespace: %s}
spec:
  type: generic
  secretRef: {name: webhook-token}
  resources: [{kind: GitRepository, name: app}]
`, ns))

	waitForObject(t, "kustomizations", ns, "app", 90*time.Second, "applied", appliedAt("main@sha1:"+rev))
	for resource, name := range map[string]string{
		"helmrepositories": "charts", "helmcharts": "web", "helmreleases": "web", "buckets": "bucket",
		"ocirepositories": "oci", "imagerepositories": "img", "imagepolicies": "img",
		"imageupdateautomations": "iua", "receivers": "hook",
	} {
		waitForObject(t, resource, ns, name, 90*time.Second, "reconciled", func(obj map[string]interface{}) bool {
			s, _, _ := condition(obj, "Ready")
			return s != ""
		})
	}
	waitFor(t, 30*time.Second, "an event at the Provider", func() bool { return len(hook.all()) > 0 })
}

// monitoringMetrics are the metrics artifacts/monitoring's dashboard and
// alerts query.
func monitoringMetrics(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "..", "artifacts", "monitoring")
	data, err := os.ReadFile(filepath.Join(dir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := promql.ParseDashboard(data)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, n := range d.MetricNames() {
		set[n] = true
	}
	data, err = os.ReadFile(filepath.Join(dir, "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Expr string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatal(err)
	}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			for _, n := range promql.MetricNames(r.Expr) {
				set[n] = true
			}
		}
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	if len(out) < 20 {
		t.Fatalf("only %d metrics found in the dashboard and rules: %v", len(out), out)
	}
	return out
}

func missing(exposition string, names []string) []string {
	var out []string
	for _, n := range names {
		if !promql.Exported(exposition, n) {
			out = append(out, n)
		}
	}
	return out
}

// readMetrics reads /metrics from the secure port (addr "") or from the
// plain metrics port at addr.
func readMetrics(t *testing.T, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if addr == "" {
		body, err := cp.GitOpsGet(ctx, "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET http://%s/metrics: %d %v", addr, resp.StatusCode, err)
	}
	return string(body)
}

// checkFluxLogs reads the log as `flux logs` does.
func checkFluxLogs(t *testing.T, log []byte, ns string) {
	t.Helper()
	var entries []fluxLogEntry
	var raw []map[string]interface{}
	var other []string
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			if strings.TrimSpace(line) != "" {
				other = append(other, line)
			}
			continue
		}
		var e fluxLogEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("flux logs would stop at this line: %v\n%s", err, line)
		}
		var m map[string]interface{}
		_ = json.Unmarshal([]byte(line), &m)
		entries, raw = append(entries, e), append(raw, m)
	}
	if len(other) > 0 {
		t.Errorf("%d lines are not JSON, e.g. %q", len(other), other[0])
	}
	finished := map[string]bool{}
	for i, e := range entries {
		if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil || (e.Level != "info" && e.Level != "error" && e.Level != "debug" && e.Level != "trace") {
			t.Errorf("ts %q level %q", e.Timestamp, e.Level)
		}
		if e.Namespace != ns || !strings.HasPrefix(e.Message, "Reconciliation ") {
			continue
		}
		m := raw[i]
		ref, _ := m[e.ControllerKind].(map[string]interface{})
		if m["reconcileID"] == "" || m["reconcileID"] == nil || ref["name"] != e.Name || ref["namespace"] != ns || m["controller"] != strings.ToLower(e.ControllerKind) {
			t.Errorf("a run's line lacks Flux's keys: %v", m)
		}
		if strings.HasPrefix(e.Message, "Reconciliation finished") {
			finished[e.ControllerKind] = true
		}
	}
	for _, kind := range []string{"GitRepository", "Kustomization", "HelmRepository", "HelmChart", "HelmRelease"} {
		if !finished[kind] {
			t.Errorf("no \"Reconciliation finished\" line of a %s", kind)
		}
	}
	// flux logs --kind=Kustomization --name=app --namespace=<ns>
	applied := false
	for i, e := range entries {
		if !(strings.EqualFold("Kustomization", e.Kind) || strings.EqualFold("Kustomization", e.ControllerKind)) ||
			!strings.EqualFold("app", e.Name) || !strings.EqualFold(ns, e.Namespace) {
			continue
		}
		if e.ControllerKind != "Kustomization" || e.Name != "app" || e.Namespace != ns {
			t.Errorf("flux logs --kind=Kustomization --name=app shows %+v", e)
		}
		if rev, _ := raw[i]["revision"].(string); strings.HasPrefix(e.Message, "Reconciliation finished") && strings.HasPrefix(rev, "main@sha1:") {
			applied = true
		}
	}
	if !applied {
		t.Errorf("flux logs --kind=Kustomization --name=app --namespace=%s shows no finished run with its revision", ns)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func readFrom(t *testing.T, path string, offset int64) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[offset:]
}
