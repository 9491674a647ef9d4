package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/test/chartrepo"
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
	// KCMQPS is kube-controller-manager's --kube-api-qps; 0 its default.
	KCMQPS int
	Phase2 bool
	// Idle measures one idle interval of IdleInterval after phase 2.
	Idle         bool
	IdleInterval time.Duration
	// Reference and FeedFloor measure them, each on a fresh control plane.
	Reference, FeedFloor bool
	// Keep keeps the directories of the extra control planes.
	Keep bool
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

	// The reference: the same N×4 app objects applied by kubectl, each
	// on a fresh control plane of its own (without gitops-apiserver).
	RefA float64 `json:"referenceOneKubectlSeconds"`
	RefB float64 `json:"referenceEightKubectlSeconds"`
	// RefBCPU is the CPU each process used during reference (b).
	RefBCPU cpuUse `json:"referenceEightKubectlCPUSeconds"`

	// The feed floor: the workload's Flux objects (N GitRepositories and N
	// Kustomizations, or the HelmRepository and N HelmReleases) sent the
	// way phase 1 sends them to a fresh control plane whose
	// gitops-apiserver runs with --disable-workers; from the kubectl apply
	// until every object was seen stored (on a watch).
	FeedFloor float64 `json:"feedFloorSeconds"`
	// FeedFloorApply is how long that kubectl apply took.
	FeedFloorApply float64 `json:"feedFloorKubectlSeconds"`
	FeedFloorCPU   cpuUse  `json:"feedFloorCPUSeconds"`

	// Idle is the idle phase, when measured.
	Idle *idleResult `json:"idle,omitempty"`
	// Drift is how fast manual changes were reverted after the idle phase.
	Drift *driftResult `json:"drift,omitempty"`

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
	// plane is the main control plane (phase 1, phase 2, the idle phase).
	*plane
	git *gitServer
	// charts serves the chart of the HelmRelease workload.
	charts *chartrepo.Repo
}

// runOnce measures on a fresh control plane and git (or chart) server,
// stops them, then measures the references and the feed floor, each on a
// fresh control plane of its own. Failures are recorded in the result,
// never fatal.
func runOnce(ctx context.Context, cfg runConfig) *runResult {
	r := &run{cfg: cfg, res: &runResult{N: cfg.N, Run: cfg.Run}}
	func() {
		defer r.teardown()
		if err := r.setup(ctx); err != nil {
			r.res.fail("setup: %v", err)
			return
		}
		phase1OK := r.phase1(ctx)
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
		if cfg.Idle {
			switch {
			case cfg.Workload == workloadHelmRelease:
				cfg.Logf("idle phase: not measured for the HelmRelease workload")
			case phase1OK:
				r.idle(ctx)
				if r.res.Idle != nil && r.res.Idle.WindowSeconds > 0 {
					r.drift(ctx)
				}
			default:
				r.res.fail("idle phase skipped: phase 1 did not complete")
			}
		}
		r.final(ctx)
	}()
	if ctx.Err() == nil && cfg.Reference {
		r.reference(ctx)
	}
	if ctx.Err() == nil && cfg.FeedFloor {
		r.feedFloor(ctx)
	}
	return r.res
}

func (r *run) setup(ctx context.Context) error {
	cfg := r.cfg
	if cfg.Workload == workloadHelmRelease {
		var err error
		if r.charts, err = startChartRepo(); err != nil {
			return err
		}
	} else {
		var err error
		if r.git, err = startGitServer(filepath.Join(cfg.Dir, "git")); err != nil {
			return err
		}
		if _, err := r.git.Commit(appFiles(1), "app v1"); err != nil {
			return err
		}
	}
	// Every namespace of the apps exists before t0.
	names := make([]string, cfg.N)
	for i := range names {
		names[i] = benchNamespace(i)
	}
	p, err := startPlane(ctx, cfg, planeOptions{name: "main", dir: cfg.Dir, gitopsArgs: cfg.GitOpsArgs, waitLease: true, namespaces: names})
	if err != nil {
		return err
	}
	r.plane = p
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
	r.plane.stop()
}

// countsSince is what each server answered between two scrapes.
func countsSince(after, before scrape) serverCounts {
	g, k := after.gitops.since(before.gitops), after.kube.since(before.kube)
	return serverCounts{GitOpsRequests: g.Total, KubeRequests: k.Total, GitOpsConflicts: g.Conflicts, KubeConflicts: k.Conflicts,
		GitOpsByKind: g.ByKind, KubeByKind: k.ByKind}
}

// final counts the objects not Ready at the end of the run.
func (r *run) final(ctx context.Context) {
	if r.plane == nil {
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
	// In pages: at N=10,000 one list is tens of megabytes.
	for o := (metav1.ListOptions{Limit: 500}); ; {
		ks, err := r.flux.KustomizeV1().Kustomizations(fluxNamespace).List(ctx, o)
		if err != nil {
			r.res.fail("listing Kustomizations: %v", err)
			return
		}
		for i := range ks.Items {
			if ok, w := kustomizationReady(&ks.Items[i]); !ok {
				why["Kustomization/"+ks.Items[i].Name] = w
			}
		}
		if o.Continue = ks.Continue; o.Continue == "" {
			break
		}
	}
	for o := (metav1.ListOptions{Limit: 500}); ; {
		gs, err := r.flux.SourceV1().GitRepositories(fluxNamespace).List(ctx, o)
		if err != nil {
			r.res.fail("listing GitRepositories: %v", err)
			return
		}
		for i := range gs.Items {
			if ok, w := gitRepositoryReady(&gs.Items[i]); !ok {
				why["GitRepository/"+gs.Items[i].Name] = w
			}
		}
		if o.Continue = gs.Continue; o.Continue == "" {
			break
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
