// Package watch keeps metadata-only informers on the objects that appliers
// applied: one informer per API resource (GroupVersionResource) per target
// cluster, shared by every applier of that cluster, selected by a label the
// appliers put on what they apply, and started lazily when an applier first
// applied something of that resource.
//
// The informers are triggers and a cache of resourceVersions, nothing more:
// they run as the server's own identity and see every labelled object, so
// what an event means for an applier is decided by the caller against its
// own record of what it applied (a label is easy to forge; an inventory
// entry is not). Only metadata is watched, and managedFields are dropped
// from the cache, so a watched object costs a few hundred bytes.
package watch

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Event is a change of a watched object.
type Event struct {
	// Cluster is the key the informer was started under.
	Cluster   string
	Resource  schema.GroupVersionResource
	Namespace string
	Name      string
	// Object is the object's metadata now; nil when it is gone (deleted,
	// or it lost the selected label).
	Object *metav1.PartialObjectMetadata
}

// Options configure Informers.
type Options struct {
	// LabelSelector selects the watched objects (list and watch are
	// filtered by the API server).
	LabelSelector string
	// Handler receives every add (including the initial list), update and
	// delete. It runs on the informer's goroutine and must not block.
	Handler func(Event)
}

// Informers are the metadata informers of every target cluster.
type Informers struct {
	opts Options

	mu       sync.Mutex
	ctx      context.Context // nil until Start
	clusters map[string]*cluster
}

type cluster struct {
	client    metadata.Interface
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer
}

// New returns Informers that start watching when Start is called.
func New(opts Options) *Informers {
	return &Informers{opts: opts, clusters: map[string]*cluster{}}
}

// Start runs the informers asked for so far, and from now on each one as
// soon as it is asked for, until ctx is done.
func (s *Informers) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx = ctx
	for _, c := range s.clusters {
		for _, inf := range c.informers {
			go inf.RunWithContext(ctx)
		}
	}
}

// Watch makes sure the objects of resource in the cluster named key are
// watched. cfg reaches that cluster; it is used only the first time key is
// seen, so a key must name one cluster and identity for good.
func (s *Informers) Watch(key string, cfg *rest.Config, resource schema.GroupVersionResource) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clusters[key]
	if !ok {
		client, err := metadata.NewForConfig(cfg)
		if err != nil {
			return fmt.Errorf("metadata client for %s: %w", key, err)
		}
		c = &cluster{client: client, informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{}}
		s.clusters[key] = c
	}
	if _, ok := c.informers[resource]; ok {
		return nil
	}
	inf := metadatainformer.NewFilteredMetadataInformer(c.client, resource, metav1.NamespaceAll, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = s.opts.LabelSelector }).Informer()
	// managedFields are most of an object's metadata and never read here.
	if err := inf.SetTransform(dropManagedFields); err != nil {
		return err
	}
	if _, err := inf.AddEventHandler(s.handler(key, resource)); err != nil {
		return err
	}
	c.informers[resource] = inf
	if s.ctx != nil {
		go inf.RunWithContext(s.ctx)
	}
	return nil
}

// Get returns the cached metadata of an object (nil when the informer does
// not hold it) and whether the informer of its resource has synced; an
// unsynced or missing informer knows nothing, whatever it returns.
func (s *Informers) Get(key string, resource schema.GroupVersionResource, namespace, name string) (*metav1.PartialObjectMetadata, bool) {
	s.mu.Lock()
	c := s.clusters[key]
	var inf cache.SharedIndexInformer
	if c != nil {
		inf = c.informers[resource]
	}
	s.mu.Unlock()
	if inf == nil || !inf.HasSynced() {
		return nil, false
	}
	k := name
	if namespace != "" {
		k = namespace + "/" + name
	}
	o, ok, err := inf.GetStore().GetByKey(k)
	if err != nil || !ok {
		return nil, true
	}
	m, _ := o.(*metav1.PartialObjectMetadata)
	return m, true
}

// Count is how many informers run, for tests and metrics.
func (s *Informers) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.clusters {
		n += len(c.informers)
	}
	return n
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
