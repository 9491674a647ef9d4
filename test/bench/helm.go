package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
	"github.com/gitops-apiserver/gitops-apiserver/test/chartrepo"
)

// The HelmRelease workload (-workload=helmrelease): one HelmRepository
// "charts" serving the chart "app", whose templates are the Kustomization
// app's four objects, and N HelmReleases app-i releasing it into bench-i.
const (
	chartName          = "app"
	helmRepositoryName = "charts"
	// chartVersionRange is what every HelmRelease asks for: 1.0.0 in phase
	// 1, 1.0.1 once phase 2 publishes it (a pinned "1.0.0" could not be
	// upgraded without changing every HelmRelease's spec).
	chartVersionRange = "1.0.x"
)

// chartVersion is the chart version that carries app version v (1.0.0
// for v=1, 1.0.1 for v=2).
func chartVersion(v int) string { return fmt.Sprintf("1.0.%d", v-1) }

// chartArchive packages the chart "app" at chartVersion(v): the app's four
// objects as plain templates (no namespace: Helm installs them into the
// release namespace), the ConfigMap carrying v.
func chartArchive(v int) ([]byte, error) {
	docs := appDocs(v, "", "")
	return chartrepo.Package(chartName, chartVersion(v), map[string]string{
		"templates/deployment.yaml":     docs[0],
		"templates/service.yaml":        docs[1],
		"templates/serviceaccount.yaml": docs[2],
		"templates/configmap.yaml":      docs[3],
	})
}

// helmChartName is the HelmChart the worker makes for app i's HelmRelease
// (<namespace>-<name>, in the namespace of the chart's source).
func helmChartName(i int) string { return fluxNamespace + "-" + appName(i) }

// helmReleaseName is Helm's release name for app i: with a
// targetNamespace, "<targetNamespace>-<name>", as Flux names it.
func helmReleaseName(ns string, i int) string { return ns + "-" + appName(i) }

func helmRepository(url, interval string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: %s
  namespace: %s
spec:
  interval: %s
  url: %s
`, helmRepositoryName, fluxNamespace, interval, url)
}

// helmRelease renders app i's HelmRelease: install and upgrade defaults,
// no tests.
func helmRelease(i int) string {
	return fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  targetNamespace: %s
  chart:
    spec:
      chart: %s
      version: %q
      sourceRef:
        kind: HelmRepository
        name: %s
`, appName(i), fluxNamespace, benchNamespace(i), chartName, chartVersionRange, helmRepositoryName)
}

// helmWorkload renders the HelmRepository and the N HelmReleases sent at t0.
func helmWorkload(n int, url string) string {
	docs := make([]string, 0, n+1)
	docs = append(docs, helmRepository(url, "10m"))
	for i := 0; i < n; i++ {
		docs = append(docs, helmRelease(i))
	}
	return strings.Join(docs, "---\n")
}

// helmReferenceDocs renders the N×4 app objects into namespaces prefix-i
// with the metadata Helm gives a release's objects (the managed-by label
// and the release-name and release-namespace annotations), so the
// reference writes objects of about the same size as the releases. The
// release records (one Secret per release) are not part of it.
func helmReferenceDocs(n int, prefix string) []string {
	docs := make([]string, 0, 4*n)
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("%s-%d", prefix, i)
		docs = append(docs, appDocsWith(1, func(name string) string {
			return "metadata:\n  name: " + name + "\n  namespace: " + ns + "\n" +
				"  labels:\n    app.kubernetes.io/managed-by: Helm\n" +
				"  annotations:\n    meta.helm.sh/release-name: " + helmReleaseName(ns, i) + "\n" +
				"    meta.helm.sh/release-namespace: " + ns + "\n"
		})...)
	}
	return docs
}

// startChartRepo serves chart app 1.0.0 on loopback.
func startChartRepo() (*chartrepo.Repo, error) {
	repo, err := chartrepo.NewRepo("", "")
	if err != nil {
		return nil, err
	}
	if err := publishChart(repo, 1); err != nil {
		repo.Close()
		return nil, err
	}
	return repo, nil
}

func publishChart(repo *chartrepo.Repo, v int) error {
	archive, err := chartArchive(v)
	if err != nil {
		return err
	}
	repo.Publish(chartName, chartVersion(v), archive)
	return nil
}

func helmReleaseReady(obj runtime.Object) (bool, string) {
	h, ok := obj.(*helmv2.HelmRelease)
	if !ok {
		return false, fmt.Sprintf("unexpected %T", obj)
	}
	return readyAtGeneration(h.Generation, h.Status.ObservedGeneration, h.Status.Conditions)
}

func helmChartReady(obj runtime.Object) (bool, string) {
	c, ok := obj.(*sourcev1.HelmChart)
	if !ok {
		return false, fmt.Sprintf("unexpected %T", obj)
	}
	return readyAtGeneration(c.Generation, c.Status.ObservedGeneration, c.Status.Conditions)
}

func helmRepositoryReady(obj runtime.Object) (bool, string) {
	h, ok := obj.(*sourcev1.HelmRepository)
	if !ok {
		return false, fmt.Sprintf("unexpected %T", obj)
	}
	return readyAtGeneration(h.Generation, h.Status.ObservedGeneration, h.Status.Conditions)
}

