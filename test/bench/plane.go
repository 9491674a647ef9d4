package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

// plane is one running control plane of a run, with the harness's clients
// and the processes whose CPU and memory it reads. A run starts several,
// one after the other: the main one (phase 1, phase 2, the idle phase),
// then a fresh one for each reference and one for the feed floor.
type plane struct {
	cp   *framework.ControlPlane
	kube kubernetes.Interface
	// flux is nil on a plane without gitops-apiserver.
	flux versioned.Interface
	dir  string

	// gitopsPID is 0 on a plane without gitops-apiserver.
	gitopsPID, kubePID, etcdPID int
	// clusterPIDs are kube-controller-manager, kube-scheduler and kwok
	// (those found).
	clusterPIDs []int
}

// planeOptions say what a plane runs.
type planeOptions struct {
	// name is for logs.
	name string
	dir  string
	// clusterOnly: no gitops-apiserver (the references).
	clusterOnly bool
	gitopsArgs  []string
	// waitLease waits until a replica holds the workers' Lease.
	waitLease bool
	// namespaces are created (with what kube-controller-manager would
	// add to them) before startPlane returns.
	namespaces []string
}

// namespaceWorkers is how many namespaces the harness creates at once.
const namespaceWorkers = 16

// startPlane starts a fresh control plane; on error nothing is left
// running.
func startPlane(ctx context.Context, cfg runConfig, po planeOptions) (_ *plane, err error) {
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	cp, err := framework.Start(startCtx, framework.Options{
		Dir: po.dir, BinDir: cfg.BinDir, RepoRoot: cfg.RepoRoot,
		GitOpsArgs: po.gitopsArgs, SharedEtcd: cfg.SharedEtcd, ClusterOnly: po.clusterOnly,
		ControllerManagerQPS: cfg.KCMQPS,
		Log:                  func(format string, args ...any) { cfg.Logf(po.name+" control plane: "+format, args...) },
	})
	if err != nil {
		return nil, err
	}
	p := &plane{cp: cp, dir: po.dir}
	defer func() {
		if err != nil {
			p.stop()
		}
	}()
	rc := cp.RESTConfig()
	rc.QPS = -1 // no client-side rate limit: the harness must not be the bottleneck
	rc.UserAgent = "gitops-bench"
	if p.kube, err = kubernetes.NewForConfig(rc); err != nil {
		return nil, err
	}
	// Other control planes may run the same binaries: find ours by the
	// directories only they were given.
	if !po.clusterOnly {
		if p.flux, err = versioned.NewForConfig(rc); err != nil {
			return nil, err
		}
		if p.gitopsPID, err = findPID("--data-dir=" + cp.GitOpsDataDir()); err != nil {
			return nil, fmt.Errorf("gitops-apiserver: %w", err)
		}
	}
	if p.kubePID, err = findPID("--cert-dir=" + filepath.Join(po.dir, "kube-apiserver-certs")); err != nil {
		return nil, fmt.Errorf("kube-apiserver: %w", err)
	}
	if p.etcdPID, err = findPID("--data-dir=" + filepath.Join(po.dir, "etcd-data")); err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	// The rest of the cluster, when the control plane runs it: its CPU
	// is reported apart.
	for _, args := range [][]string{
		{"--cert-dir=" + filepath.Join(po.dir, "kube-controller-manager-certs")},
		{"--cert-dir=" + filepath.Join(po.dir, "kube-scheduler-certs")},
		{"--kubeconfig=" + cp.Kubeconfig, "--manage-all-nodes=false"},
	} {
		if pid, err := findPID(args...); err == nil {
			p.clusterPIDs = append(p.clusterPIDs, pid)
		}
	}
	if po.waitLease && !slices.Contains(po.gitopsArgs, "--leader-elect=false") {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if res := waitWorkersLease(lctx, p.kube); !res.complete() {
			return nil, fmt.Errorf("the workers' Lease flux-system/gitops-apiserver-workers: %s", res.summary())
		}
	}
	started := time.Since(start)
	if len(po.namespaces) > 0 {
		nsCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		t := time.Now()
		if err := p.createNamespaces(nsCtx, po.namespaces); err != nil {
			return nil, err
		}
		cfg.Logf("%s control plane: started in %.1f s; %d namespaces ready %.1f s later", po.name, started.Seconds(),
			len(po.namespaces), time.Since(t).Seconds())
	} else {
		cfg.Logf("%s control plane: started in %.1f s", po.name, started.Seconds())
	}
	return p, nil
}

// stop stops the control plane.
func (p *plane) stop() {
	if p != nil && p.cp != nil {
		p.cp.Stop()
	}
}

