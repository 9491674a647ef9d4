package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
	"github.com/gitops-apiserver/gitops-apiserver/test/chartrepo"
	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

// runConfig is one run's settings.
type runConfig struct {
	N, Run int
	// Workload is workloadKustomization or workloadHelmRelease.
	Workload string
	// Dir holds this run's control plane, git repository and logs.
	Dir              string
	BinDir, RepoRoot string
	GitOpsArgs       []string
	SharedEtcd       bool
	Phase2           bool
	// Timeout bounds each phase.
	Timeout time.Duration
	// ReconcileWorkers is how many POST /reconcile requests are in flight.
	ReconcileWorkers int
	// Profile, when positive, is how long CPU profiles of gitops-apiserver
	// and kube-apiserver are taken from phase 1's t0 (into Dir).
	Profile time.Duration
	Logf    func(format string, args ...any)
}

// runResult is one run's measurements: durations in seconds, sizes in
// bytes; zero when not measured.
type runResult struct {
	N        int      `json:"n"`
	Run      int      `json:"run"`
	Failures []string `json:"failures,omitempty"`

	// Phase 1: t0 is the workload's kubectl apply.
	AllReady     float64 `json:"allReadySeconds"`
	SourcesReady float64 `json:"sourcesReadySeconds"`
	// Ready counts the Kustomizations (HelmReleases) Ready at the end of
	// phase 1.
	Ready       int             `json:"kustomizationsReady"`
	Pending     []pendingReason `json:"pending,omitempty"`
	Phase1      serverCounts    `json:"phase1Requests"`
	GitOpsPeak1 int64           `json:"gitopsPeakRSSPhase1"`
	KubePeak1   int64           `json:"kubePeakRSSPhase1"`
	Phase1CPU   cpuUse          `json:"phase1CPUSeconds"`

	// The reference: the same N×4 app objects applied by kubectl.
	RefA float64 `json:"referenceOneKubectlSeconds"`
	RefB float64 `json:"referenceEightKubectlSeconds"`
	// RefBCPU is the CPU each process used during reference (b).
	RefBCPU cpuUse `json:"referenceEightKubectlCPUSeconds"`

	// Phase 2: a new commit found by polling (interval 1m), then one
	// announced by POST /reconcile on every GitRepository.
	Phase2Ran       bool    `json:"phase2Ran"`
	Phase2Poll      float64 `json:"phase2PollSeconds"`
	Phase2Reconcile float64 `json:"phase2ReconcileSeconds"`
	// Phase2CPU is what each process used from the first POST /reconcile
	// until the end of that measure.
	Phase2CPU cpuUse       `json:"phase2ReconcileCPUSeconds"`
	Phase2    serverCounts `json:"phase2Requests"`
	// GitOpsPeak is gitops-apiserver's peak over the whole run.
	GitOpsPeak int64 `json:"gitopsPeakRSS"`

	// NotReadyAtEnd counts the workload's objects (GitRepositories and
	// Kustomizations, or HelmRepositories, HelmCharts and HelmReleases)
	// not Ready (at their generation) when the run ends.
	NotReadyAtEnd int `json:"notReadyAtEnd"`
}

// serverCounts are the requests each server answered in a phase.
type serverCounts struct {
	GitOpsRequests  float64            `json:"gitopsApiserverRequests"`
	KubeRequests    float64            `json:"kubeApiserverRequests"`
	GitOpsConflicts map[string]float64 `json:"gitopsApiserverConflicts,omitempty"`
	KubeConflicts   map[string]float64 `json:"kubeApiserverConflicts,omitempty"`
	GitOpsByKind    map[string]float64 `json:"gitopsApiserverByKind,omitempty"`
	KubeByKind      map[string]float64 `json:"kubeApiserverByKind,omitempty"`
}

// scraped reports whether the counts were measured (kube-apiserver always
// answers some requests in a phase).
func (c serverCounts) scraped() bool { return c.KubeRequests > 0 }

func (c serverCounts) conflicts() float64 {
	return requestCounts{Conflicts: c.GitOpsConflicts}.conflicts() + requestCounts{Conflicts: c.KubeConflicts}.conflicts()
}

func (r *runResult) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// ok reports whether every phase completed.
func (r *runResult) ok() bool { return len(r.Failures) == 0 }

