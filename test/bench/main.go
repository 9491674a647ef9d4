// Command bench is the Kustomization benchmark (issue 5, `make bench`), as
// ../shared/BENCHMARK.md defines it, and the HelmRelease benchmark (issue
// 12, -workload=helmrelease). For each N and run it starts a fresh local
// control plane (test/framework) and a loopback git server with one app,
// then measures:
//
//   - phase 1: from one `kubectl apply --server-side` of N GitRepositories
//     and N Kustomizations until every Kustomization is Ready at its
//     generation (watched, not polled), with both servers' peak RSS and
//     the 409 Conflicts they answered;
//   - phase 2: how long a new commit takes to be applied everywhere when
//     found by polling (GitRepository interval 1m), and when announced by
//     POST /reconcile on every GitRepository;
//   - the idle phase: every GitRepository and Kustomization is set to a
//     short interval (-idle-interval) and, once all are Ready at it, one
//     interval of doing nothing is measured: requests by verb, writes and
//     CPU seconds of gitops-apiserver and kube-apiserver, per app;
//
// then stops that control plane and, each on a fresh control plane of its
// own:
//
//   - the reference: the same N×4 app objects applied by one kubectl (a),
//     and by eight kubectl processes over eight slices (b), without
//     gitops-apiserver;
//   - the feed floor: phase 1's kubectl apply of the workload's Flux
//     objects to a gitops-apiserver started with --disable-workers, until
//     every object is stored.
//
// With -workload=helmrelease the app comes as a chart instead: a loopback
// Helm repository (test/chartrepo) serves chart "app" 1.0.0, whose
// templates are the same four objects; phase 1 applies one HelmRepository
// and N HelmReleases (each makes its HelmChart, which pulls the chart) and
// waits until every HelmRelease is Ready at its generation; the reference
// applies the four objects with Helm's labels and annotations; phase 2
// publishes chart 1.0.1 and announces it by POST /reconcile on the
// HelmRepository, then with withSource on every HelmRelease, until every
// release has 1.0.1 deployed.
//
// It prints a markdown report (median and spread of the runs) and writes it
// to -out, and every run's numbers as JSON to -json.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	ns                         []int
	workload                   string
	runs                       int
	phase2, sharedEtcd, keep   bool
	kcmQPS                     int
	idle, reference, feedFloor bool
	idleInterval               time.Duration
	out, jsonOut               string
	gitopsArgs                 []string
	timeout                    time.Duration
	reconcileWorkers           int
	profile                    time.Duration
	binDir, repoRoot, workDir  string
}

func main() {
	o, err := parseFlags()
	if err == nil {
		err = runBench(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags() (*options, error) {
	var o options
	ns := flag.String("n", "100", "comma-separated numbers of apps, e.g. 100,500,1000")
	flag.StringVar(&o.workload, "workload", workloadKustomization,
		"what to measure: kustomization (N GitRepositories and Kustomizations) or helmrelease (one HelmRepository and N HelmReleases)")
	flag.IntVar(&o.runs, "runs", 3, "runs per N, each on a fresh control plane")
	flag.BoolVar(&o.phase2, "phase2", true, "also measure a new commit reaching every app (polling, then /reconcile)")
	flag.BoolVar(&o.idle, "idle", true, "also measure one idle interval (Kustomization workload)")
	flag.DurationVar(&o.idleInterval, "idle-interval", 0,
		"the interval the idle phase sets on every GitRepository and Kustomization and measures once; 0: 1m, or 60 ms per app above N=1000 (5m at N=5000, 10m at N=10000)")
	flag.BoolVar(&o.reference, "reference", true, "also measure the kubectl references (a) and (b), each on a fresh control plane")
	flag.BoolVar(&o.feedFloor, "feed-floor", true, "also measure the feed floor: the workload's Flux objects stored by a gitops-apiserver with --disable-workers, on a fresh control plane")
	flag.StringVar(&o.out, "out", "", "write the markdown report to this file")
	flag.StringVar(&o.jsonOut, "json", "", "write every run's measurements to this file as JSON")
	gitopsArgs := flag.String("gitops-args", "", "extra gitops-apiserver flags, space-separated, e.g. \"--concurrent=8\"")
	flag.IntVar(&o.kcmQPS, "kcm-qps", 0, "kube-controller-manager's --kube-api-qps (0: its default, 20 per controller, which bounds how fast Deployments become ready, e.g. for HelmReleases that wait)")
	flag.BoolVar(&o.sharedEtcd, "shared-etcd", false, "run gitops-apiserver on the control plane's etcd instead of its embedded one")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound of each phase")
	flag.IntVar(&o.reconcileWorkers, "reconcile-workers", 16, "POST /reconcile requests in flight in phase 2")
	flag.StringVar(&o.binDir, "bin-dir", "_output/bin", "directory with etcd, kube-apiserver, kubectl and gitops-apiserver")
	flag.StringVar(&o.repoRoot, "repo-root", ".", "repository checkout (for artifacts/deploy)")
	flag.StringVar(&o.workDir, "work-dir", "", "directory for the runs' control planes and logs (default: a new temporary directory)")
	flag.DurationVar(&o.profile, "profile", 0, "take CPU profiles of gitops-apiserver and kube-apiserver for this long from phase 1's start, into the run's directory (kept)")
	flag.BoolVar(&o.keep, "keep", false, "keep every run's directory; failed runs are always kept")
	flag.Parse()
	if flag.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	for _, s := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-n: %q is not a positive number", s)
		}
		o.ns = append(o.ns, n)
	}
	if o.workload != workloadKustomization && o.workload != workloadHelmRelease {
		return nil, fmt.Errorf("-workload: %q is neither %s nor %s", o.workload, workloadKustomization, workloadHelmRelease)
	}
	if o.runs <= 0 || o.reconcileWorkers <= 0 || o.timeout <= 0 {
		return nil, fmt.Errorf("-runs, -reconcile-workers and -timeout must be positive")
	}
	if o.idleInterval < 0 || (o.idleInterval > 0 && o.idleInterval < time.Second) {
		return nil, fmt.Errorf("-idle-interval: %s is below 1s", o.idleInterval)
	}
	o.gitopsArgs = strings.Fields(*gitopsArgs)
	for _, p := range []*string{&o.binDir, &o.repoRoot} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return nil, err
		}
		*p = abs
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kubectl", "gitops-apiserver"} {
		if _, err := os.Stat(filepath.Join(o.binDir, b)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: run `make tools build`", b, o.binDir)
		}
	}
	return &o, nil
}

