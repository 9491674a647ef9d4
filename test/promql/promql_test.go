package promql

import (
	"strings"
	"testing"
)

func TestMetricNames_FindsMetricsNotFunctionsLabelsOrNumbers(t *testing.T) {
	for expr, want := range map[string]string{
		`gotk_reconcile_condition{type="Ready",status="False"} == 1`:                                                                            "gotk_reconcile_condition",
		`histogram_quantile(0.99, sum by (le, kind) (rate(gotk_reconcile_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))`: "gotk_reconcile_duration_seconds_bucket",
		`sum(rate(a_total[5m])) by (controller) / on (controller) group_left() max(b) offset 1h`:                                                "a_total b",
		`max by (kind, namespace, name) (x{type="Ready"}) unless on (kind, namespace, name) (y == 1)`:                                           "x y",
		`topk(10, c{name=~"foo|bar(baz)"}) > 1e3 and d`:                                                                                         "c d",
		`increase(gotk_workers_lease_lost_total[10m]) > 0`:                                                                                      "gotk_workers_lease_lost_total",
		`e / f * 100 < bool 10`:                        "e f",
		`label_replace(g, "dst", "$1", "src", "(.*)")`: "g",
	} {
		if got := strings.Join(MetricNames(expr), " "); got != want {
			t.Errorf("MetricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}

func TestParseDashboard_ReadsPanelsRowsAndVariables(t *testing.T) {
	d, err := ParseDashboard([]byte(`{
  "panels": [
    {"title": "A", "targets": [{"refId": "A", "expr": "rate(m1_total[5m])"}]},
    {"type": "row", "title": "R", "panels": [{"title": "B", "targets": [{"refId": "A", "expr": "m2"}]}]}
  ],
  "templating": {"list": [
    {"name": "ds", "type": "datasource", "query": "prometheus"},
    {"name": "ns", "type": "query", "query": {"query": "label_values(m3, namespace)"}},
    {"name": "k", "type": "query", "query": "label_values(kind)"},
    {"name": "q", "type": "query", "query": "query_result(topk(3, m4))"}
  ]}
}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.MetricNames(), " "); got != "m1_total m2 m3 m4" {
		t.Errorf("metrics %q", got)
	}
}

func TestExported_MatchesWholeNames(t *testing.T) {
	exp := "# HELP a_total x\na_total{x=\"1\"} 2\nb 3\nc_bucket{le=\"1\"} 1\n"
	for name, want := range map[string]bool{"a_total": true, "a": false, "b": true, "c_bucket": true, "c": false} {
		if Exported(exp, name) != want {
			t.Errorf("Exported(%s) = %v", name, !want)
		}
	}
}
