package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
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

func TestHelmReferenceDocs_CarryHelmsMetadata(t *testing.T) {
	docs := helmReferenceDocs(2, "bench-ref-b")
	if len(docs) != 8 {
		t.Fatalf("%d documents, want 8", len(docs))
	}
	app1 := strings.Join(docs[4:], "---\n")
	for _, want := range []string{"kind: ServiceAccount", "namespace: bench-ref-b-1", "app.kubernetes.io/managed-by: Helm",
		"meta.helm.sh/release-name: bench-ref-b-1-app-1", "meta.helm.sh/release-namespace: bench-ref-b-1", "replicas: 0"} {
		if !strings.Contains(app1, want) {
			t.Errorf("app 1's objects lack %q", want)
		}
	}
}

func TestChartArchive_HoldsTheAppsObjects(t *testing.T) {
	archive, err := chartArchive(2)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	if !strings.Contains(files["app/Chart.yaml"], "version: 1.0.1") {
		t.Errorf("Chart.yaml: %q", files["app/Chart.yaml"])
	}
	if !strings.Contains(files["app/templates/configmap.yaml"], `version: "2"`) || strings.Contains(files["app/templates/deployment.yaml"], "namespace:") {
		t.Errorf("templates: %v", files)
	}
	if len(files) != 5 {
		t.Errorf("%d files, want Chart.yaml and 4 templates", len(files))
	}
}

func TestMarkdown_NamesTheWorkload(t *testing.T) {
	rep := &report{Workload: workloadHelmRelease, Runs: []*runResult{{N: 10, Run: 1, AllReady: 2, Phase2Reconcile: 3}}}
	md := rep.markdown()
	for _, want := range []string{"# HelmRelease benchmark", "ours: all HelmReleases Ready", "ours: all HelmCharts Ready", "chart 1.0.1 released everywhere"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Kustomization") || strings.Contains(md, "polling") {
		t.Errorf("a HelmRelease report speaks of Kustomizations:\n%s", md)
	}
	if md := (&report{Runs: rep.Runs}).markdown(); !strings.Contains(md, "ours: all Kustomizations Ready") {
		t.Errorf("a report without a workload is the Kustomization benchmark:\n%s", md)
	}
}
