package watch

// The informers of one resource in one cluster: which scopes run (all
// namespaces, or each namespace applied to once that list was refused),
// how long an unneeded one lingers, when a failing one is not trusted,
// and the events they deliver.

import (
	"context"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// resource is the watch of one resource in one cluster: one informer over
// all namespaces ("" in informers), or, once that was refused, one per
// namespace the owners applied to.
type resource struct {
	owners      map[string]map[string]bool // owner → namespaces
	unusedSince time.Time                  // zero while an owner needs it
	informers   map[string]*informer       // by namespace, "" for all
	refused     map[string]time.Time       // by namespace: when its list was refused
	// idleSince: when a namespace informer stopped being needed while
	// the one over all namespaces did not cover it.
	idleSince map[string]time.Time
}

type informer struct {
	inf    cache.SharedIndexInformer
	cancel context.CancelFunc // nil until started
	// failedAt is the informer's last synced resourceVersion when its
	// list or watch last failed; nil once it has moved on. While failing,
	// the cache may be stale for good (the cluster went away, the
	// network guard refuses it), so it answers nothing.
	failedAt atomic.Pointer[string]
}

// current reports whether the informer has synced and is not failing.
func (i *informer) current() bool {
	if !i.inf.HasSynced() {
		return false
	}
	at := i.failedAt.Load()
	if at == nil {
		return true
	}
	if *at == i.inf.LastSyncResourceVersion() {
		return false
	}
	i.failedAt.CompareAndSwap(at, nil)
	return true
}

// Sweep stops the informers no owner needed for Options.Linger, forgets
// clusters left without informers, retries refused lists whose time came,
// and stops per-namespace informers once one over all namespaces runs.
// Start calls it periodically.
func (s *Informers) Sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for key, c := range s.clusters {
		for gvr, r := range c.resources {
			if len(r.owners) == 0 {
				if now.Sub(r.unusedSince) < s.opts.Linger {
					continue
				}
				for ns, inf := range r.informers {
					stop(inf)
					delete(r.informers, ns)
				}
				delete(c.resources, gvr)
				continue
			}
			_ = s.settle(key, c, gvr, r)
		}
		if len(c.resources) == 0 {
			delete(s.clusters, key)
		}
	}
}

// settle starts and stops r's informers: one over all namespaces unless
// that list was refused lately; otherwise one per namespace an owner
// needs, unless refused lately too. Per-namespace informers stop once the
// one over all namespaces is current, or Options.Linger after no owner
// needs their namespace.
func (s *Informers) settle(key string, c *cluster, gvr schema.GroupVersionResource, r *resource) error {
	now := s.now()
	usable := func(ns string) bool {
		at, ok := r.refused[ns]
		if ok && now.Sub(at) < s.opts.Retry {
			return false
		}
		delete(r.refused, ns)
		return true
	}
	var errs []error
	if r.informers[""] == nil && usable("") {
		if err := s.add(key, c, gvr, r, ""); err != nil {
			errs = append(errs, err)
		}
	}
	all := r.informers[""]
	covered := all != nil && all.current()
	need := map[string]bool{}
	if !covered {
		for _, namespaces := range r.owners {
			for ns := range namespaces {
				if ns != "" {
					need[ns] = true
				}
			}
		}
	}
	for ns, inf := range r.informers {
		switch {
		case ns == "":
		case need[ns]:
			delete(r.idleSince, ns)
		case covered:
			stop(inf)
			delete(r.informers, ns)
			delete(r.idleSince, ns)
		default:
			if _, ok := r.idleSince[ns]; !ok {
				r.idleSince[ns] = now
			}
			if now.Sub(r.idleSince[ns]) >= s.opts.Linger {
				stop(inf)
				delete(r.informers, ns)
				delete(r.idleSince, ns)
			}
		}
	}
	if all != nil && !all.inf.HasSynced() {
		// Until the list over all namespaces is known to work, only the
		// namespace informers already running keep running.
		for ns := range need {
			if r.informers[ns] == nil {
				delete(need, ns)
			}
		}
	}
	for ns := range need {
		if r.informers[ns] == nil && usable(ns) {
			if err := s.add(key, c, gvr, r, ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// add starts an informer of gvr in namespace ns ("" for all).
func (s *Informers) add(key string, c *cluster, gvr schema.GroupVersionResource, r *resource, ns string) error {
	inf := metadatainformer.NewFilteredMetadataInformer(c.client, gvr, ns, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = s.opts.LabelSelector }).Informer()
	// managedFields are most of an object's metadata and never read here.
	if err := inf.SetTransform(dropManagedFields); err != nil {
		return err
	}
	if _, err := inf.AddEventHandler(s.handler(key, gvr)); err != nil {
		return err
	}
	entry := &informer{inf: inf}
	if err := inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, ref *cache.Reflector, err error) {
		if refusal(err) {
			s.refused(key, gvr, ns, entry, err)
			return
		}
		rv := inf.LastSyncResourceVersion()
		entry.failedAt.Store(&rv)
		cache.DefaultWatchErrorHandler(ctx, ref, err)
	}); err != nil {
		return err
	}
	r.informers[ns] = entry
	s.run(entry)
	return nil
}

// refused stops an informer whose list the cluster refused, and falls back
// to per-namespace informers when it was the one over all namespaces.
func (s *Informers) refused(key string, gvr schema.GroupVersionResource, ns string, entry *informer, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clusters[key]
	if c == nil {
		return
	}
	r := c.resources[gvr]
	if r == nil || r.informers[ns] != entry {
		return
	}
	stop(entry)
	delete(r.informers, ns)
	r.refused[ns] = s.now()
	scope := "all namespaces"
	if ns != "" {
		scope = "namespace " + ns
	}
	klog.InfoS("Watching applied objects was refused; changes are seen at the interval unless narrower watches work",
		"cluster", key, "resource", gvr.String(), "scope", scope, "retryAfter", s.opts.Retry, "err", err.Error())
	_ = s.settle(key, c, gvr, r)
}

// refusal reports whether a list error will not go away by retrying soon.
func refusal(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err)
}

func (s *Informers) run(inf *informer) {
	if s.ctx == nil || inf.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	inf.cancel = cancel
	go inf.inf.RunWithContext(ctx)
}

func stop(inf *informer) {
	if inf.cancel != nil {
		inf.cancel()
	}
}

func (s *Informers) handler(key string, resource schema.GroupVersionResource) cache.ResourceEventHandler {
	emit := func(obj interface{}) {
		if s.opts.Handler == nil {
			return
		}
		e := Event{Cluster: key, Resource: resource}
		switch o := obj.(type) {
		case *metav1.PartialObjectMetadata:
			e.Namespace, e.Name, e.Object = o.Namespace, o.Name, o
		case cache.DeletedFinalStateUnknown:
			ns, name, err := cache.SplitMetaNamespaceKey(o.Key)
			if err != nil {
				return
			}
			e.Namespace, e.Name = ns, name
		default:
			return
		}
		s.opts.Handler(e)
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { emit(obj) },
		UpdateFunc: func(_, obj interface{}) { emit(obj) },
		DeleteFunc: func(obj interface{}) {
			if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
				emit(cache.DeletedFinalStateUnknown{Key: keyOf(m), Obj: m})
				return
			}
			emit(obj)
		},
	}
}

func keyOf(m *metav1.PartialObjectMetadata) string {
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

func dropManagedFields(obj interface{}) (interface{}, error) {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		m.ManagedFields = nil
	}
	return obj, nil
}