// run is the state of one run.
type run struct {
	cfg runConfig
	res *runResult
	cp  *framework.ControlPlane
	git *gitServer
	// charts serves the chart of the HelmRelease workload.
	charts *chartrepo.Repo
	kube   kubernetes.Interface
	flux   versioned.Interface

	gitopsPID, kubePID, etcdPID int
	// clusterPIDs are kube-controller-manager, kube-scheduler and kwok
	// (those found).
	clusterPIDs []int
}

// cpu reads every process's CPU time so far; processes that cannot be read
// count 0 (the phase's difference then says so by being negative or 0).
func (r *run) cpu() cpuUse {
	var c cpuUse
	c.GitOps, _ = cpuSeconds(r.gitopsPID, false)
	c.Kube, _ = cpuSeconds(r.kubePID, false)
	c.Etcd, _ = cpuSeconds(r.etcdPID, false)
	c.Harness, _ = cpuSeconds(os.Getpid(), true)
	for _, pid := range r.clusterPIDs {
		s, _ := cpuSeconds(pid, false)
		c.Cluster += s
	}
	return c
}

// runOnce starts a fresh control plane and git (or chart) server, measures, and stops
// everything. Failures are recorded in the result, never fatal.
func runOnce(ctx context.Context, cfg runConfig) *runResult {
	r := &run{cfg: cfg, res: &runResult{N: cfg.N, Run: cfg.Run}}
	defer r.teardown()
	if err := r.setup(ctx); err != nil {
		r.res.fail("setup: %v", err)
		return r.res
	}
	phase1OK := r.phase1(ctx)
	r.reference(ctx)
	if cfg.Phase2 {
		switch {
		case phase1OK && cfg.Workload == workloadHelmRelease:
			r.phase2Helm(ctx)
		case phase1OK:
			r.phase2(ctx)
		default:
			r.res.fail("phase 2 skipped: phase 1 did not complete")
		}
	}
	r.final(ctx)
	return r.res
}

func (r *run) setup(ctx context.Context) error {
	cfg := r.cfg
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cp, err := framework.Start(startCtx, framework.Options{
		Dir: cfg.Dir, BinDir: cfg.BinDir, RepoRoot: cfg.RepoRoot,
		GitOpsArgs: cfg.GitOpsArgs, SharedEtcd: cfg.SharedEtcd,
		Log: func(format string, args ...any) { cfg.Logf("control plane: "+format, args...) },
	})
	if err != nil {
		return err
	}
	r.cp = cp
	if cfg.Workload == workloadHelmRelease {
		if r.charts, err = startChartRepo(); err != nil {
			return err
		}
	} else {
		if r.git, err = startGitServer(filepath.Join(cfg.Dir, "git")); err != nil {
			return err
		}
		if _, err := r.git.Commit(appFiles(1), "app v1"); err != nil {
			return err
		}
	}
	rc := cp.RESTConfig()
	rc.QPS = -1 // no client-side rate limit: the harness must not be the bottleneck
	rc.UserAgent = "gitops-bench"
	if r.kube, err = kubernetes.NewForConfig(rc); err != nil {
		return err
	}
	if r.flux, err = versioned.NewForConfig(rc); err != nil {
		return err
	}
	// Other control planes may run the same binaries: find ours by the
	// directories only they were given.
	if r.gitopsPID, err = findPID("--data-dir=" + cp.GitOpsDataDir()); err != nil {
		return fmt.Errorf("gitops-apiserver: %w", err)
	}
	if r.kubePID, err = findPID("--cert-dir=" + filepath.Join(cfg.Dir, "kube-apiserver-certs")); err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	if r.etcdPID, err = findPID("--data-dir=" + filepath.Join(cfg.Dir, "etcd-data")); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	// The rest of the cluster, when the control plane runs it: its CPU
	// is reported apart.
	for _, args := range [][]string{
		{"--cert-dir=" + filepath.Join(cfg.Dir, "kube-controller-manager-certs")},
		{"--cert-dir=" + filepath.Join(cfg.Dir, "kube-scheduler-certs")},
		{"--kubeconfig=" + cp.Kubeconfig, "--manage-all-nodes=false"},
	} {
		if pid, err := findPID(args...); err == nil {
			r.clusterPIDs = append(r.clusterPIDs, pid)
		}
	}
	if !slices.Contains(cfg.GitOpsArgs, "--leader-elect=false") {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if res := waitWorkersLease(lctx, r.kube); !res.complete() {
			return fmt.Errorf("the workers' Lease flux-system/gitops-apiserver-workers: %s", res.summary())
		}
	}
	// Every namespace exists before t0: the apps' and the reference's.
	var names []string
	for _, prefix := range []string{"bench", "bench-ref-a", "bench-ref-b"} {
		for i := 0; i < cfg.N; i++ {
			names = append(names, fmt.Sprintf("%s-%d", prefix, i))
		}
	}
	nsCtx, cancel2 := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel2()
	if err := r.apply(nsCtx, namespaces(names)); err != nil {
		return err
	}
	if len(r.clusterPIDs) > 0 {
		// kube-controller-manager runs: let it finish with the new
		// namespaces before t0.
		start := time.Now()
		if err := waitNamespaceDefaults(nsCtx, r.kube, names); err != nil {
			return err
		}
		cfg.Logf("setup: kube-controller-manager finished the %d namespaces %.1f s after they were created", len(names), time.Since(start).Seconds())
	}
	return nil
}

