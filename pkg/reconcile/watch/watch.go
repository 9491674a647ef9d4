// Package watch keeps metadata-only informers on the objects that appliers
// applied: one informer per API resource (GroupVersionResource) per target
// cluster, shared by every applier of that cluster, selected by a label the
// appliers put on what they apply, started when an applier first applied
// something of that resource and stopped a while after the last applier
// stopped needing it.
//
// The informers are triggers and a cache of resourceVersions, nothing more:
// they run as the identity the cluster key names and see every labelled
// object it may list, so what an event means for an applier is decided by
// the caller against its own record of what it applied (a label is easy to
// forge; an inventory entry is not). Only metadata is watched, and
// managedFields are dropped from the cache, so a watched object costs a few
// hundred bytes.
//
// An identity that may not list a resource in all namespaces (a tenant's
// kubeconfig bound to its own namespaces) gets one informer per namespace
// its appliers applied to instead; where even that is refused, the objects
// are not watched (Get says so) and the appliers fall back to their
// interval. Refused lists are tried again after Options.Retry.
package watch

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/metadata"
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

// Object names what an owner applied, as far as watching goes: its
// resource and namespace ("" when cluster-scoped).
type Object struct {
	Resource  schema.GroupVersionResource
	Namespace string
}

// Options configure Informers.
type Options struct {
	// LabelSelector selects the watched objects (list and watch are
	// filtered by the API server).
	LabelSelector string
	// Handler receives every add (including the initial list), update and
	// delete. It runs on the informer's goroutine and must not block.
	Handler func(Event)
	// Linger is how long an informer no owner needs keeps running (an
	// owner between two applies, a Kustomization recreated); default 2m.
	Linger time.Duration
	// Retry is how long a list that was refused (forbidden, unauthorized,
	// or an unknown resource) is not tried again; default 5m.
	Retry time.Duration
	// NewClient builds a cluster's metadata client; default
	// metadata.NewForConfig.
	NewClient func(*rest.Config) (metadata.Interface, error)
}

// Informers are the metadata informers of every target cluster.
type Informers struct {
	opts Options
	now  func() time.Time

	mu       sync.Mutex
	ctx      context.Context // nil until Start
	clusters map[string]*cluster
	owners   map[string]ownerUse
}

// ownerUse is what one owner needs watched.
type ownerUse struct {
	key     string
	objects map[schema.GroupVersionResource]map[string]bool // resource → namespaces
}

type cluster struct {
	client    metadata.Interface
	resources map[schema.GroupVersionResource]*resource
}

// New returns Informers that start watching when Start is called.
func New(opts Options) *Informers {
	if opts.Linger <= 0 {
		opts.Linger = 2 * time.Minute
	}
	if opts.Retry <= 0 {
		opts.Retry = 5 * time.Minute
	}
	if opts.NewClient == nil {
		opts.NewClient = func(cfg *rest.Config) (metadata.Interface, error) { return metadata.NewForConfig(cfg) }
	}
	return &Informers{opts: opts, now: time.Now, clusters: map[string]*cluster{}, owners: map[string]ownerUse{}}
}

// Start runs the informers asked for so far, and from now on each one as
// soon as it is asked for, until ctx is done. It also stops, now and then,
// the informers no owner needed for Options.Linger and retries refused
// lists after Options.Retry.
func (s *Informers) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	for _, c := range s.clusters {
		for _, r := range c.resources {
			for _, inf := range r.informers {
				s.run(inf)
			}
		}
	}
	every := max(min(s.opts.Linger, s.opts.Retry)/2, time.Second)
	s.mu.Unlock()
	go wait.UntilWithContext(ctx, func(context.Context) { s.Sweep() }, every)
}

// Use makes sure what owner applied to the cluster named key is watched,
// and replaces what owner needed before (in whichever cluster). cfg
// reaches that cluster; it is used only when key is not watched yet, so a
// key must name one cluster and identity for good.
func (s *Informers) Use(owner, key string, cfg *rest.Config, objects []Object) error {
	want := ownerUse{key: key, objects: map[schema.GroupVersionResource]map[string]bool{}}
	for _, o := range objects {
		ns := want.objects[o.Resource]
		if ns == nil {
			ns = map[string]bool{}
			want.objects[o.Resource] = ns
		}
		ns[o.Namespace] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.owners[owner]; ok && prev.key == key {
		// Resources owner still needs are settled below with its new
		// namespaces; only the others are released.
		for gvr := range want.objects {
			delete(prev.objects, gvr)
		}
		s.owners[owner] = prev
	}
	s.releaseLocked(owner)
	if len(want.objects) == 0 {
		return nil
	}
	c, ok := s.clusters[key]
	if !ok {
		client, err := s.opts.NewClient(cfg)
		if err != nil {
			return fmt.Errorf("metadata client for %s: %w", key, err)
		}
		c = &cluster{client: client, resources: map[schema.GroupVersionResource]*resource{}}
		s.clusters[key] = c
	}
	s.owners[owner] = want
	var errs []error
	for gvr, namespaces := range want.objects {
		r := c.resources[gvr]
		if r == nil {
			r = &resource{owners: map[string]map[string]bool{}, informers: map[string]*informer{},
				refused: map[string]time.Time{}, idleSince: map[string]time.Time{}}
			c.resources[gvr] = r
		}
		r.owners[owner] = namespaces
		r.unusedSince = time.Time{}
		if err := s.settle(key, c, gvr, r); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("watching %d resources of %s: %v", len(errs), key, errs[0])
	}
	return nil
}

// Release drops what owner needed; its informers stop after
// Options.Linger unless another owner needs them.
func (s *Informers) Release(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(owner)
}

func (s *Informers) releaseLocked(owner string) {
	use, ok := s.owners[owner]
	if !ok {
		return
	}
	delete(s.owners, owner)
	c := s.clusters[use.key]
	if c == nil {
		return
	}
	for gvr := range use.objects {
		r := c.resources[gvr]
		if r == nil {
			continue
		}
		delete(r.owners, owner)
		if len(r.owners) == 0 {
			r.unusedSince = s.now()
			continue
		}
		// The namespaces it alone needed are no longer watched.
		_ = s.settle(use.key, c, gvr, r)
	}
}

// Get returns the cached metadata of an object (nil when the informer does
// not hold it) and whether an informer that covers it has synced and is
// not failing; such an informer, or none, knows nothing.
func (s *Informers) Get(key string, gvr schema.GroupVersionResource, namespace, name string) (*metav1.PartialObjectMetadata, bool) {
	s.mu.Lock()
	var inf cache.SharedIndexInformer
	if c := s.clusters[key]; c != nil {
		if r := c.resources[gvr]; r != nil {
			for _, ns := range []string{"", namespace} {
				if i := r.informers[ns]; i != nil && (ns == "" || namespace != "") && i.current() {
					inf = i.inf
					break
				}
			}
		}
	}
	s.mu.Unlock()
	if inf == nil {
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
		for _, r := range c.resources {
			n += len(r.informers)
		}
	}
	return n
}

// Scopes lists the running informers as "cluster resource namespace"
// ("*" for all namespaces), sorted, for tests and debugging.
func (s *Informers) Scopes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for key, c := range s.clusters {
		for gvr, r := range c.resources {
			for ns := range r.informers {
				if ns == "" {
					ns = "*"
				}
				out = append(out, key+" "+gvr.String()+" "+ns)
			}
		}
	}
	sort.Strings(out)
	return out
}
