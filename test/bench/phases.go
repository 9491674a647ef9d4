package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
)

// referenceProcesses is how many kubectl processes share reference (b).
const referenceProcesses = 8

// target is a set of N objects to wait for, one per app.
type target struct {
	what string
	lw   cache.ListerWatcher
	obj  runtime.Object
	ok   check
	// names are the objects waited for; the N app names when empty.
	names []string
}

func (r *run) kustomizations(what string, ok check) target {
	return target{what: what, lw: kustomizationsLW(r.flux), obj: &kustomizev1.Kustomization{}, ok: ok}
}

func (r *run) gitRepositories(what string) target {
	return target{what: what, lw: gitRepositoriesLW(r.flux), obj: &sourcev1.GitRepository{}, ok: gitRepositoryReady}
}

// measure starts watching every target, takes t0, runs act, and waits (at
// most the phase timeout) until each target's objects are all done. It
// returns t0 and what each wait saw; an error only when act failed.
func (r *run) measure(ctx context.Context, act func(context.Context) error, targets ...target) (time.Time, []waitResult, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	results := make([]waitResult, len(targets))
	progress := make([]atomic.Int64, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		names := t.names
		if len(names) == 0 {
			names = appNames(r.cfg.N)
		}
		wg.Go(func() { results[i] = waitAll(ctx, t.lw, t.obj, names, t.ok, &progress[i]) })
	}
	t0 := time.Now()
	go r.logProgress(ctx, t0, targets, progress)
	err := act(ctx)
	if err != nil {
		cancel() // nothing more will happen: stop waiting
	}
	wg.Wait()
	return t0, results, err
}

// logProgress logs how far each target is every 10 s until ctx ends.
func (r *run) logProgress(ctx context.Context, t0 time.Time, targets []target, progress []atomic.Int64) {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			var parts []string
			for i, t := range targets {
				want := len(t.names)
				if want == 0 {
					want = r.cfg.N
				}
				parts = append(parts, fmt.Sprintf("%s %d/%d", t.what, progress[i].Load(), want))
			}
			r.cfg.Logf("  %s after %s", strings.Join(parts, ", "), time.Since(t0).Round(time.Second))
		}
	}
}

// phase1 is the benchmark proper: from one kubectl apply of N
// GitRepositories and N Kustomizations (or one HelmRepository and N
// HelmReleases) until every Kustomization (HelmRelease) is Ready at its
// generation. It reports whether that happened.
func (r *run) phase1(ctx context.Context) bool {
	res, N := r.res, r.cfg.N
	k := kinds(r.cfg.Workload)
	var workload string
	var appliers, sources target
	if r.cfg.Workload == workloadHelmRelease {
		r.cfg.Logf("phase 1: a HelmRepository and %d HelmReleases in one kubectl apply", N)
		workload = helmWorkload(N, r.charts.URL())
		appliers, sources = r.helmReleases("HelmReleases Ready", helmReleaseReady), r.helmCharts("HelmCharts Ready")
	} else {
		r.cfg.Logf("phase 1: %d GitRepositories and %d Kustomizations in one kubectl apply", N, N)
		workload = kustomizationWorkload(N, r.git.URL())
		appliers, sources = r.kustomizations("Kustomizations Ready", kustomizationReady), r.gitRepositories("GitRepositories Ready")
	}
	before, scrapeErr := r.scrape(ctx)
	cpu0 := r.cpu()
	profiled := r.profile(ctx)
	var applied time.Duration
	t0, waits, err := r.measure(ctx, func(ctx context.Context) error {
		start := time.Now()
		defer func() { applied = time.Since(start) }()
		return r.apply(ctx, workload)
	}, appliers, sources)
	ks, gs := waits[0], waits[1]
	res.Ready, res.Pending = ks.Done, ks.Pending
	if gs.complete() {
		res.SourcesReady = gs.Finished.Sub(t0).Seconds()
	}
	if ks.complete() {
		res.AllReady = ks.Finished.Sub(t0).Seconds()
	}
	res.Phase1CPU = r.cpu().since(cpu0)
	r.peaks(&res.GitOpsPeak1, &res.KubePeak1)
	profiled.Wait()
	after, err2 := r.scrape(ctx)
	switch {
	case err != nil:
		res.fail("phase 1: kubectl apply: %v", err)
	case !ks.complete():
		res.fail("phase 1: %s not all Ready after %s: %s", k.appliers, r.cfg.Timeout, ks.summary())
		if !gs.complete() {
			res.fail("phase 1: %s not all Ready: %s", k.sources, gs.summary())
		}
	}
	if scrapeErr == nil && err2 == nil {
		res.Phase1 = countsSince(after, before)
		r.cfg.Logf("phase 1: gitops-apiserver answered %s", top(res.Phase1.GitOpsByKind, 8))
		r.cfg.Logf("phase 1: kube-apiserver answered %s", top(res.Phase1.KubeByKind, 8))
		r.cfg.Logf("phase 1: mean latency, gitops-apiserver: %s; kube-apiserver: %s",
			latencies(after.gitops.since(before.gitops), 4), latencies(after.kube.since(before.kube), 6))
	} else {
		res.fail("phase 1: metrics: %v %v", scrapeErr, err2)
	}
	r.cfg.Logf("phase 1: %s %s, %s %s", k.appliers, allAfter(ks, t0), k.sources, allAfter(gs, t0))
	r.cfg.Logf("phase 1: the workload's kubectl apply took %.1f s; CPU %s", applied.Seconds(), res.Phase1CPU)
	if r.cfg.Workload == workloadHelmRelease {
		r.logReleaseActions(ctx, "phase 1")
	}
	return err == nil && ks.complete()
}

