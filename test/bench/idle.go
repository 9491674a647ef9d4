package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
)

// idleResult is what one idle interval cost: everything measured over a
// window of one interval (IntervalSeconds) that started once every object
// was Ready at that interval and kube-controller-manager was done with the
// apps. Counts are over the window (WindowSeconds, a little longer than
// the interval); the report gives them per app and per interval.
type idleResult struct {
	IntervalSeconds float64 `json:"intervalSeconds"`
	WindowSeconds   float64 `json:"windowSeconds"`
	// SettleSeconds is from the interval change until the window could
	// start.
	SettleSeconds float64 `json:"settleSeconds"`
	// Requests by verb ("APPLY dry-run" apart from APPLY).
	KubeByVerb   map[string]float64 `json:"kubeApiserverRequestsByVerb"`
	GitOpsByVerb map[string]float64 `json:"gitopsApiserverRequestsByVerb"`
	// KubeWrites are kube-apiserver's write requests by "resource VERB",
	// without KubeBackground: the control plane's own (leases, the node's
	// heartbeats, kube-controller-manager's status of Deployments and
	// ReplicaSets), which the workers never send.
	KubeWrites     map[string]float64 `json:"kubeApiserverWrites"`
	KubeBackground map[string]float64 `json:"kubeApiserverBackgroundWrites"`
	// KubeFailed are kube-apiserver's answers of 400 or more by
	// "resource VERB code" (counted in the requests all the same).
	KubeFailed map[string]float64 `json:"kubeApiserverFailed,omitempty"`
	// GitOpsWrites are gitops-apiserver's write requests by "resource
	// VERB" (writes made in-process, without a request, are not there:
	// FluxChanges counts those).
	GitOpsWrites map[string]float64 `json:"gitopsApiserverWrites"`
	// FluxChanges counts the changes of the workload's Flux objects seen
	// on watches, by kind: every stored write of them, however made.
	FluxChanges map[string]float64 `json:"fluxObjectChanges"`
	// Reconciles counts the runs of the workers by kind
	// (gotk_reconcile_total): about N of each kind in one interval.
	Reconciles map[string]float64 `json:"reconciles"`
	// Events are the Events recorded (created or repeated) in the window,
	// by "reporting controller, kind of the object, reason": who sent the
	// event writes.
	Events map[string]float64 `json:"events,omitempty"`
	CPU    cpuUse             `json:"cpuSeconds"`
}

// perAppInterval scales a count over the window to one app and one
// interval.
func (i *idleResult) perAppInterval(x float64, n int) float64 {
	if i == nil || i.WindowSeconds <= 0 || n <= 0 {
		return 0
	}
	return x * i.IntervalSeconds / i.WindowSeconds / float64(n)
}

