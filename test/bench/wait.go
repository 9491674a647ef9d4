package main

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned"
)

// check says whether a watched object is done, and if not, why (for the
// report).
type check func(runtime.Object) (done bool, why string)

// waitResult is what a wait saw: when every wanted object was done (zero if
// it timed out), how many were, and why the others were not.
type waitResult struct {
	Finished time.Time
	Done     int
	Want     int
	// Pending counts the objects not done by reason (at most a few reasons).
	Pending []pendingReason
}

type pendingReason struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

func (r waitResult) complete() bool { return !r.Finished.IsZero() }

// summary is one line for logs and failure reports.
func (r waitResult) summary() string {
	s := fmt.Sprintf("%d of %d done", r.Done, r.Want)
	for _, p := range r.Pending {
		s += fmt.Sprintf("; %d× %s", p.Count, p.Reason)
	}
	return s
}

// waitAll watches (list, then watch, re-listing if the watch breaks) the
// objects lw serves until ok holds for every name in want, or ctx ends.
// It never polls: every decision is made on a watch event.
// progress, when set, follows how many are done.
func waitAll(ctx context.Context, lw cache.ListerWatcher, objType runtime.Object, want []string, ok check, progress *atomic.Int64) waitResult {
	return waitAllBy(ctx, lw, objType, want, metav1.Object.GetName, ok, progress)
}

// waitAllBy is waitAll with the objects told apart by key (e.g. their
// namespace) instead of their name.
func waitAllBy(ctx context.Context, lw cache.ListerWatcher, objType runtime.Object, want []string, key func(metav1.Object) string,
	ok check, progress *atomic.Int64) waitResult {
	wanted := make(map[string]bool, len(want))
	for _, n := range want {
		wanted[n] = true
	}
	done := make(map[string]bool, len(want))
	why := make(map[string]string, len(want))
	res := waitResult{Want: len(want)}
	if len(want) == 0 {
		res.Finished = time.Now()
		return res
	}
	_, _ = watchtools.UntilWithSync(ctx, lw, objType, nil, func(ev watch.Event) (bool, error) {
		acc, err := apimeta.Accessor(ev.Object)
		if err != nil || !wanted[key(acc)] {
			return false, nil
		}
		name := key(acc)
		if ev.Type == watch.Deleted {
			delete(done, name)
			why[name] = "deleted"
			return false, nil
		}
		d, w := ok(ev.Object)
		if d {
			done[name] = true
			delete(why, name)
		} else {
			delete(done, name)
			why[name] = w
		}
		if progress != nil {
			progress.Store(int64(len(done)))
		}
		if len(done) == len(wanted) {
			res.Finished = time.Now()
			return true, nil
		}
		return false, nil
	})
	res.Done = len(done)
	for n := range wanted {
		if !done[n] && why[n] == "" {
			why[n] = "not seen"
		}
	}
	res.Pending = topReasons(why, 5)
	return res
}

// appIndex matches the app number in names, so one failure in N apps
// groups as one reason.
var appIndex = regexp.MustCompile(`\b(app|bench|bench-ref-a|bench-ref-b)-[0-9]+\b`)