// profile starts taking CPU profiles of gitops-apiserver and kube-apiserver
// for cfg.Profile, written to the run's directory; the returned group ends
// when both are written (at once when profiling is off).
func (r *run) profile(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	if r.cfg.Profile <= 0 {
		return &wg
	}
	secs := strconv.Itoa(int(r.cfg.Profile.Seconds()))
	get := map[string]func(context.Context) ([]byte, error){
		"gitops-apiserver": func(ctx context.Context) ([]byte, error) {
			return r.cp.GitOpsGet(ctx, "/debug/pprof/profile?seconds="+secs)
		},
		"kube-apiserver": func(ctx context.Context) ([]byte, error) {
			return r.kube.Discovery().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", secs).DoRaw(ctx)
		},
	}
	for name, fetch := range get {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, r.cfg.Profile+time.Minute)
			defer cancel()
			b, err := fetch(ctx)
			if err == nil {
				path := filepath.Join(r.cfg.Dir, name+".cpu.pprof")
				if err = os.WriteFile(path, b, 0o644); err == nil {
					r.cfg.Logf("phase 1: %s CPU profile in %s", name, path)
				}
			}
			if err != nil {
				r.cfg.Logf("phase 1: %s CPU profile: %v", name, err)
			}
		})
	}
	return &wg
}

// allAfter says how long a wait took, or how far it got.
func allAfter(w waitResult, t0 time.Time) string {
	if w.complete() {
		return fmt.Sprintf("all %d Ready after %.1f s", w.Want, w.Finished.Sub(t0).Seconds())
	}
	return fmt.Sprintf("%d of %d Ready", w.Done, w.Want)
}

// peaks reads both servers' peak RSS so far.
func (r *run) peaks(gitops, kube *int64) {
	var err error
	if *gitops, err = peakRSS(r.gitopsPID); err != nil {
		r.res.fail("gitops-apiserver RSS: %v", err)
	}
	if kube == nil {
		return
	}
	if *kube, err = peakRSS(r.kubePID); err != nil {
		r.res.fail("kube-apiserver RSS: %v", err)
	}
}

// reference applies the same N×4 app objects with kubectl alone, each
// time on a fresh control plane of its own (no gitops-apiserver) with the
// N namespaces created first: (a) one process, (b) eight processes over
// eight slices of whole apps. On the main control plane after phase 1,
// with N Services (and their ClusterIPs) already allocated, the same
// reference takes about twice as long and flatters the ratio.
func (r *run) reference(ctx context.Context) {
	var ok bool
	if r.res.RefA, _, ok = r.referenceOn(ctx, "reference (a)", "bench-ref-a", 1); !ok {
		r.res.RefA = 0
	}
	var cpu cpuUse
	if r.res.RefB, cpu, ok = r.referenceOn(ctx, "reference (b)", "bench-ref-b", referenceProcesses); ok {
		r.res.RefBCPU = cpu
	} else {
		r.res.RefB = 0
	}
	r.cfg.Logf("reference: (a) one kubectl %.1f s, (b) %d kubectl %.1f s", r.res.RefA, referenceProcesses, r.res.RefB)
	r.cfg.Logf("reference (b): CPU %s", r.res.RefBCPU)
}

