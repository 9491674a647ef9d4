package ssa

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Owner identifies the applier.
type Owner struct {
	// Field is the server-side apply field manager, e.g.
	// "kustomize-controller".
	Field string
	// Group is the API group whose annotations steer the apply, e.g.
	// "kustomize.toolkit.fluxcd.io" for <group>/ssa, <group>/force,
	// <group>/reconcile and <group>/prune.
	Group string
}

// Default client rate limits when the config sets none; client-go's (5 QPS)
// would make a large apply crawl. The same as kustomize-controller's flags.
const (
	defaultQPS   = 50
	defaultBurst = 300
)

// defaultTimeout bounds one request when the config sets no timeout.
const defaultTimeout = 60 * time.Second

// concurrency is how many objects are applied, deleted, diffed or polled at
// once (kustomize-controller's --concurrent-ssa default).
const concurrency = 4

// Manager applies, prunes, diffs and waits for objects in one cluster as one
// identity. It is safe for concurrent use; share one per target cluster and
// identity, since it caches discovery and the resourceVersions it saw.
type Manager struct {
	owner Owner
	keys  policyKeys

	client rest.Interface // raw requests: apply (status code needed)
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper

	resetMu   sync.Mutex
	lastReset time.Time

	seen seenCache
}

// New builds a Manager for the cluster and identity of cfg. Discovery is
// read on first use and cached in memory; it is read again when a kind is
// not found, and after a stage that created or changed a CRD.
func New(cfg *rest.Config, owner Owner) (*Manager, error) {
	if owner.Field == "" {
		return nil, errors.New("ssa: owner field manager is required")
	}
	c := dynamic.ConfigFor(cfg) // a copy, with JSON and unstructured decoding
	if c.QPS == 0 && c.RateLimiter == nil {
		c.QPS, c.Burst = defaultQPS, defaultBurst
	}
	if c.Timeout == 0 {
		// Every request has a context but discovery's; this bounds those
		// against a server that accepts connections and never answers.
		c.Timeout = defaultTimeout
	}
	httpClient, err := rest.HTTPClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("ssa: %w", err)
	}
	rc := rest.CopyConfig(c)
	rc.GroupVersion = nil
	rc.APIPath = "/" // requests use absolute paths
	client, err := rest.UnversionedRESTClientForConfigAndClient(rc, httpClient)
	if err != nil {
		return nil, fmt.Errorf("ssa: %w", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(c, httpClient)
	if err != nil {
		return nil, fmt.Errorf("ssa: %w", err)
	}
	return &Manager{
		owner:  owner,
		keys:   keysFor(owner.Group),
		client: client,
		dyn:    dynamic.New(client),
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco)),
		seen:   seenCache{m: map[string]seenEntry{}},
	}, nil
}

// notServedError says the cluster does not serve a kind.
type notServedError struct{ gvk schema.GroupVersionKind }

func (e *notServedError) Error() string {
	return fmt.Sprintf("the cluster does not serve kind %s in %s (is its CustomResourceDefinition installed?)",
		e.gvk.Kind, e.gvk.GroupVersion())
}

// isNotServed reports whether err is a notServedError.
func isNotServed(err error) bool {
	var ns *notServedError
	return errors.As(err, &ns)
}

// mapping returns how gvk is served. A kind that is not found makes the
// mapper re-read discovery once (CRDs come and go); misses that started
// before the last re-read only retry, so a burst of them costs one read.
// Discovery takes no context, so the lookup runs aside and the caller gets
// ctx's error when ctx ends first; the lookup itself is bounded by the
// client's timeout (see New).
func (m *Manager) mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	type result struct {
		mp  *meta.RESTMapping
		err error
	}
	done := make(chan result, 1)
	go func() {
		mp, err := m.lookup(gvk)
		done <- result{mp, err}
	}()
	select {
	case r := <-done:
		return r.mp, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("discovering how %s is served: %w", gvk.Kind, ctx.Err())
	}
}

func (m *Manager) lookup(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	start := time.Now()
	mp, err := m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err == nil || !meta.IsNoMatchError(err) {
		return mp, err
	}
	m.resetMu.Lock()
	if m.lastReset.Before(start) {
		m.mapper.Reset()
		m.lastReset = time.Now()
	}
	m.resetMu.Unlock()
	mp, err = m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return nil, &notServedError{gvk: gvk}
	}
	return mp, err
}

// resetMapper makes the next mapping re-read discovery.
func (m *Manager) resetMapper() {
	m.resetMu.Lock()
	defer m.resetMu.Unlock()
	m.mapper.Reset()
	m.lastReset = time.Now()
}

// resource returns the dynamic client for an object of mapping in namespace.
func (m *Manager) resource(mp *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if mp.Scope.Name() == meta.RESTScopeNameNamespace {
		return m.dyn.Resource(mp.Resource).Namespace(namespace)
	}
	return m.dyn.Resource(mp.Resource)
}

// forEach runs fn(i) for i in [0, n) with at most concurrency at once. Once
// stop returns true no new calls start; calls already running finish.
func forEach(ctx context.Context, n int, stop func() bool, fn func(i int)) {
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if stop() || ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		if stop() {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}

// untilFailure runs fn for 0..n-1 as forEach does, starting nothing more
// after a failure. It returns the results of the runs that succeeded, in
// order, and every failure (or ctx's error when it stopped the runs).
func untilFailure[T any](ctx context.Context, n int, fn func(i int) (T, error)) ([]T, error) {
	results := make([]T, n)
	errs := make([]error, n)
	ran := make([]bool, n)
	var failed atomic.Bool
	forEach(ctx, n, failed.Load, func(i int) {
		ran[i] = true
		results[i], errs[i] = fn(i)
		if errs[i] != nil {
			failed.Store(true)
		}
	})
	var out []T
	var all []error
	for i := range n {
		switch {
		case errs[i] != nil:
			all = append(all, errs[i])
		case ran[i]:
			out = append(out, results[i])
		}
	}
	if len(all) == 0 && len(out) < n && ctx.Err() != nil {
		all = append(all, ctx.Err())
	}
	return out, errors.Join(all...)
}