// topReasons groups objects by reason, most frequent first.
func topReasons(why map[string]string, limit int) []pendingReason {
	counts := map[string]int{}
	for _, w := range why {
		w = appIndex.ReplaceAllString(w, "$1-<i>")
		if len(w) > 240 {
			w = w[:240] + "…"
		}
		counts[w]++
	}
	var out []pendingReason
	for r, c := range counts {
		out = append(out, pendingReason{Reason: r, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// readyAtGeneration is the benchmark's end condition: Ready=True and
// observedGeneration == generation.
func readyAtGeneration(generation, observed int64, conditions []metav1.Condition) (bool, string) {
	c := apimeta.FindStatusCondition(conditions, "Ready")
	switch {
	case c == nil:
		return false, "no Ready condition yet"
	case c.Status != metav1.ConditionTrue:
		return false, fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, strings.TrimSpace(c.Message))
	case observed != generation:
		return false, fmt.Sprintf("Ready=True but observedGeneration %d != generation %d", observed, generation)
	}
	return true, ""
}

func kustomizationReady(obj runtime.Object) (bool, string) {
	k, ok := obj.(*kustomizev1.Kustomization)
	if !ok {
		return false, fmt.Sprintf("unexpected %T", obj)
	}
	return readyAtGeneration(k.Generation, k.Status.ObservedGeneration, k.Status.Conditions)
}

func gitRepositoryReady(obj runtime.Object) (bool, string) {
	g, ok := obj.(*sourcev1.GitRepository)
	if !ok {
		return false, fmt.Sprintf("unexpected %T", obj)
	}
	return readyAtGeneration(g.Generation, g.Status.ObservedGeneration, g.Status.Conditions)
}

// appliedRevision is done once a Kustomization has applied the commit.
func appliedRevision(commit string) check {
	return func(obj runtime.Object) (bool, string) {
		k, ok := obj.(*kustomizev1.Kustomization)
		if !ok {
			return false, fmt.Sprintf("unexpected %T", obj)
		}
		if strings.HasSuffix(k.Status.LastAppliedRevision, commit) {
			return true, ""
		}
		_, why := readyAtGeneration(k.Generation, k.Status.ObservedGeneration, k.Status.Conditions)
		if why == "" {
			why = "Ready=True"
		}
		return false, fmt.Sprintf("lastAppliedRevision %q; %s", k.Status.LastAppliedRevision, why)
	}
}

func kustomizationsLW(cs versioned.Interface) cache.ListerWatcher {
	c := cs.KustomizeV1().Kustomizations(fluxNamespace)
	return &cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return c.Watch(ctx, o) },
	}
}

func gitRepositoriesLW(cs versioned.Interface) cache.ListerWatcher {
	c := cs.SourceV1().GitRepositories(fluxNamespace)
	return &cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return c.Watch(ctx, o) },
	}
}

// waitWorkersLease waits until a replica holds the workers' Lease, so t0
// does not include leader election.
func waitWorkersLease(ctx context.Context, kube kubernetes.Interface) waitResult {
	c := kube.CoordinationV1().Leases(fluxNamespace)
	lw := &cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return c.Watch(ctx, o) },
	}
	return waitAll(ctx, lw, &coordinationv1.Lease{}, []string{"gitops-apiserver-workers"}, func(obj runtime.Object) (bool, string) {
		l, ok := obj.(*coordinationv1.Lease)
		if ok && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
			return true, ""
		}
		return false, "no holder"
	}, nil)
}

// waitNamespaceDefaults waits until kube-controller-manager has given every
// namespace its ServiceAccount "default" and ConfigMap "kube-root-ca.crt",
// so that work (two creates per namespace) is done before t0.
func waitNamespaceDefaults(ctx context.Context, kube kubernetes.Interface, namespaces []string) error {
	exists := func(runtime.Object) (bool, string) { return true, "" }
	namespaceOf := metav1.Object.GetNamespace
	sas := kube.CoreV1().ServiceAccounts(metav1.NamespaceAll)
	sel := func(o metav1.ListOptions, name string) metav1.ListOptions {
		o.FieldSelector = "metadata.name=" + name
		return o
	}
	saLW := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return sas.List(ctx, sel(o, "default"))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return sas.Watch(ctx, sel(o, "default"))
		},
	}
	if res := waitAllBy(ctx, saLW, &corev1.ServiceAccount{}, namespaces, namespaceOf, exists, nil); !res.complete() {
		return fmt.Errorf("ServiceAccounts \"default\": %s", res.summary())
	}
	cms := kube.CoreV1().ConfigMaps(metav1.NamespaceAll)
	cmLW := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return cms.List(ctx, sel(o, "kube-root-ca.crt"))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cms.Watch(ctx, sel(o, "kube-root-ca.crt"))
		},
	}
	if res := waitAllBy(ctx, cmLW, &corev1.ConfigMap{}, namespaces, namespaceOf, exists, nil); !res.complete() {
		return fmt.Errorf("ConfigMaps \"kube-root-ca.crt\": %s", res.summary())
	}
	return nil
}

// appNames are the names of the N apps' objects.
func appNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = appName(i)
	}
	return names
}
