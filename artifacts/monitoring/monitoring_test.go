// Package monitoring holds no code: these tests check the Prometheus
// Operator objects and the Grafana dashboard of this directory, whose CRDs
// are not installed where the tests run. test/e2e checks that every metric
// they query is exported.
package monitoring

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/test/promql"
)

// The parts of the CRDs (monitoring.coreos.com/v1) we use. Decoding is
// strict, so a misspelt field fails instead of being ignored by the
// operator.
type objectMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
}

type serviceMonitor struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
			HonorLabels   bool   `json:"honorLabels"`
		} `json:"endpoints"`
	} `json:"spec"`
}

type prometheusRule struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

type service struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		Selector map[string]string `json:"selector"`
		Ports    []struct {
			Name       string `json:"name"`
			Port       int    `json:"port"`
			TargetPort string `json:"targetPort"`
		} `json:"ports"`
	} `json:"spec"`
}

func decodeStrict(t *testing.T, file string, into interface{}) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

var promDuration = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)

func TestServiceMonitor_ScrapesTheMetricsServiceOfTheServersPods(t *testing.T) {
	var sm serviceMonitor
	decodeStrict(t, "servicemonitor.yaml", &sm)
	var svc service
	decodeStrict(t, "service.yaml", &svc)

	if sm.APIVersion != "monitoring.coreos.com/v1" || sm.Kind != "ServiceMonitor" || sm.Metadata.Name == "" {
		t.Errorf("ServiceMonitor header: %s %s %s", sm.APIVersion, sm.Kind, sm.Metadata.Name)
	}
	if svc.APIVersion != "v1" || svc.Kind != "Service" {
		t.Errorf("Service header: %s %s", svc.APIVersion, svc.Kind)
	}
	if len(sm.Spec.NamespaceSelector.MatchNames) != 1 || sm.Spec.NamespaceSelector.MatchNames[0] != svc.Metadata.Namespace {
		t.Errorf("namespaceSelector %v does not select the Service's namespace %s", sm.Spec.NamespaceSelector.MatchNames, svc.Metadata.Namespace)
	}
	if len(sm.Spec.Selector.MatchLabels) == 0 {
		t.Error("the ServiceMonitor selects no labels")
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service lacks", k, v)
		}
	}
	ports := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = true
	}
	if len(sm.Spec.Endpoints) == 0 {
		t.Fatal("no endpoints")
	}
	for _, e := range sm.Spec.Endpoints {
		if !ports[e.Port] {
			t.Errorf("endpoint port %q is not a port of the Service", e.Port)
		}
		if e.Path != "/metrics" || !promDuration.MatchString(e.Interval) || !promDuration.MatchString(e.ScrapeTimeout) {
			t.Errorf("endpoint %+v", e)
		}
		if !e.HonorLabels {
			t.Error("without honorLabels the objects' namespace label becomes exported_namespace, which the dashboard does not query")
		}
	}

	// The Service selects the pods of artifacts/deploy's Deployment.
	var deploy struct {
		Spec struct {
			Template struct {
				Metadata objectMeta `json:"metadata"`
			} `json:"template"`
		} `json:"spec"`
	}
	data, err := os.ReadFile("../deploy/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &deploy); err != nil {
		t.Fatal(err)
	}
	for k, v := range svc.Spec.Selector {
		if deploy.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, which the Deployment's pods lack", k, v)
		}
	}
}

func TestPrometheusRule_AlertsAreWellFormed(t *testing.T) {
	var rule prometheusRule
	decodeStrict(t, "prometheusrule.yaml", &rule)
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" || rule.Metadata.Name == "" {
		t.Errorf("PrometheusRule header: %s %s %s", rule.APIVersion, rule.Kind, rule.Metadata.Name)
	}
	alerts := map[string]bool{}
	for _, g := range rule.Spec.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q has no name or no rules", g.Name)
		}
		for _, r := range g.Rules {
			alerts[r.Alert] = true
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("rule %+v has no alert name or expression", r)
			}
			if r.For != "" && !promDuration.MatchString(r.For) {
				t.Errorf("%s: for %q is not a duration", r.Alert, r.For)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: no summary or description", r.Alert)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") || strings.Count(r.Expr, "{") != strings.Count(r.Expr, "}") {
				t.Errorf("%s: unbalanced brackets in %s", r.Alert, r.Expr)
			}
			if len(promql.MetricNames(r.Expr)) == 0 {
				t.Errorf("%s queries no metric: %s", r.Alert, r.Expr)
			}
		}
	}
	// The three: a reconciliation failing for N minutes, a worker
	// Lease lost, the artifact store nearly full.
	for _, want := range []string{"GitOpsReconciliationFailing", "GitOpsWorkersLeaseLost", "GitOpsWorkersNotRunning", "GitOpsArtifactStoreNearlyFull"} {
		if !alerts[want] {
			t.Errorf("no alert %s", want)
		}
	}
}

func TestDashboard_QueriesAreWellFormed(t *testing.T) {
	data, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string `json:"uid"`
		Title      string `json:"title"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			GridPos struct {
				W, H, X, Y int
			} `json:"gridPos"`
			Targets []struct {
				RefID      string `json:"refId"`
				Expr       string `json:"expr"`
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard has no uid or title")
	}
	vars := map[string]bool{"__rate_interval": true, "__interval": true, "__all": true}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	usedVar := regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	for _, p := range d.Panels {
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.RefID == "" || tg.Expr == "" || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: target %+v", p.Title, tg)
			}
			if len(promql.MetricNames(tg.Expr)) == 0 {
				t.Errorf("panel %q queries no metric: %s", p.Title, tg.Expr)
			}
			for _, m := range usedVar.FindAllStringSubmatch(tg.Expr, -1) {
				if !vars[m[1]] {
					t.Errorf("panel %q uses $%s, which is not a variable", p.Title, m[1])
				}
			}
		}
	}
	parsed, err := promql.ParseDashboard(data)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(parsed.MetricNames()); n < 20 {
		t.Errorf("the dashboard queries %d metrics: %v", n, parsed.MetricNames())
	}
}

func TestKustomization_ListsEveryFile(t *testing.T) {
	var k struct {
		Resources          []string `json:"resources"`
		ConfigMapGenerator []struct {
			Files []string `json:"files"`
		} `json:"configMapGenerator"`
	}
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range k.Resources {
		listed[r] = true
	}
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.Files {
			listed[f] = true
		}
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".json")) && n != "kustomization.yaml" && !listed[n] {
			t.Errorf("%s is not in kustomization.yaml", n)
		}
	}
	for n := range listed {
		if _, err := os.Stat(n); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", n, err)
		}
	}
}