// referenceOn measures one reference on a fresh control plane: the app
// objects into namespaces prefix-i, by procs kubectl processes.
func (r *run) referenceOn(ctx context.Context, name, prefix string, procs int) (float64, cpuUse, bool) {
	N := r.cfg.N
	names := make([]string, N)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	p, err := startPlane(ctx, r.cfg, planeOptions{name: name, dir: filepath.Join(r.cfg.Dir, prefix), clusterOnly: true, namespaces: names})
	if err != nil {
		r.res.fail("%s: control plane: %v", name, err)
		return 0, cpuUse{}, false
	}
	ok := false
	defer func() { r.stopPlane(p, ok) }()
	docs := referenceDocs
	if r.cfg.Workload == workloadHelmRelease {
		docs = helmReferenceDocs
	}
	parts := split(docs(N, prefix), 4, procs) // whole apps per slice
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	var g errgroup.Group
	cpu0 := p.cpu()
	t := time.Now()
	for _, s := range parts {
		g.Go(func() error { return p.apply(ctx, strings.Join(s, "---\n")) })
	}
	if err := g.Wait(); err != nil {
		r.res.fail("%s: %v", name, err)
		return 0, cpuUse{}, false
	}
	d := time.Since(t).Seconds()
	cpu := p.cpu().since(cpu0)
	r.cfg.Logf("%s: %d kubectl, %.1f s on a fresh control plane; CPU %s", name, len(parts), d, cpu)
	ok = true
	return d, cpu, true
}

// stopPlane stops an extra control plane and removes its directory when
// its step succeeded (unless -keep): at N=10,000 each holds a large etcd.
func (r *run) stopPlane(p *plane, ok bool) {
	p.stop()
	if ok && !r.cfg.Keep {
		_ = os.RemoveAll(p.dir)
	}
}

// feedFloor measures how fast gitops-apiserver can take the workload's
// Flux objects at all: the same kubectl apply as phase 1's, to a fresh
// control plane whose gitops-apiserver runs with --disable-workers (it
// stores, reconciles nothing), from t0 until every object was seen stored
// on a watch. No namespaces are created: nothing is applied to them.
func (r *run) feedFloor(ctx context.Context) {
	N := r.cfg.N
	args := append(slices.Clone(r.cfg.GitOpsArgs), "--disable-workers")
	p, err := startPlane(ctx, r.cfg, planeOptions{name: "feed floor", dir: filepath.Join(r.cfg.Dir, "feed-floor"), gitopsArgs: args})
	if err != nil {
		r.res.fail("feed floor: control plane: %v", err)
		return
	}
	ok := false
	defer func() { r.stopPlane(p, ok) }()
	stored := func(runtime.Object) (bool, string) { return true, "" }
	// Nothing fetches from it: no worker runs.
	const url = "http://127.0.0.1:1/" + repoName
	var workload string
	var targets []target
	if r.cfg.Workload == workloadHelmRelease {
		workload = helmWorkload(N, url)
		targets = []target{
			{what: "HelmReleases stored", lw: helmReleasesLW(p.flux), obj: &helmv2.HelmRelease{}, ok: stored},
			{what: "HelmRepository stored", lw: helmRepositoriesLW(p.flux), obj: &sourcev1.HelmRepository{}, ok: stored,
				names: []string{helmRepositoryName}},
		}
	} else {
		workload = kustomizationWorkload(N, url)
		targets = []target{
			{what: "Kustomizations stored", lw: kustomizationsLW(p.flux), obj: &kustomizev1.Kustomization{}, ok: stored},
			{what: "GitRepositories stored", lw: gitRepositoriesLW(p.flux), obj: &sourcev1.GitRepository{}, ok: stored},
		}
	}
	r.cfg.Logf("feed floor: the workload's %d objects in one kubectl apply, gitops-apiserver --disable-workers", objectCount(r.cfg.Workload, N))
	var applied time.Duration
	cpu0 := p.cpu()
	t0, waits, err := r.measure(ctx, func(ctx context.Context) error {
		start := time.Now()
		defer func() { applied = time.Since(start) }()
		return p.apply(ctx, workload)
	}, targets...)
	r.res.FeedFloorCPU = p.cpu().since(cpu0)
	if err != nil {
		r.res.fail("feed floor: kubectl apply: %v", err)
		return
	}
	var end time.Time
	for i, w := range waits {
		if !w.complete() {
			r.res.fail("feed floor: %s: %s", targets[i].what, w.summary())
			return
		}
		if w.Finished.After(end) {
			end = w.Finished
		}
	}
	r.res.FeedFloor = end.Sub(t0).Seconds()
	r.res.FeedFloorApply = applied.Seconds()
	r.cfg.Logf("feed floor: all stored after %.1f s (kubectl %.1f s); CPU %s", r.res.FeedFloor, r.res.FeedFloorApply, r.res.FeedFloorCPU)
	ok = true
}