// writes is every write the apps caused in the window: kube-apiserver's
// (without the control plane's own) and the stored writes of the Flux
// objects: gitops-apiserver's write requests, or the changes seen on the
// watches when more (in-process writes send no request; an update that
// changes nothing is a request but no change).
func (i *idleResult) writes() float64 {
	flux := max(sum(i.GitOpsWrites), sum(i.FluxChanges))
	return sum(i.KubeWrites) + flux
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// idleSettle is how long the window waits after everything is Ready and
// kube-controller-manager is done, for the last status writes and events.
const idleSettle = 5 * time.Second

// idle measures one idle interval. Every GitRepository and Kustomization
// gets the interval -idle-interval (one server-side apply of the two
// documents per app, by eight kubectl processes: a spec change, so each
// runs once more at once); once all are Ready at it and
// kube-controller-manager has observed every app's Deployment, and
// idleSettle later, the window starts: one interval long. With the
// workers' jitter of up to +5 % on each interval, each object runs about
// once in the window (Reconciles says how often they did). Measured over
// the window: each server's requests by verb (apiserver_request_total),
// writes, the changes of the Flux objects on watches, and the CPU seconds
// of gitops-apiserver and kube-apiserver (/proc/<pid>/stat).
func (r *run) idle(ctx context.Context) {
	N, I := r.cfg.N, r.cfg.IdleInterval
	res := &idleResult{IntervalSeconds: I.Seconds()}
	r.res.Idle = res
	r.cfg.Logf("idle phase: every GitRepository and Kustomization to interval %s", I)
	start := time.Now()
	docs := intervalDocs(N, r.git.URL(), I.String())
	_, waits, err := r.measure(ctx, func(ctx context.Context) error { return r.applyParallel(ctx, docs, 2, referenceProcesses) },
		target{what: "Kustomizations Ready at interval " + I.String(), lw: kustomizationsLW(r.flux), obj: &kustomizev1.Kustomization{},
			ok: atInterval(I, kustomizationReady)},
		target{what: "GitRepositories Ready at interval " + I.String(), lw: gitRepositoriesLW(r.flux), obj: &sourcev1.GitRepository{},
			ok: atInterval(I, gitRepositoryReady)})
	if err != nil {
		r.res.fail("idle phase: changing the interval: %v", err)
		return
	}
	for _, w := range waits {
		if !w.complete() {
			r.res.fail("idle phase: not all Ready at interval %s after %s: %s", I, r.cfg.Timeout, w.summary())
			return
		}
	}
	wctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	names := make([]string, N)
	for i := range names {
		names[i] = benchNamespace(i)
	}
	if len(r.clusterPIDs) > 0 {
		if w := waitDeploymentsObserved(wctx, r.kube, names); !w.complete() {
			r.res.fail("idle phase: kube-controller-manager has not observed every Deployment: %s", w.summary())
			return
		}
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(idleSettle):
	}
	res.SettleSeconds = time.Since(start).Seconds()
	r.cfg.Logf("idle phase: settled after %.1f s; measuring one interval (%s)", res.SettleSeconds, I)

	before, err := r.scrape(ctx)
	if err != nil {
		r.res.fail("idle phase: metrics: %v", err)
		return
	}
	wctx, stopWatches := context.WithCancel(ctx)
	defer stopWatches()
	kinds := map[string]cache.ListerWatcher{"Kustomization": kustomizationsLW(r.flux), "GitRepository": gitRepositoriesLW(r.flux)}
	counters := map[string]*changeCounter{}
	for kind, lw := range kinds {
		c, err := countChanges(wctx, lw)
		if err != nil {
			r.res.fail("idle phase: watching %ss: %v", kind, err)
			return
		}
		counters[kind] = c
	}
	cpu0 := r.cpu()
	t := time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(I):
	}
	res.CPU = r.cpu().since(cpu0)
	res.WindowSeconds = time.Since(t).Seconds()
	stopWatches()
	res.FluxChanges = map[string]float64{}
	for kind, c := range counters {
		n, err := c.wait()
		if err != nil {
			r.res.fail("idle phase: watching %ss: %v", kind, err)
		}
		res.FluxChanges[kind] = n
	}
	after, err := r.scrape(ctx)
	if err != nil {
		r.res.fail("idle phase: metrics: %v", err)
		return
	}
	if res.Events, err = eventsSince(ctx, r.kube, t); err != nil {
		r.res.fail("idle phase: listing Events: %v", err)
	}
	k, g := after.kube.since(before.kube), after.gitops.since(before.gitops)
	res.KubeByVerb, res.GitOpsByVerb = k.ByVerb, g.ByVerb
	res.KubeWrites, res.KubeBackground = splitWrites(k.ByKind)
	res.GitOpsWrites, _ = splitWrites(g.ByKind)
	res.Reconciles = g.Reconciles
	res.KubeFailed = k.Failed
	per := func(x float64) float64 { return res.perAppInterval(x, N) }
	r.cfg.Logf("idle phase: per app and interval: %.2f writes (kube-apiserver %.2f, Flux objects changed %.2f, gitops-apiserver write requests %.2f), "+
		"kube-apiserver requests %.2f, gitops-apiserver requests %.2f, CPU gitops-apiserver %.1f ms, kube-apiserver %.1f ms",
		per(res.writes()), per(sum(res.KubeWrites)), per(sum(res.FluxChanges)), per(sum(res.GitOpsWrites)),
		per(k.Total), per(g.Total), 1000*per(res.CPU.GitOps), 1000*per(res.CPU.Kube))
	r.cfg.Logf("idle phase: kube-apiserver requests by verb %s; writes %s; background %s", top(k.ByVerb, 12),
		top(res.KubeWrites, 8), top(res.KubeBackground, 8))
	r.cfg.Logf("idle phase: gitops-apiserver requests by verb %s; writes %s", top(g.ByVerb, 12), top(res.GitOpsWrites, 8))
	if len(k.Failed)+len(g.Failed) > 0 {
		r.cfg.Logf("idle phase: failed requests, kube-apiserver %s; gitops-apiserver %s", top(k.Failed, 8), top(g.Failed, 8))
	}
	r.cfg.Logf("idle phase: runs in the window %s; Events %s; CPU %s", top(res.Reconciles, 4), top(res.Events, 6), res.CPU)
}

