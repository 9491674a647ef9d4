package main

import (
	"strings"
	"testing"
)

func TestParseRequestCounts_CountsConflictsByResource(t *testing.T) {
	before, err := parseRequestCounts([]byte(`# HELP apiserver_request_total x
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 10
apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="APPLY",version="v1"} 1
apiserver_request_total_other{code="409"} 99
`))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseRequestCounts([]byte(`apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 30
apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="APPLY",version="v1"} 3
apiserver_request_total{code="409",component="apiserver",dry_run="",group="source.toolkit.fluxcd.io",resource="gitrepositories",scope="resource",subresource="status",verb="UPDATE",version="v1"} 2
apiserver_request_total{code="409",component="apiserver",dry_run="",group="networking.k8s.io",resource="ipaddresses",scope="resource",subresource="",verb="POST",version="v1"} 1
`))
	if err != nil {
		t.Fatal(err)
	}
	d := after.since(before)
	if d.Total != 25 {
		t.Errorf("total = %v, want 25", d.Total)
	}
	want := "configmaps APPLY: 2, source.toolkit.fluxcd.io/gitrepositories/status UPDATE: 2, " +
		"networking.k8s.io/ipaddresses POST: 1 (kube-apiserver's own, not counted)"
	if got := d.breakdown(); got != want {
		t.Errorf("breakdown = %q, want %q", got, want)
	}
	if d.conflicts() != 4 {
		t.Errorf("conflicts = %v, want 4", d.conflicts())
	}
}

func TestStats_MedianAndSpreadOfMeasuredRuns(t *testing.T) {
	runs := []*runResult{{AllReady: 3}, {AllReady: 0}, {AllReady: 1}, {AllReady: 2}}
	s := stats(runs, func(r *runResult) (float64, bool) { return positive(r.AllReady) })
	if s != (stat{med: 2, min: 1, max: 3, n: 3}) {
		t.Errorf("stats = %+v", s)
	}
	if got := s.cell(seconds); got != "2.0 s (1.0 s – 3.0 s)" {
		t.Errorf("cell = %q", got)
	}
}

func TestTopReasons_GroupsAcrossApps(t *testing.T) {
	why := map[string]string{
		"app-1": "ServiceAccount/bench-1/web forbidden",
		"app-2": "ServiceAccount/bench-2/web forbidden",
		"app-3": "no Ready condition yet",
	}
	got := topReasons(why, 5)
	if len(got) != 2 || got[0] != (pendingReason{Reason: "ServiceAccount/bench-<i>/web forbidden", Count: 2}) {
		t.Errorf("topReasons = %+v", got)
	}
}

func TestReferenceDocs_AreTheAppsObjects(t *testing.T) {
	docs := referenceDocs(2, "bench-ref-a")
	if len(docs) != 8 {
		t.Fatalf("%d documents, want 8", len(docs))
	}
	for _, want := range []string{"kind: Deployment", "namespace: bench-ref-a-1", "kustomize.toolkit.fluxcd.io/name: app-1", "replicas: 0"} {
		if !strings.Contains(strings.Join(docs[4:], "---\n"), want) {
			t.Errorf("app 1's objects lack %q", want)
		}
	}
}
