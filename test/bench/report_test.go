package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
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
	if got := d.Failed["source.toolkit.fluxcd.io/gitrepositories/status UPDATE 409"]; got != 2 {
		t.Errorf("failed = %v, want 2 gitrepositories/status 409s", d.Failed)
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

func TestParseRequestCounts_VerbsDryRunsAndReconciles(t *testing.T) {
	c, err := parseRequestCounts([]byte(`apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="APPLY",version="v1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="All",group="",resource="configmaps",scope="resource",subresource="",verb="APPLY",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="nodes",scope="resource",subresource="status",verb="PATCH",version="v1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="cluster",subresource="",verb="LIST",version="v1"} 4
gotk_reconcile_total{kind="Kustomization",result="succeeded"} 10
gotk_reconcile_total{kind="Kustomization",result="failed"} 1
gotk_reconcile_total{kind="GitRepository",result="succeeded"} 5
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"APPLY": 3, "APPLY dry-run": 2, "PUT": 7, "PATCH": 1, "LIST": 4}
	if !maps.Equal(c.ByVerb, want) {
		t.Errorf("ByVerb = %v, want %v", c.ByVerb, want)
	}
	if want := map[string]float64{"Kustomization": 11, "GitRepository": 5}; !maps.Equal(c.Reconciles, want) {
		t.Errorf("Reconciles = %v, want %v", c.Reconciles, want)
	}
	writes, background := splitWrites(c.ByKind)
	if want := map[string]float64{"configmaps APPLY": 5}; !maps.Equal(writes, want) {
		t.Errorf("writes = %v, want %v", writes, want)
	}
	if want := map[string]float64{"coordination.k8s.io/leases PUT": 7, "nodes/status PATCH": 1}; !maps.Equal(background, want) {
		t.Errorf("background = %v, want %v", background, want)
	}
	d := c.since(requestCounts{ByVerb: map[string]float64{"APPLY": 1}, Reconciles: map[string]float64{"GitRepository": 5}})
	if d.ByVerb["APPLY"] != 2 || d.Reconciles["Kustomization"] != 11 || d.Reconciles["GitRepository"] != 0 {
		t.Errorf("since: ByVerb %v, Reconciles %v", d.ByVerb, d.Reconciles)
	}
}

func TestIdleResult_PerAppAndInterval(t *testing.T) {
	i := &idleResult{IntervalSeconds: 60, WindowSeconds: 120,
		KubeWrites: map[string]float64{"configmaps APPLY": 400}, GitOpsWrites: map[string]float64{"x PUT": 100},
		FluxChanges: map[string]float64{"Kustomization": 150, "GitRepository": 50}}
	// 400 kube-apiserver writes and 200 Flux object changes (more than the
	// 100 write requests) over two intervals, 100 apps.
	if got := i.perAppInterval(i.writes(), 100); got != 3 {
		t.Errorf("writes per app per interval = %v, want 3", got)
	}
	if got := (*idleResult)(nil).perAppInterval(5, 100); got != 0 {
		t.Errorf("nil result: %v", got)
	}
}

func TestMarkdown_IdleAndFeedFloor(t *testing.T) {
	r := &runResult{N: 100, Run: 1, AllReady: 10, RefB: 4, FeedFloor: 5, Idle: &idleResult{
		IntervalSeconds: 60, WindowSeconds: 60,
		KubeByVerb:   map[string]float64{"APPLY": 400, "GET": 50},
		GitOpsByVerb: map[string]float64{"PUT": 200},
		KubeWrites:   map[string]float64{"configmaps APPLY": 400},
		GitOpsWrites: map[string]float64{"kustomize.toolkit.fluxcd.io/kustomizations/status PUT": 200},
		FluxChanges:  map[string]float64{"Kustomization": 100},
		Reconciles:   map[string]float64{"Kustomization": 100, "GitRepository": 98},
		CPU:          cpuUse{GitOps: 3, Kube: 2},
	}}
	md := (&report{ReferenceFresh: true, Runs: []*runResult{r}}).markdown()
	for _, want := range []string{
		"| N | runs complete | ours: all Kustomizations Ready | ours / ref (b) | ours / feed floor |",
		"| 100 | 1/1 | 10.0 s | 2.50× | 2.00× |",
		"| 6.00 | 50.0 ms |", // summary: idle writes and CPU per app per interval
		"| idle: writes per app per interval | 6.00 |",
		"| idle: Kustomization runs per app in the window | 1.00 |",
		"| idle: GitRepository runs per app in the window | 0.98 |",
		"| idle: CPU per app per interval, gitops-apiserver | 30.0 ms |",
		"| APPLY | 4.00 | 0.00 |", "| PUT | 0.00 | 2.00 |",
		"each on a fresh control plane",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	helm := (&report{Workload: workloadHelmRelease, Runs: []*runResult{{N: 10, Run: 1, AllReady: 2, FeedFloor: 1}}}).markdown()
	if strings.Contains(helm, "idle") || !strings.Contains(helm, "feed floor: the HelmRepository and N HelmReleases stored") {
		t.Errorf("HelmRelease report:\n%s", helm)
	}
}

func TestSplit_WholeAppsInOrder(t *testing.T) {
	docs := referenceDocs(10, "p") // 40 documents, 4 per app
	parts := split(docs, 4, 8)
	if len(parts) != 8 {
		t.Fatalf("%d slices, want 8", len(parts))
	}
	var all []string
	for _, p := range parts {
		if len(p)%4 != 0 {
			t.Errorf("a slice of %d documents splits an app", len(p))
		}
		all = append(all, p...)
	}
	if !slices.Equal(all, docs) {
		t.Errorf("the slices are not the documents in order")
	}
	if got := split(docs[:8], 4, 8); len(got) != 2 {
		t.Errorf("2 apps in %d slices, want 2", len(got))
	}
	if got := split(docs, 4, 1); len(got) != 1 || len(got[0]) != 40 {
		t.Errorf("one slice: %d", len(got))
	}
}

func TestIdleInterval_ScalesWithN(t *testing.T) {
	for _, c := range []struct {
		asked time.Duration
		n     int
		want  time.Duration
	}{{0, 100, time.Minute}, {0, 1000, time.Minute}, {0, 5000, 5 * time.Minute}, {0, 10000, 10 * time.Minute}, {2 * time.Minute, 10000, 2 * time.Minute}} {
		if got := idleInterval(c.asked, c.n); got != c.want {
			t.Errorf("idleInterval(%s, %d) = %s, want %s", c.asked, c.n, got, c.want)
		}
	}
}

func TestAtInterval_WaitsForTheChange(t *testing.T) {
	k := &kustomizev1.Kustomization{}
	k.Generation, k.Status.ObservedGeneration = 2, 2
	k.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}
	k.Spec.Interval = "10m"
	ok := atInterval(time.Minute, kustomizationReady)
	if done, why := ok(k); done || !strings.Contains(why, "not yet 1m0s") {
		t.Errorf("at 10m: %v %q", done, why)
	}
	k.Spec.Interval = "1m0s"
	if done, why := ok(k); !done {
		t.Errorf("at 1m0s: %q", why)
	}
	// The same duration written as phase 1 writes it is not the change
	// yet: at N=10000 phase 1's "10m" equals the idle interval, and the
	// idle phase's "10m0s" is a new generation still to be run.
	k.Spec.Interval = "10m"
	if done, _ := atInterval(10*time.Minute, kustomizationReady)(k); done {
		t.Errorf("10m counted as the change to 10m0s")
	}
}