// eventsSince counts the Events last recorded at or after since (to the
// second, their timestamps' precision) by "reporting controller, kind,
// reason".
func eventsSince(ctx context.Context, kube kubernetes.Interface, since time.Time) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	since = since.Truncate(time.Second)
	out := map[string]float64{}
	for o := (metav1.ListOptions{Limit: 500}); ; {
		l, err := kube.CoreV1().Events(metav1.NamespaceAll).List(ctx, o)
		if err != nil {
			return out, err
		}
		for _, e := range l.Items {
			last := e.LastTimestamp.Time
			if e.Series != nil && e.Series.LastObservedTime.After(last) {
				last = e.Series.LastObservedTime.Time
			}
			if e.EventTime.After(last) {
				last = e.EventTime.Time
			}
			if last.Before(since) {
				continue
			}
			who := e.ReportingController
			if who == "" {
				who = e.Source.Component
			}
			out[fmt.Sprintf("%s %s %s", who, e.InvolvedObject.Kind, e.Reason)]++
		}
		if o.Continue = l.Continue; o.Continue == "" {
			return out, nil
		}
	}
}

// atInterval is ok once the object has spec.interval d (the change reached
// it) and ok holds.
func atInterval(d time.Duration, ok check) check {
	return func(obj runtime.Object) (bool, string) {
		var text string
		switch o := obj.(type) {
		case *kustomizev1.Kustomization:
			text = string(o.Spec.Interval)
		case *sourcev1.GitRepository:
			text = string(o.Spec.Interval)
		default:
			return false, fmt.Sprintf("unexpected %T", obj)
		}
		// The text as the idle phase renders it: at N=10000 phase 1's "10m"
		// is already the idle interval, and a parsed comparison passed every
		// object before its change to "10m0s" (a new generation, so a full
		// run) had even been applied.
		if text != d.String() {
			return false, fmt.Sprintf("interval %s, not yet %s", text, d)
		}
		return ok(obj)
	}
}

// waitDeploymentsObserved waits until kube-controller-manager has observed
// the Deployment "web" of every namespace (status.observedGeneration ==
// generation, after it made the ReplicaSet): at large N it is still at
// work long after phase 1, and its writes would count as the apps' in the
// idle window.
func waitDeploymentsObserved(ctx context.Context, kube kubernetes.Interface, namespaces []string) waitResult {
	c := kube.AppsV1().Deployments(metav1.NamespaceAll)
	sel := func(o metav1.ListOptions) metav1.ListOptions {
		o.FieldSelector = "metadata.name=web"
		return o
	}
	lw := &cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, sel(o)) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return c.Watch(ctx, sel(o)) },
	}
	return waitAllBy(ctx, lw, &appsv1.Deployment{}, namespaces, metav1.Object.GetNamespace, func(obj runtime.Object) (bool, string) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok {
			return false, fmt.Sprintf("unexpected %T", obj)
		}
		if d.Status.ObservedGeneration != d.Generation {
			return false, fmt.Sprintf("Deployment observedGeneration %d != generation %d", d.Status.ObservedGeneration, d.Generation)
		}
		return true, ""
	}, nil)
}

// changeCounter counts the watch events (added, modified, deleted) of a
// kind from when it started until its context ends.
type changeCounter struct {
	wg  sync.WaitGroup
	n   float64
	err error
}

// countChanges starts counting from the kind's current resourceVersion.
func countChanges(ctx context.Context, lw cache.ListerWatcher) (*changeCounter, error) {
	lwc := cache.ToListerWatcherWithContext(lw)
	list, err := lwc.ListWithContext(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return nil, err
	}
	acc, err := apimeta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, acc.GetResourceVersion(), lwc)
	if err != nil {
		return nil, err
	}
	c := &changeCounter{}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					if ctx.Err() == nil {
						c.err = fmt.Errorf("watch ended")
					}
					return
				}
				switch ev.Type {
				case watch.Added, watch.Modified, watch.Deleted:
					c.n++
				case watch.Error:
					c.err = apiStatusError(ev.Object)
				}
			}
		}
	}()
	return c, nil
}

// wait returns the count once the counter stopped.
func (c *changeCounter) wait() (float64, error) {
	c.wg.Wait()
	return c.n, c.err
}

func apiStatusError(obj runtime.Object) error {
	if s, ok := obj.(*metav1.Status); ok {
		return fmt.Errorf("watch error: %s", s.Message)
	}
	return fmt.Errorf("watch error: %v", obj)
}
