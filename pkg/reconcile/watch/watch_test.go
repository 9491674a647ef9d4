package watch

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/rest"
	clienttesting "k8s.io/client-go/testing"
)

// These tests run the informers against client-go's fake metadata client,
// which filters lists by label and serves watches; the informers run
// against a real kube-apiserver in test/e2e (TestDrift_*, TestIdle_*).

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
var namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

const selector = "kustomize.toolkit.fluxcd.io/name"

func object(kind, ns, name, rv string, labelled bool) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv,
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	if labelled {
		m.Labels = map[string]string{selector: "app"}
	}
	return m
}

// fakeCluster is a fake cluster; refuse decides which lists it refuses,
// fail which lists fail (as when it cannot be reached).
type fakeCluster struct {
	client  *fake.FakeMetadataClient
	mu      sync.Mutex
	refuse  func(resource, namespace string) bool
	fail    bool
	watches []apiwatch.Interface
}

func newCluster(t *testing.T, objs ...runtime.Object) *fakeCluster {
	t.Helper()
	scheme := fake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := &fakeCluster{client: fake.NewSimpleMetadataClient(scheme, objs...)}
	deny := func(a clienttesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		refuse, fail := c.refuse, c.fail
		c.mu.Unlock()
		if refuse != nil && refuse(a.GetResource().Resource, a.GetNamespace()) {
			return true, nil, apierrors.NewForbidden(a.GetResource().GroupResource(), "", fmt.Errorf("list is not allowed"))
		}
		if fail {
			return true, nil, apierrors.NewServiceUnavailable("unreachable")
		}
		return false, nil, nil
	}
	c.client.PrependReactor("list", "*", deny)
	c.client.PrependWatchReactor("*", func(a clienttesting.Action) (bool, apiwatch.Interface, error) {
		if handled, _, err := deny(a); handled {
			return handled, nil, err
		}
		w, err := c.client.Tracker().Watch(a.GetResource(), a.GetNamespace())
		if err != nil {
			return false, nil, err
		}
		c.mu.Lock()
		c.watches = append(c.watches, w)
		c.mu.Unlock()
		return true, w, nil
	})
	return c
}

func (c *fakeCluster) setRefuse(f func(resource, namespace string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse = f
}

// breakOff makes the cluster fail every list and watch from now on, and
// ends the watches open, as a cluster that went away does.
func (c *fakeCluster) breakOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = true
	for _, w := range c.watches {
		w.Stop()
	}
	c.watches = nil
}

func (c *fakeCluster) restore() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = false
}

// lists counts the lists the cluster was sent.
func (c *fakeCluster) lists() int {
	n := 0
	for _, act := range c.client.Actions() {
		if act.GetVerb() == "list" {
			n++
		}
	}
	return n
}

type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) handle(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) seen(cluster, ns, name string, deleted bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Cluster == cluster && e.Namespace == ns && e.Name == name && (e.Object == nil) == deleted {
			return true
		}
	}
	return false
}

// clock is a settable clock for Linger and Retry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// setup returns started Informers over the fake clusters, by key.
func setup(t *testing.T, clusters map[string]*fakeCluster) (*Informers, *recorder, *clock) {
	t.Helper()
	rec := &recorder{}
	clk := &clock{now: time.Unix(1000, 0)}
	s := New(Options{LabelSelector: selector, Handler: rec.handle, Linger: time.Minute, Retry: 5 * time.Minute,
		NewClient: func(cfg *rest.Config) (metadata.Interface, error) {
			c, ok := clusters[cfg.Host]
			if !ok {
				return nil, fmt.Errorf("no cluster %s", cfg.Host)
			}
			return c.client, nil
		}})
	s.now = clk.Now
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// Sweeps are driven by the test and its clock; Start's own ticker
	// (every 30 s of real time) does not fire within a test.
	s.Start(ctx)
	return s, rec, clk
}

func cfg(host string) *rest.Config { return &rest.Config{Host: host} }

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func synced(s *Informers, key string, gvr schema.GroupVersionResource, ns, name string) func() bool {
	return func() bool { _, ok := s.Get(key, gvr, ns, name); return ok }
}

