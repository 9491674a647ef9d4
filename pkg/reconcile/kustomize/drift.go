package kustomize

import (
	"context"
	"crypto/sha256"
	"sort"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/watch"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// Drift is seen, not polled: after an apply, the objects of the inventory
// are watched by shared metadata informers (package watch), and an update
// or a deletion that the apply does not explain queues the Kustomization
// at once. What the informers deliver is only a trigger: an event counts
// for a Kustomization when the object is in what that Kustomization
// applied (its record, below) and differs from what the apply left, never
// because of the object's labels, which anyone who can write the object
// can forge.
//
// The same record lets an interval run that would change nothing skip the
// build and every write (see idle.go).

// hostCluster is the watch key of the host cluster. Every Kustomization
// applying to it shares its informers, whatever identity it impersonates:
// the informers run as the server, only to trigger runs, and the runs
// apply as the Kustomization's identity. A remote cluster
// (spec.kubeConfig) is watched as the identity the Kustomization applies
// with there, under the target's key (its kubeconfig Secret, that
// Secret's resourceVersion and the impersonated account), so only
// Kustomizations holding the same credentials share those informers.
const hostCluster = "host"

// AppliedObjects watches applied objects: package watch's Informers.
type AppliedObjects interface {
	// Use makes sure what owner applied to cluster is watched, in place of
	// what it needed before.
	Use(owner, cluster string, cfg *rest.Config, objects []watch.Object) error
	// Release drops what owner needed.
	Release(owner string)
	// Get returns an object's metadata as last seen, and whether an
	// informer covering it has synced.
	Get(cluster string, resource schema.GroupVersionResource, namespace, name string) (*metav1.PartialObjectMetadata, bool)
}

var _ AppliedObjects = (*watch.Informers)(nil)

// objectState is what an apply left of one object, enough to tell a
// change by someone else from the server's or a controller's own writes.
type objectState struct {
	resourceVersion string
	generation      int64
	meta            [sha256.Size]byte // labels and annotations
}

func stateOf(resourceVersion string, generation int64, labels, annotations map[string]string) objectState {
	return objectState{resourceVersion: resourceVersion, generation: generation, meta: metaHash(labels, annotations)}
}

// liveStateOf is the state of m as o's record sees it: of its labels and
// annotations, only those the apply set (others belong to other writers,
// e.g. the deployment controller's revision annotation).
func liveStateOf(m *metav1.PartialObjectMetadata, o trackedObject) objectState {
	return stateOf(m.ResourceVersion, m.Generation, ssa.OwnValues(m.Labels, o.ownLabels), ssa.OwnValues(m.Annotations, o.ownAnnotations))
}

// matches reports whether live still says what the apply left. The same
// resourceVersion always does. Otherwise, unless strict, an object whose
// spec is versioned by metadata.generation matches when its generation,
// labels and annotations are the same: the change was to its status (a
// controller's write, not drift). Strict is for objects whose health a
// run checks, where a new status may change the outcome.
func (s objectState) matches(live objectState, strict bool) bool {
	if s.resourceVersion == live.resourceVersion {
		return true
	}
	if strict || s.generation == 0 {
		return false
	}
	return s.generation == live.generation && s.meta == live.meta
}

// objectKey names a watched object; the version is left out so that two
// informers of one resource at different versions name the same object.
type objectKey struct {
	cluster   string
	resource  schema.GroupResource
	namespace string
	name      string
}

// trackedObject is one applied object of a record.
type trackedObject struct {
	key      objectKey
	resource schema.GroupVersionResource
	subject  string
	state    objectState
	// strict: its health is checked by the run (spec.wait, healthChecks).
	strict bool
	// ownLabels and ownAnnotations hold the keys the apply set.
	ownLabels, ownAnnotations map[string]string
}

// applyRecord is what the last apply of a Kustomization left, and once
// the run ended successfully (complete), what it was computed from.
type applyRecord struct {
	cluster string
	objects []trackedObject // never changed once recorded

	// drifted: an applied object changed since; the next run is a full one.
	drifted bool
	// complete: the run succeeded (health included) with inputs and left
	// a status hashing to status.
	complete bool
	inputs   runInputs
	status   [sha256.Size]byte
	// checksOutside: a health check names an object the Kustomization did
	// not apply, whose changes are not watched; such runs are never skipped.
	checksOutside bool
}

// driftTracker holds the records of every Kustomization and which
// Kustomizations applied each watched object.
type driftTracker struct {
	mu      sync.Mutex
	records map[string]*applyRecord
	owners  map[objectKey]map[string]int // object → Kustomization → index in its record
}

// forget drops key's record: its objects no longer trigger runs.
func (d *driftTracker) forget(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forgetLocked(key)
}

func (d *driftTracker) forgetLocked(key string) {
	rec := d.records[key]
	if rec == nil {
		return
	}
	for _, o := range rec.objects {
		if set := d.owners[o.key]; set != nil {
			delete(set, key)
			if len(set) == 0 {
				delete(d.owners, o.key)
			}
		}
	}
	delete(d.records, key)
}

// applied records what an apply of key to cluster left: every object the
// server returned (objects skipped by their manifest's policy are not
// ours to correct). strict names the objects whose health the run checks;
// checksOutside is set when it checks others too. It returns what to
// watch.
func (d *driftTracker) applied(key, cluster string, changes []ssa.Change, strict map[string]bool, checksOutside bool) []watch.Object {
	rec := &applyRecord{cluster: cluster, checksOutside: checksOutside}
	seen := map[watch.Object]bool{}
	var watched []watch.Object
	for _, c := range changes {
		l := c.Live
		if l == nil {
			continue
		}
		id, _, err := ssa.ParseRef(ssa.Ref{ID: c.ID, Version: c.Version})
		if err != nil {
			continue
		}
		ns, name := id.Namespace, id.Name
		rec.objects = append(rec.objects, trackedObject{
			key:      objectKey{cluster: cluster, resource: l.Resource.GroupResource(), namespace: ns, name: name},
			resource: l.Resource,
			subject:  c.Subject,
			state:    stateOf(l.ResourceVersion, l.Generation, l.Labels, l.Annotations),
			strict:   strict[c.ID],
			// The keys the apply set, as they are now: a key dropped by
			// someone else is then missing from the live state.
			ownLabels: l.Labels, ownAnnotations: l.Annotations,
		})
		if w := (watch.Object{Resource: l.Resource, Namespace: ns}); !seen[w] {
			seen[w] = true
			watched = append(watched, w)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forgetLocked(key)
	if d.records == nil {
		d.records, d.owners = map[string]*applyRecord{}, map[objectKey]map[string]int{}
	}
	d.records[key] = rec
	for i, o := range rec.objects {
		set := d.owners[o.key]
		if set == nil {
			set = map[string]int{}
			d.owners[o.key] = set
		}
		set[key] = i
	}
	return watched
}

// complete marks key's record as the outcome of a successful run from
// inputs that left a status hashing to status. A record that drifted
// meanwhile stays incomplete: the next run must correct it.
func (d *driftTracker) complete(key string, inputs runInputs, status [sha256.Size]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if rec := d.records[key]; rec != nil && !rec.drifted {
		rec.complete, rec.inputs, rec.status = true, inputs, status
	}
}

// drifted reports whether an object key applied changed since.
func (d *driftTracker) drifted(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec := d.records[key]
	return rec != nil && rec.drifted
}

// snapshot returns a copy of key's record (its objects are shared: they
// are never changed).
func (d *driftTracker) snapshot(key string) (applyRecord, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec := d.records[key]
	if rec == nil {
		return applyRecord{}, false
	}
	return *rec, true
}

// observe takes an informer event and returns the Kustomizations
// ("namespace/name") whose applied object it changed or deleted; it marks
// their records drifted.
func (d *driftTracker) observe(e watch.Event) []string {
	k := objectKey{cluster: e.Cluster, resource: e.Resource.GroupResource(), namespace: e.Namespace, name: e.Name}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for owner, i := range d.owners[k] {
		rec := d.records[owner]
		o := rec.objects[i]
		if e.Object != nil && o.state.matches(liveStateOf(e.Object, o), false) {
			continue
		}
		rec.drifted, rec.complete = true, false
		out = append(out, owner)
		klog.V(1).InfoS("Applied object changed; reconciling", "kustomization", owner, "object", o.subject, "deleted", e.Object == nil)
	}
	sort.Strings(out)
	return out
}

// metaHash identifies labels and annotations.
func metaHash(labels, annotations map[string]string) [sha256.Size]byte {
	h := sha256.New()
	writeMap(h, "l", labels)
	writeMap(h, "a", annotations)
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// watchKey is the watch key of obj's target t: the host cluster's for
// every Kustomization applying there, the target's own otherwise.
func (r *Reconciler) watchKey(obj *kustomizev1.Kustomization, t *target.Target) string {
	if obj.Spec.KubeConfig == nil {
		return hostCluster
	}
	return t.Key
}

// watchConfig reaches obj's target t as the identity its informers run
// as: the server's on the host cluster, the target's own otherwise (whose
// dialer checks --source-deny-networks, see target.Targets.Guard).
func (r *Reconciler) watchConfig(obj *kustomizev1.Kustomization, t *target.Target) *rest.Config {
	cfg := t.Config
	if obj.Spec.KubeConfig == nil {
		cfg = r.Targets.HostConfig
	}
	cfg = rest.CopyConfig(cfg)
	if r.Targets.UserAgent != "" {
		cfg = rest.AddUserAgent(cfg, r.Targets.UserAgent+"-watch")
	}
	return cfg
}

// currentWatchKey is the watch key of obj's target now; for a remote
// target it costs a read of the kubeconfig Secret.
func (r *Reconciler) currentWatchKey(ctx context.Context, obj *kustomizev1.Kustomization) (string, error) {
	if obj.Spec.KubeConfig == nil {
		return hostCluster, nil
	}
	t, err := r.target(ctx, obj)
	if err != nil {
		return "", err
	}
	return t.Key, nil
}

// recordApply records what an apply to obj's target t left and watches it.
func (r *Reconciler) recordApply(ctx context.Context, obj *kustomizev1.Kustomization, t *target.Target, changes []ssa.Change, inv *kustomizev1.ResourceInventory, health []ssa.Ref) {
	if r.Watches == nil {
		return
	}
	key := obj.Namespace + "/" + obj.Name
	cluster := r.watchKey(obj, t)
	applied := ownedIDs(inv)
	strict := map[string]bool{}
	outside := false
	for _, ref := range health {
		strict[ref.ID] = true
		if !applied[ref.ID] {
			outside = true
		}
	}
	objects := r.drift.applied(key, cluster, changes, strict, outside)
	if err := r.Watches.Use(key, cluster, r.watchConfig(obj, t), objects); err != nil {
		klog.FromContext(ctx).Error(err, "Watching applied objects; drift is corrected at the interval only")
	}
}

// release drops what obj's last apply left: its record and its watches.
func (r *Reconciler) release(key string) {
	r.drift.forget(key)
	if r.Watches != nil {
		r.Watches.Release(key)
	}
}

// ObjectChanged takes an event of the shared informers and queues the
// Kustomizations whose applied object it changed or deleted.
func (r *Reconciler) ObjectChanged(e watch.Event) {
	for _, key := range r.drift.observe(e) {
		if r.Enqueue != nil {
			ns, name, _ := strings.Cut(key, "/")
			r.Enqueue(ns, name)
		}
	}
}

// currentVersion returns, for ssa.ApplyOptions.Current, the watched
// resourceVersion of an object the last apply (rec, to cluster) left at
// seen when the object has changed since only where that apply did not
// write (its status, another writer's labels or annotations: the same
// generation and applied metadata). Without it a Deployment's re-apply
// meets a 409 once the deployment controller has written its status, and
// costs a read and a second apply. Nil when nothing of cluster is
// recorded.
func (r *Reconciler) currentVersion(rec applyRecord, cluster string) func(schema.GroupVersionResource, string, string, string) string {
	if r.Watches == nil || rec.cluster != cluster || len(rec.objects) == 0 {
		return nil
	}
	// Indexed once per run: the apply asks for every object it sends.
	byKey := make(map[objectKey]trackedObject, len(rec.objects))
	for _, o := range rec.objects {
		byKey[o.key] = o
	}
	return func(resource schema.GroupVersionResource, namespace, name, seen string) string {
		o, ok := byKey[objectKey{cluster: rec.cluster, resource: resource.GroupResource(), namespace: namespace, name: name}]
		if !ok || o.state.resourceVersion != seen {
			return ""
		}
		live, synced := r.Watches.Get(rec.cluster, o.resource, namespace, name)
		if !synced || live == nil || live.ResourceVersion == seen {
			return ""
		}
		if o.state.generation != 0 && o.state.matches(liveStateOf(live, o), false) {
			return live.ResourceVersion
		}
		return ""
	}
}