// apply is the benchmark's one way to send objects: one kubectl
// server-side apply without client-side validation. kubectl sends one
// request per object and makes a new REST client (with a fresh token
// bucket) per object, so its client-side rate limit never applies.
func (p *plane) apply(ctx context.Context, manifest string) error {
	_, err := p.cp.KubectlWithInput(ctx, strings.NewReader(manifest), "apply", "--server-side", "--validate=false", "-f", "-")
	if err != nil && len(err.Error()) > 2000 {
		err = fmt.Errorf("%s…", err.Error()[:2000])
	}
	return err
}

// applyParallel applies docs with procs kubectl processes in parallel,
// over procs slices of every group of `group` consecutive documents (an
// app's objects stay together). It is for untimed steps, e.g. changing
// the intervals, so they take seconds at N=10000, not minutes.
func (p *plane) applyParallel(ctx context.Context, docs []string, group, procs int) error {
	var g errgroup.Group
	for _, s := range split(docs, group, procs) {
		g.Go(func() error { return p.apply(ctx, strings.Join(s, "---\n")) })
	}
	return g.Wait()
}

// split cuts docs into at most n slices of whole groups of `group`
// documents, in order.
func split(docs []string, group, n int) [][]string {
	groups := len(docs) / group
	var out [][]string
	for k := 0; k < n; k++ {
		lo, hi := k*groups/n, (k+1)*groups/n
		if k == n-1 {
			hi = groups
		}
		if lo < hi {
			end := group * hi
			if k == n-1 {
				end = len(docs) // a partial last group, if any
			}
			out = append(out, docs[group*lo:end])
		}
	}
	return out
}

// createNamespaces creates the namespaces with the harness's own client,
// namespaceWorkers at a time, each with the ServiceAccount "default" and
// the ConfigMap "kube-root-ca.crt" exactly as kube-controller-manager
// makes them: its controllers write at 20 requests per second
// (--kube-api-qps), which would take 500 s for 10,000 namespaces and then
// run on into the phases. They find both there and write nothing. Then
// it checks (on a watch) that every namespace has both.
func (p *plane) createNamespaces(ctx context.Context, names []string) error {
	rc := p.cp.RESTConfig()
	ca, err := os.ReadFile(rc.CAFile) // kube-controller-manager's --root-ca-file
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(namespaceWorkers)
	for _, n := range names {
		g.Go(func() error {
			if _, err := p.kube.CoreV1().Namespaces().Create(gctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}},
				metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("namespace %s: %w", n, err)
			}
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
			if _, err := p.kube.CoreV1().ServiceAccounts(n).Create(gctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("namespace %s: ServiceAccount default: %w", n, err)
			}
			if _, err := p.kube.CoreV1().ConfigMaps(n).Create(gctx, rootCAConfigMap(ca), metav1.CreateOptions{}); err != nil &&
				!apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("namespace %s: ConfigMap kube-root-ca.crt: %w", n, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return waitNamespaceDefaults(ctx, p.kube, names)
}

// rootCAConfigMap is the ConfigMap kube-controller-manager's
// root-ca-cert-publisher puts in every namespace (it leaves one with the
// same data and a description annotation alone).
func rootCAConfigMap(ca []byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: "kube-root-ca.crt",
			Annotations: map[string]string{"kubernetes.io/description": "Contains a CA bundle that can be used to verify the " +
				"kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
				"No other usage is guaranteed across distributions of Kubernetes clusters."},
		},
		Data: map[string]string{"ca.crt": string(ca)},
	}
}

// cpu reads every process's CPU time so far; processes that cannot be read
// count 0 (the phase's difference then says so by being negative or 0).
func (p *plane) cpu() cpuUse {
	var c cpuUse
	if p.gitopsPID != 0 {
		c.GitOps, _ = cpuSeconds(p.gitopsPID, false)
	}
	c.Kube, _ = cpuSeconds(p.kubePID, false)
	c.Etcd, _ = cpuSeconds(p.etcdPID, false)
	c.Harness, _ = cpuSeconds(os.Getpid(), true)
	for _, pid := range p.clusterPIDs {
		s, _ := cpuSeconds(pid, false)
		c.Cluster += s
	}
	return c
}

// scrape reads both servers' request counters.
type scrape struct{ gitops, kube requestCounts }

func (p *plane) scrape(ctx context.Context) (scrape, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var s scrape
	body, err := p.cp.GitOpsGet(ctx, "/metrics")
	if err != nil {
		return s, fmt.Errorf("gitops-apiserver /metrics: %w", err)
	}
	if s.gitops, err = parseRequestCounts(body); err != nil {
		return s, err
	}
	body, err = p.kube.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return s, fmt.Errorf("kube-apiserver /metrics: %w", err)
	}
	s.kube, err = parseRequestCounts(body)
	return s, err
}