// teardown stops the git or chart server and the control plane.
func (r *run) teardown() {
	if r.git != nil {
		r.git.Stop()
	}
	if r.charts != nil {
		r.charts.Close()
	}
	if r.cp != nil {
		r.cp.Stop()
	}
}

// apply is the benchmark's one way to send objects: one kubectl
// server-side apply without client-side validation.
func (r *run) apply(ctx context.Context, manifest string) error {
	_, err := r.cp.KubectlWithInput(ctx, strings.NewReader(manifest), "apply", "--server-side", "--validate=false", "-f", "-")
	if err != nil && len(err.Error()) > 2000 {
		err = fmt.Errorf("%s…", err.Error()[:2000])
	}
	return err
}

// scrape reads both servers' request counters.
type scrape struct{ gitops, kube requestCounts }

func (r *run) scrape(ctx context.Context) (scrape, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var s scrape
	body, err := r.cp.GitOpsGet(ctx, "/metrics")
	if err != nil {
		return s, fmt.Errorf("gitops-apiserver /metrics: %w", err)
	}
	if s.gitops, err = parseRequestCounts(body); err != nil {
		return s, err
	}
	body, err = r.kube.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return s, fmt.Errorf("kube-apiserver /metrics: %w", err)
	}
	s.kube, err = parseRequestCounts(body)
	return s, err
}

// countsSince is what each server answered between two scrapes.
func countsSince(after, before scrape) serverCounts {
	g, k := after.gitops.since(before.gitops), after.kube.since(before.kube)
	return serverCounts{GitOpsRequests: g.Total, KubeRequests: k.Total, GitOpsConflicts: g.Conflicts, KubeConflicts: k.Conflicts,
		GitOpsByKind: g.ByKind, KubeByKind: k.ByKind}
}

// final counts the objects not Ready at the end of the run.
func (r *run) final(ctx context.Context) {
	if r.flux == nil {
		return
	}
	r.peaks(&r.res.GitOpsPeak, nil)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	why := map[string]string{}
	if r.cfg.Workload == workloadHelmRelease {
		if err := r.notReadyHelm(ctx, why); err != nil {
			r.res.fail("%v", err)
			return
		}
		r.notReadyAtEnd(why)
		return
	}
	ks, err := r.flux.KustomizeV1().Kustomizations(fluxNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		r.res.fail("listing Kustomizations: %v", err)
		return
	}
	for i := range ks.Items {
		if ok, w := kustomizationReady(&ks.Items[i]); !ok {
			why["Kustomization/"+ks.Items[i].Name] = w
		}
	}
	gs, err := r.flux.SourceV1().GitRepositories(fluxNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		r.res.fail("listing GitRepositories: %v", err)
		return
	}
	for i := range gs.Items {
		if ok, w := gitRepositoryReady(&gs.Items[i]); !ok {
			why["GitRepository/"+gs.Items[i].Name] = w
		}
	}
	r.notReadyAtEnd(why)
}

// notReadyAtEnd records the objects not Ready at the end (name → why).
func (r *run) notReadyAtEnd(why map[string]string) {
	r.res.NotReadyAtEnd = len(why)
	if len(why) > 0 {
		for _, p := range topReasons(why, 5) {
			r.res.fail("at the end, %d not Ready: %s", p.Count, p.Reason)
		}
	}
}