// released is done once a HelmRelease is Ready at its generation with its
// latest release of chart version version deployed.
func released(version string) check {
	return func(obj runtime.Object) (bool, string) {
		h, ok := obj.(*helmv2.HelmRelease)
		if !ok {
			return false, fmt.Sprintf("unexpected %T", obj)
		}
		ready, why := readyAtGeneration(h.Generation, h.Status.ObservedGeneration, h.Status.Conditions)
		var last string
		if len(h.Status.History) > 0 {
			s := h.Status.History[0]
			if ready && s.ChartVersion == version && s.Status == "deployed" {
				return true, ""
			}
			last = fmt.Sprintf("release v%d of chart %s %s", s.Version, s.ChartVersion, s.Status)
		} else {
			last = "no release"
		}
		if why == "" {
			why = "Ready=True"
		}
		return false, last + "; " + why
	}
}

// newIndex is done once the HelmRepository is Ready at its generation with
// an index artifact other than the revision before.
func newIndex(before string) check {
	return func(obj runtime.Object) (bool, string) {
		h, ok := obj.(*sourcev1.HelmRepository)
		if !ok {
			return false, fmt.Sprintf("unexpected %T", obj)
		}
		ready, why := readyAtGeneration(h.Generation, h.Status.ObservedGeneration, h.Status.Conditions)
		switch {
		case h.Status.Artifact == nil:
			return false, "no artifact"
		case h.Status.Artifact.Revision == before:
			return false, "index revision unchanged"
		case !ready:
			return false, why
		}
		return true, ""
	}
}

func helmReleasesLW(cs versioned.Interface) cache.ListerWatcher {
	c := cs.HelmV2().HelmReleases(fluxNamespace)
	return &cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return c.Watch(ctx, o) },
	}
}

func helmChartsLW(cs versioned.Interface) cache.ListerWatcher {
	c := cs.SourceV1().HelmCharts(fluxNamespace)
	return &cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return c.Watch(ctx, o) },
	}
}

func helmRepositoriesLW(cs versioned.Interface) cache.ListerWatcher {
	c := cs.SourceV1().HelmRepositories(fluxNamespace)
	return &cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return c.Watch(ctx, o) },
	}
}

func (r *run) helmReleases(what string, ok check) target {
	return target{what: what, lw: helmReleasesLW(r.flux), obj: &helmv2.HelmRelease{}, ok: ok}
}

func (r *run) helmCharts(what string) target {
	names := make([]string, r.cfg.N)
	for i := range names {
		names[i] = helmChartName(i)
	}
	return target{what: what, lw: helmChartsLW(r.flux), obj: &sourcev1.HelmChart{}, ok: helmChartReady, names: names}
}

func (r *run) helmRepositoryTarget(what string, ok check) target {
	return target{what: what, lw: helmRepositoriesLW(r.flux), obj: &sourcev1.HelmRepository{}, ok: ok,
		names: []string{helmRepositoryName}}
}

// phase2Helm measures how fast a new chart version reaches every release
// when announced the way `flux reconcile source helm charts` and then
// `flux reconcile helmrelease app-i --with-source` announce it: POST
// /reconcile on the HelmRepository (its stored index is what every
// HelmChart selects the version from), wait until it holds the new index,
// then POST /reconcile with withSource (the HelmChart) on every
// HelmRelease. t0 is the first POST; the end is every HelmRelease Ready
// with chart 1.0.1 deployed.
func (r *run) phase2Helm(ctx context.Context) {
	res := r.res
	res.Phase2Ran = true
	repo, err := r.flux.SourceV1().HelmRepositories(fluxNamespace).Get(ctx, helmRepositoryName, metav1.GetOptions{})
	if err != nil {
		res.fail("phase 2: %v", err)
		return
	}
	var index string
	if repo.Status.Artifact != nil {
		index = repo.Status.Artifact.Revision
	}
	before, scrapeErr := r.scrape(ctx)
	if err := publishChart(r.charts, 2); err != nil {
		res.fail("phase 2: %v", err)
		return
	}
	version := chartVersion(2)
	r.cfg.Logf("phase 2: chart %s %s published; POST /reconcile on the HelmRepository, then with withSource on every HelmRelease", chartName, version)
	var indexed float64
	cpu0 := r.cpu()
	t0, waits, err := r.measure(ctx, func(ctx context.Context) error {
		start := time.Now()
		w := r.reconcileHelmRepository(ctx, index)
		if !w.complete() {
			return fmt.Errorf("HelmRepository %s/%s: no new index: %s", fluxNamespace, helmRepositoryName, w.summary())
		}
		indexed = w.Finished.Sub(start).Seconds()
		return r.reconcileAllHelmReleases(ctx)
	}, r.helmReleases("HelmReleases released "+version, released(version)))
	switch {
	case err != nil:
		res.fail("phase 2: /reconcile: %v", err)
	case !waits[0].complete():
		res.fail("phase 2: chart %s not released everywhere after %s: %s", version, r.cfg.Timeout, waits[0].summary())
	default:
		res.Phase2Reconcile = waits[0].Finished.Sub(t0).Seconds()
	}
	res.Phase2CPU = r.cpu().since(cpu0)
	after, err2 := r.scrape(ctx)
	if scrapeErr == nil && err2 == nil {
		res.Phase2 = countsSince(after, before)
		r.cfg.Logf("phase 2: gitops-apiserver answered %s", top(res.Phase2.GitOpsByKind, 8))
		r.cfg.Logf("phase 2: kube-apiserver answered %s", top(res.Phase2.KubeByKind, 8))
	} else {
		res.fail("phase 2: metrics: %v %v", scrapeErr, err2)
	}
	r.logReleaseActions(ctx, "phase 2")
	r.cfg.Logf("phase 2: new index after %.2f s, /reconcile %.1f s; CPU %s", indexed, res.Phase2Reconcile, res.Phase2CPU)
}