// objectCount is how many Flux objects phase 1 sends.
func objectCount(workload string, n int) int {
	if workload == workloadHelmRelease {
		return n + 1
	}
	return 2 * n
}

// phase2 measures how fast a new commit reaches every app: first by
// polling (GitRepository interval 1m), then announced by POST /reconcile
// on every GitRepository.
func (r *run) phase2(ctx context.Context) {
	res, N := r.res, r.cfg.N
	res.Phase2Ran = true
	r.cfg.Logf("phase 2: GitRepository interval 1m")
	sources := gitRepositoryDocs(N, r.git.URL(), "1m")
	_, waits, err := r.measure(ctx, func(ctx context.Context) error { return r.applyParallel(ctx, sources, 1, referenceProcesses) },
		target{what: "GitRepositories Ready at interval 1m", lw: gitRepositoriesLW(r.flux), obj: &sourcev1.GitRepository{},
			ok: atInterval(time.Minute, gitRepositoryReady)})
	if err != nil || !waits[0].complete() {
		res.fail("phase 2: GitRepositories at interval 1m: %v %s", err, waits[0].summary())
		return
	}
	before, scrapeErr := r.scrape(ctx)

	commit, err := r.git.Commit(appFiles(2), "app v2")
	if err != nil {
		res.fail("phase 2: %v", err)
		return
	}
	r.cfg.Logf("phase 2: commit %s, found by polling", commit[:12])
	t0, waits, _ := r.measure(ctx, func(context.Context) error { return nil },
		r.kustomizations("Kustomizations applied "+commit[:12], appliedRevision(commit)))
	if !waits[0].complete() {
		res.fail("phase 2: commit %s not applied everywhere after %s: %s", commit, r.cfg.Timeout, waits[0].summary())
		return
	}
	res.Phase2Poll = waits[0].Finished.Sub(t0).Seconds()

	if commit, err = r.git.Commit(appFiles(3), "app v3"); err != nil {
		res.fail("phase 2: %v", err)
		return
	}
	r.cfg.Logf("phase 2: commit %s, POST /reconcile on every GitRepository", commit[:12])
	cpu0 := r.cpu()
	t0, waits, err = r.measure(ctx, r.reconcileAll,
		r.kustomizations("Kustomizations applied "+commit[:12], appliedRevision(commit)))
	switch {
	case err != nil:
		res.fail("phase 2: /reconcile: %v", err)
	case !waits[0].complete():
		res.fail("phase 2: commit %s not applied everywhere after %s: %s", commit, r.cfg.Timeout, waits[0].summary())
	default:
		res.Phase2Reconcile = waits[0].Finished.Sub(t0).Seconds()
	}
	res.Phase2CPU = r.cpu().since(cpu0)
	after, err2 := r.scrape(ctx)
	if scrapeErr == nil && err2 == nil {
		res.Phase2 = countsSince(after, before)
	} else {
		res.fail("phase 2: metrics: %v %v", scrapeErr, err2)
	}
	r.cfg.Logf("phase 2: polling %.1f s, /reconcile %.1f s; CPU during /reconcile %s", res.Phase2Poll, res.Phase2Reconcile, res.Phase2CPU)
}

// reconcileAll asks for an immediate run of every GitRepository, the way
// `flux reconcile source git` does, with a bounded number in flight.
func (r *run) reconcileAll(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.ReconcileWorkers)
	for i := 0; i < r.cfg.N; i++ {
		g.Go(func() error {
			err := r.flux.SourceV1().RESTClient().Post().
				Namespace(fluxNamespace).Resource("gitrepositories").Name(appName(i)).SubResource("reconcile").
				SetHeader("Content-Type", "application/json").Body([]byte("{}")).
				Do(ctx).Error()
			if err != nil {
				return fmt.Errorf("GitRepository %s/%s: %w", fluxNamespace, appName(i), err)
			}
			return nil
		})
	}
	return g.Wait()
}