func TestInformers_SharedPerClusterAndResource(t *testing.T) {
	a := newCluster(t, object("ConfigMap", "apps", "web", "1", true), object("ConfigMap", "apps", "unlabelled", "2", false))
	b := newCluster(t, object("ConfigMap", "apps", "web", "7", true))
	s, rec, _ := setup(t, map[string]*fakeCluster{"a": a, "b": b})

	for _, owner := range []string{"apps/one", "apps/two"} {
		if err := s.Use(owner, "a", cfg("a"), []Object{{Resource: configMaps, Namespace: "apps"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Use("other/three", "b", cfg("b"), []Object{{Resource: configMaps, Namespace: "apps"}}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a /v1, Resource=configmaps *", "b /v1, Resource=configmaps *"}; !reflect.DeepEqual(s.Scopes(), want) {
		t.Fatalf("scopes %q, want %q", s.Scopes(), want)
	}
	eventually(t, "cluster a synced", synced(s, "a", configMaps, "apps", "web"))
	eventually(t, "cluster b synced", synced(s, "b", configMaps, "apps", "web"))

	m, _ := s.Get("a", configMaps, "apps", "web")
	if m == nil || m.ResourceVersion != "1" || m.ManagedFields != nil {
		t.Errorf("a's web: %+v (want resourceVersion 1, no managedFields)", m)
	}
	if m, _ := s.Get("b", configMaps, "apps", "web"); m == nil || m.ResourceVersion != "7" {
		t.Errorf("b's web: %+v", m)
	}
	if m, ok := s.Get("a", configMaps, "apps", "unlabelled"); !ok || m != nil {
		t.Errorf("an unlabelled object is cached: %+v %v", m, ok)
	}
	if _, ok := s.Get("c", configMaps, "apps", "web"); ok {
		t.Error("an unknown cluster claims to have synced")
	}

	// Events carry the cluster they come from. (An update seen first
	// shows the watch is open: a deletion before it would be lost.)
	eventually(t, "the initial lists as adds", func() bool { return rec.seen("a", "apps", "web", false) && rec.seen("b", "apps", "web", false) })
	probe := object("ConfigMap", "apps", "web", "3", true)
	probe.Annotations = map[string]string{"probe": "1"}
	if _, err := a.client.Resource(configMaps).Namespace("apps").(fake.MetadataClient).UpdateFake(probe, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the update in a", func() bool {
		m, _ := s.Get("a", configMaps, "apps", "web")
		return m != nil && m.ResourceVersion == "3"
	})
	if err := a.client.Resource(configMaps).Namespace("apps").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion in a", func() bool { return rec.seen("a", "apps", "web", true) })
	if rec.seen("b", "apps", "web", true) {
		t.Error("a deletion in a was reported for b")
	}
}

func TestInformers_StopAfterLingerOnceNoOwnerNeedsThem(t *testing.T) {
	a := newCluster(t)
	s, _, clk := setup(t, map[string]*fakeCluster{"a": a})
	use := func(owner string, objs ...Object) {
		t.Helper()
		if err := s.Use(owner, "a", cfg("a"), objs); err != nil {
			t.Fatal(err)
		}
	}
	use("apps/one", Object{Resource: configMaps, Namespace: "apps"}, Object{Resource: namespaces})
	use("apps/two", Object{Resource: configMaps, Namespace: "apps"})
	if s.Count() != 2 {
		t.Fatalf("%d informers, want 2: %q", s.Count(), s.Scopes())
	}

	// one no longer applies namespaces: their informer lingers, then stops.
	use("apps/one", Object{Resource: configMaps, Namespace: "apps"})
	s.Sweep()
	if s.Count() != 2 {
		t.Fatalf("stopped before the linger: %q", s.Scopes())
	}
	clk.advance(time.Minute)
	s.Sweep()
	if want := []string{"a /v1, Resource=configmaps *"}; !reflect.DeepEqual(s.Scopes(), want) {
		t.Fatalf("after the linger: %q, want %q", s.Scopes(), want)
	}

	// Released by one owner, kept for the other.
	s.Release("apps/one")
	clk.advance(time.Hour)
	s.Sweep()
	if s.Count() != 1 {
		t.Fatalf("an informer another owner needs was stopped: %q", s.Scopes())
	}
	// Released by both, then needed again within the linger: kept.
	s.Release("apps/two")
	clk.advance(30 * time.Second)
	use("apps/three", Object{Resource: configMaps, Namespace: "apps"})
	clk.advance(time.Hour)
	s.Sweep()
	if s.Count() != 1 {
		t.Fatalf("an informer needed again was stopped: %q", s.Scopes())
	}
	// Moving to another cluster releases the first.
	b := newCluster(t)
	s.mu.Lock()
	s.opts.NewClient = func(*rest.Config) (metadata.Interface, error) { return b.client, nil }
	s.mu.Unlock()
	if err := s.Use("apps/three", "b", cfg("b"), []Object{{Resource: configMaps, Namespace: "apps"}}); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	s.Sweep()
	if want := []string{"b /v1, Resource=configmaps *"}; !reflect.DeepEqual(s.Scopes(), want) {
		t.Fatalf("after moving: %q, want %q", s.Scopes(), want)
	}
	s.mu.Lock()
	_, kept := s.clusters["a"]
	s.mu.Unlock()
	if kept {
		t.Error("the cluster no owner uses is still kept")
	}
	// An owner with nothing applied needs nothing.
	if err := s.Use("apps/three", "b", cfg("b"), nil); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	s.Sweep()
	if s.Count() != 0 {
		t.Errorf("informers left: %q", s.Scopes())
	}
}

// TestInformers_NarrowerWatchesWhenListingEverywhereIsRefused: a tenant's
// credentials that may list ConfigMaps only in its own namespaces get one
// informer per namespace applied to; where that is refused too, nothing
// is watched (Get says so) until Retry has passed.
func TestInformers_NarrowerWatchesWhenListingEverywhereIsRefused(t *testing.T) {
	a := newCluster(t, object("ConfigMap", "team-a", "web", "1", true), object("ConfigMap", "team-b", "web", "2", true),
		object("Namespace", "", "team-a", "3", true))
	a.setRefuse(func(resource, ns string) bool { return ns == "" || ns == "secret-team" })
	s, rec, clk := setup(t, map[string]*fakeCluster{"a": a})
	err := s.Use("team-a/app", "a", cfg("a"), []Object{
		{Resource: configMaps, Namespace: "team-a"}, {Resource: configMaps, Namespace: "secret-team"}, {Resource: namespaces}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "team-a's informer synced", synced(s, "a", configMaps, "team-a", "web"))
	eventually(t, "the refusals settled", func() bool {
		return reflect.DeepEqual(s.Scopes(), []string{"a /v1, Resource=configmaps team-a"})
	})
	if m, _ := s.Get("a", configMaps, "team-a", "web"); m == nil || m.ResourceVersion != "1" {
		t.Errorf("team-a's web: %+v", m)
	}
	for _, o := range []struct {
		gvr      schema.GroupVersionResource
		ns, name string
	}{{configMaps, "secret-team", "x"}, {configMaps, "team-b", "web"}, {namespaces, "", "team-a"}} {
		if _, ok := s.Get("a", o.gvr, o.ns, o.name); ok {
			t.Errorf("%s %s/%s claims to be watched", o.gvr.Resource, o.ns, o.name)
		}
	}
	if rec.seen("a", "team-b", "web", false) {
		t.Error("an object outside the namespaces applied to was reported")
	}

	// Within Retry nothing is tried again, and a new apply of the same
	// objects keeps the namespace informer (no new list).
	before := a.lists()
	clk.advance(time.Minute)
	s.Sweep()
	if err := s.Use("team-a/app", "a", cfg("a"), []Object{
		{Resource: configMaps, Namespace: "team-a"}, {Resource: configMaps, Namespace: "secret-team"}, {Resource: namespaces}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if a.lists() != before {
		t.Errorf("%d lists within the retry time", a.lists()-before)
	}
	// A namespace no longer applied to is watched a while longer.
	if err := s.Use("team-a/app", "a", cfg("a"), []Object{{Resource: configMaps, Namespace: "team-c"}, {Resource: namespaces}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "team-c's informer synced", synced(s, "a", configMaps, "team-c", "x"))
	if _, ok := s.Get("a", configMaps, "team-a", "web"); !ok {
		t.Error("team-a's informer stopped at once")
	}
	clk.advance(time.Minute)
	s.Sweep()
	if want := []string{"a /v1, Resource=configmaps team-c"}; !reflect.DeepEqual(s.Scopes(), want) {
		t.Errorf("after the linger: %q, want %q", s.Scopes(), want)
	}
	if err := s.Use("team-a/app", "a", cfg("a"), []Object{{Resource: configMaps, Namespace: "team-b"}, {Resource: namespaces}}); err != nil {
		t.Fatal(err)
	}
	a.setRefuse(nil)
	clk.advance(5 * time.Minute)
	s.Sweep()
	eventually(t, "the list over all namespaces synced", synced(s, "a", configMaps, "team-b", "web"))
	eventually(t, "namespaces watched", synced(s, "a", namespaces, "", "team-a"))
	s.Sweep()
	if want := []string{"a /v1, Resource=configmaps *", "a /v1, Resource=namespaces *"}; !reflect.DeepEqual(s.Scopes(), want) {
		t.Errorf("scopes %q, want %q (per-namespace informers stop once all namespaces are watched)", s.Scopes(), want)
	}
}

// TestInformers_AFailingInformerAnswersNothing: once a cluster cannot be
// reached, its informers' caches say nothing (callers must not skip work
// on a stale cache) until they are current again.
func TestInformers_AFailingInformerAnswersNothing(t *testing.T) {
	a := newCluster(t, object("ConfigMap", "apps", "web", "1", true))
	s, _, _ := setup(t, map[string]*fakeCluster{"a": a})
	if err := s.Use("apps/app", "a", cfg("a"), []Object{{Resource: configMaps, Namespace: "apps"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "synced", synced(s, "a", configMaps, "apps", "web"))
	a.breakOff()
	eventually(t, "the cache disowned", func() bool { _, ok := s.Get("a", configMaps, "apps", "web"); return !ok })
	if s.Count() != 1 {
		t.Errorf("a failing (not refused) informer was stopped: %q", s.Scopes())
	}
	a.restore()
	// The informer relists; its cache is current once it has moved past
	// the version it failed at.
	probe := object("ConfigMap", "apps", "web", "5", true)
	eventually(t, "current again", func() bool {
		_, _ = a.client.Resource(configMaps).Namespace("apps").(fake.MetadataClient).UpdateFake(probe, metav1.UpdateOptions{})
		m, ok := s.Get("a", configMaps, "apps", "web")
		return ok && m != nil && m.ResourceVersion == "5"
	})
}