// reconcileHelmRepository asks for an immediate run of the HelmRepository
// and waits (watching) until it stores an index other than before.
func (r *run) reconcileHelmRepository(ctx context.Context, before string) waitResult {
	t := r.helmRepositoryTarget("new index", newIndex(before))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan waitResult, 1)
	go func() { done <- waitAll(ctx, t.lw, t.obj, t.names, t.ok, nil) }()
	err := r.postReconcile(ctx, r.flux.SourceV1().RESTClient(), "helmrepositories", helmRepositoryName, false)
	if err != nil {
		cancel()
		w := <-done
		w.Pending = append([]pendingReason{{Reason: err.Error(), Count: 1}}, w.Pending...)
		return w
	}
	return <-done
}

// reconcileAllHelmReleases posts /reconcile with withSource on every
// HelmRelease, a bounded number in flight.
func (r *run) reconcileAllHelmReleases(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.ReconcileWorkers)
	for i := 0; i < r.cfg.N; i++ {
		g.Go(func() error {
			return r.postReconcile(ctx, r.flux.HelmV2().RESTClient(), "helmreleases", appName(i), true)
		})
	}
	return g.Wait()
}

// postReconcile is POST <resource>/<name>/reconcile in flux-system.
func (r *run) postReconcile(ctx context.Context, c rest.Interface, resource, name string, withSource bool) error {
	body, _ := json.Marshal(map[string]bool{"withSource": withSource})
	if !withSource {
		body = []byte("{}")
	}
	err := c.Post().Namespace(fluxNamespace).Resource(resource).Name(name).SubResource("reconcile").
		SetHeader("Content-Type", "application/json").Body(body).Do(ctx).Error()
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", resource, fluxNamespace, name, err)
	}
	return nil
}

// notReadyHelm adds the HelmRepositories, HelmCharts and HelmReleases not
// Ready at their generation to why.
func (r *run) notReadyHelm(ctx context.Context, why map[string]string) error {
	hrs, err := r.flux.HelmV2().HelmReleases(fluxNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing HelmReleases: %w", err)
	}
	for i := range hrs.Items {
		if ok, w := helmReleaseReady(&hrs.Items[i]); !ok {
			why["HelmRelease/"+hrs.Items[i].Name] = w
		}
	}
	charts, err := r.flux.SourceV1().HelmCharts(fluxNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing HelmCharts: %w", err)
	}
	for i := range charts.Items {
		if ok, w := helmChartReady(&charts.Items[i]); !ok {
			why["HelmChart/"+charts.Items[i].Name] = w
		}
	}
	repos, err := r.flux.SourceV1().HelmRepositories(fluxNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing HelmRepositories: %w", err)
	}
	for i := range repos.Items {
		if ok, w := helmRepositoryReady(&repos.Items[i]); !ok {
			why["HelmRepository/"+repos.Items[i].Name] = w
		}
	}
	return nil
}

// logReleaseActions logs how long the HelmReleases' last Helm actions
// (install or upgrade, with Helm's wait for the objects) took, as their
// status.lastAttemptedReleaseActionDuration says: the time a worker spends
// on one release.
func (r *run) logReleaseActions(ctx context.Context, phase string) {
	hrs, err := r.flux.HelmV2().HelmReleases(fluxNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		r.cfg.Logf("%s: listing HelmReleases: %v", phase, err)
		return
	}
	var ds []float64
	actions := map[string]int{}
	for _, h := range hrs.Items {
		if d := h.Status.LastAttemptedReleaseActionDuration; d != nil {
			ds = append(ds, d.Seconds())
			actions[string(h.Status.LastAttemptedReleaseAction)]++
		}
	}
	if len(ds) == 0 {
		return
	}
	sort.Float64s(ds)
	var sum float64
	for _, d := range ds {
		sum += d
	}
	pct := func(p float64) float64 { return ds[int(p*float64(len(ds)-1))] }
	r.cfg.Logf("%s: Helm actions %v took %.2f s median, %.2f s p90, %.2f s max, %.1f s in all (per worker at --concurrent=W: that sum / W)",
		phase, actions, pct(0.5), pct(0.9), ds[len(ds)-1], sum)
}