func runBench(o *options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	workDir := o.workDir
	if workDir == "" {
		d, err := os.MkdirTemp("", "gitops-bench-")
		if err != nil {
			return err
		}
		workDir = d
	}
	workDir, err := filepath.Abs(workDir)
	if err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	rep := &report{
		Workload:    o.workload,
		Date:        time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Machine:     machine(),
		KubeVersion: toolsVersion(o.repoRoot),
		GitOpsArgs:  o.gitopsArgs,
		SharedEtcd:  o.sharedEtcd,
		KCMQPS:      o.kcmQPS,
		Phase2:      o.phase2,
		Timeout:     o.timeout.String(),

		ReferenceFresh: o.reference,
	}
	failed := 0
	for _, n := range o.ns {
		for i := 1; i <= o.runs && ctx.Err() == nil; i++ {
			dir := filepath.Join(workDir, fmt.Sprintf("n%d-run%d", n, i))
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			logf("N=%d run %d/%d in %s", n, i, o.runs, dir)
			res := runOnce(ctx, runConfig{
				N: n, Run: i, Workload: o.workload, Dir: dir, BinDir: o.binDir, RepoRoot: o.repoRoot,
				GitOpsArgs: o.gitopsArgs, SharedEtcd: o.sharedEtcd, KCMQPS: o.kcmQPS, Phase2: o.phase2,
				Idle: o.idle, IdleInterval: idleInterval(o.idleInterval, n), Reference: o.reference, FeedFloor: o.feedFloor, Keep: o.keep,
				Timeout: o.timeout, ReconcileWorkers: o.reconcileWorkers, Profile: o.profile, Logf: logf,
			})
			rep.Runs = append(rep.Runs, res)
			if res.ok() && !o.keep && o.profile == 0 {
				_ = os.RemoveAll(dir)
			} else {
				for _, f := range res.Failures {
					logf("N=%d run %d: %s", n, i, f)
				}
				logf("N=%d run %d: logs kept in %s", n, i, dir)
			}
			if !res.ok() {
				failed++
			}
			// Written after every run, so an interrupted series keeps what it measured.
			if err := write(rep, o); err != nil {
				return err
			}
		}
	}
	if o.workDir == "" && failed == 0 && !o.keep {
		_ = os.RemoveAll(workDir)
	}
	fmt.Print(rep.markdown())
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted")
	case failed > 0:
		return fmt.Errorf("%d of %d runs did not complete (see the report)", failed, len(rep.Runs))
	}
	return nil
}

// idleInterval is the idle phase's interval: as asked, or 1m, or 60 ms
// per app from N=1000 up, so that the idle runs of the N apps spread over
// the interval (at 1m and N=10,000 the workers would be saturated, and
// the window would measure their throughput, not an interval's cost).
func idleInterval(asked time.Duration, n int) time.Duration {
	if asked > 0 {
		return asked
	}
	return max(time.Minute, time.Duration(n)*60*time.Millisecond)
}

// write saves the markdown and JSON reports where asked.
func write(rep *report, o *options) error {
	if o.out != "" {
		if err := writeFile(o.out, []byte(rep.markdown())); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := writeFile(o.jsonOut, append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// machine describes where the numbers come from.
func machine() string {
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0]); len(f) >= 2 {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				mem = fmt.Sprintf(", %d GiB", (kb+(1<<19))>>20)
			}
		}
	}
	return fmt.Sprintf("%d cores%s, %s/%s, %s", runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// toolsVersion is the k8s.io/kubernetes version hack/tools builds
// kube-apiserver and kubectl from.
func toolsVersion(repoRoot string) string {
	b, err := os.ReadFile(filepath.Join(repoRoot, "hack", "tools", "go.mod"))
	if err != nil {
		return "(unknown version)"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "k8s.io/kubernetes" {
			return f[1]
		}
	}
	return "(unknown version)"
}
