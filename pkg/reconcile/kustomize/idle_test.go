package kustomize

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/target"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/watch"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// informerCache stands in for the shared informers of one cluster: what
// they would hold. The informers themselves run against a real
// kube-apiserver in test/e2e (TestDrift_*, TestIdle_*).
type informerCache struct {
	unsynced bool
	objs     map[string]*metav1.PartialObjectMetadata // "resource/namespace/name"
	cluster  string                                   // the cluster watched
	watched  map[schema.GroupVersionResource]bool
}

func (c *informerCache) Use(_, cluster string, _ *rest.Config, objects []watch.Object) error {
	c.cluster = cluster
	for _, o := range objects {
		c.watched[o.Resource] = true
	}
	return nil
}

func (c *informerCache) Release(string) {
	c.cluster, c.watched = "", map[schema.GroupVersionResource]bool{}
}

func (c *informerCache) Get(cluster string, r schema.GroupVersionResource, ns, name string) (*metav1.PartialObjectMetadata, bool) {
	if cluster != c.cluster || c.unsynced || !c.watched[r] {
		return nil, false
	}
	return c.objs[r.Resource+"/"+ns+"/"+name], true
}

func (c *informerCache) put(r schema.GroupVersionResource, m *metav1.PartialObjectMetadata) {
	c.objs[r.Resource+"/"+m.Namespace+"/"+m.Name] = m
}

// applied is an object as an apply leaves it.
func applied(r schema.GroupVersionResource, kind, name, rv string, gen int64) (ssa.Change, *metav1.PartialObjectMetadata) {
	labels := map[string]string{"kustomize.toolkit.fluxcd.io/name": "app", "kustomize.toolkit.fluxcd.io/namespace": "apps"}
	c := ssa.Change{ID: "apps_" + name + "_" + r.Group + "_" + kind, Version: "v1", Subject: kind + "/apps/" + name, Action: ssa.ActionUnchanged,
		Live: &ssa.Live{Resource: r, ResourceVersion: rv, Generation: gen, Labels: labels}}
	m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, ResourceVersion: rv, Generation: gen, Labels: labels}}
	return c, m
}

// idleSetup is a Kustomization whose last run applied a ConfigMap and a
// Deployment from GitRepository/apps/repo and succeeded.
type idleSetup struct {
	r     *Reconciler
	obj   *kustomizev1.Kustomization
	cache *informerCache
	art   *common.Artifact
	host  *fake.Clientset
}

func newIdleSetup(t *testing.T, mutate func(*kustomizev1.Kustomization)) *idleSetup {
	t.Helper()
	s := &idleSetup{
		cache: &informerCache{objs: map[string]*metav1.PartialObjectMetadata{}, watched: map[schema.GroupVersionResource]bool{}},
		art:   &common.Artifact{Revision: "main@sha1:a", Digest: "sha256:1"},
		host: fake.NewSimpleClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "vars"},
			Data: map[string]string{"greeting": "hello"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "kc", ResourceVersion: "1"},
				Data: map[string][]byte{"value": []byte(remoteKubeconfig)}}),
	}
	s.obj = ks("app")
	s.obj.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"a": "1"},
		SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "ConfigMap", Name: "vars"}}}
	if mutate != nil {
		mutate(s.obj)
	}
	s.r = &Reconciler{
		GetSource: func(kind, ns, name string) (*Source, error) { return &Source{Artifact: s.art}, nil },
		GetKustomization: func(ns, name string) (*kustomizev1.Kustomization, error) {
			return readyDep("main@sha1:a"), nil
		},
		Host: s.host,
		Targets: &target.Targets{HostConfig: &rest.Config{Host: "https://127.0.0.1:1"}, Host: s.host,
			Owner: ssa.Owner{Field: FieldManager, Group: "kustomize.toolkit.fluxcd.io"}},
		Watches: s.cache,
		Events:  record.NewFakeRecorder(10),
	}
	ctx := context.Background()
	cm, cmLive := applied(configMaps, "ConfigMap", "web-config", "10", 0)
	dep, depLive := applied(deployments, "Deployment", "web", "11", 2)
	changes := []ssa.Change{cm, dep}
	inventory := inventoryOf(changes)
	in, err := s.r.inputsOf(ctx, s.obj, s.art)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := s.r.target(ctx, s.obj)
	if err != nil {
		t.Fatal(err)
	}
	s.r.recordApply(ctx, s.obj, tg, changes, inventory, healthRefs(s.obj, inventory))
	s.cache.put(configMaps, cmLive)
	s.cache.put(deployments, depLive)
	// The status the run leaves, as the loop writes it.
	s.obj.Status.Inventory = inventory
	s.obj.Status.ObservedGeneration = s.obj.Generation
	s.obj.Status.LastAppliedRevision = s.art.Revision
	s.obj.Status.Conditions = []metav1.Condition{{Type: common.ReadyCondition, Status: metav1.ConditionTrue,
		Reason: "ReconciliationSucceeded", Message: "Applied revision: " + s.art.Revision}}
	s.r.drift.complete("apps/app", in, statusHash(&s.obj.Status))
	return s
}

// currentVersion is what the next run's apply gets as Current.
func (s *idleSetup) currentVersion() func(schema.GroupVersionResource, string, string, string) string {
	rec, _ := s.r.drift.snapshot("apps/app")
	return s.r.currentVersion(rec, hostCluster)
}

// remoteKubeconfig reaches a cluster that is never dialled here.
const remoteKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`

// remote targets o at the cluster of the kubeconfig Secret "kc".
func remote(o *kustomizev1.Kustomization) {
	o.Spec.KubeConfig = &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "kc"}}
}

func TestUnchanged_SkipsOnlyWhenNothingChanged(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*kustomizev1.Kustomization)
		change func(s *idleSetup)
		want   bool
	}{
		{name: "nothing changed", change: func(*idleSetup) {}, want: true},
		{name: "a controller wrote the Deployment's status", change: func(s *idleSetup) {
			s.cache.objs["deployments/apps/web"].ResourceVersion = "20"
		}, want: true},
		{name: "the ConfigMap was edited", change: func(s *idleSetup) {
			s.cache.objs["configmaps/apps/web-config"].ResourceVersion = "20"
		}},
		{name: "the Deployment's spec was edited", change: func(s *idleSetup) {
			d := s.cache.objs["deployments/apps/web"]
			d.ResourceVersion, d.Generation = "20", 3
		}},
		{name: "the Deployment's label the apply set was changed", change: func(s *idleSetup) {
			d := s.cache.objs["deployments/apps/web"]
			d.ResourceVersion, d.Labels = "20", map[string]string{"kustomize.toolkit.fluxcd.io/name": "other", "kustomize.toolkit.fluxcd.io/namespace": "apps"}
		}},
		{name: "the ConfigMap was deleted", change: func(s *idleSetup) {
			delete(s.cache.objs, "configmaps/apps/web-config")
		}},
		{name: "the informers have not synced", change: func(s *idleSetup) { s.cache.unsynced = true }},
		{name: "a new generation", change: func(s *idleSetup) { s.obj.Generation++ }},
		{name: "a reconcile request", change: func(s *idleSetup) {
			s.obj.Annotations = map[string]string{common.ReconcileRequestAnnotation: "now"}
		}},
		{name: "a new artifact of the same revision", change: func(s *idleSetup) { s.art.Digest = "sha256:2" }},
		{name: "a new revision", change: func(s *idleSetup) { s.art.Revision = "main@sha1:b" }},
		{name: "a substituted value changed", change: func(s *idleSetup) {
			cm, _ := s.host.CoreV1().ConfigMaps("apps").Get(context.Background(), "vars", metav1.GetOptions{})
			cm.Data["greeting"] = "bye"
			if _, err := s.host.CoreV1().ConfigMaps("apps").Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
				panic(err)
			}
		}},
		{name: "the status is not what the run left (its write failed)", change: func(s *idleSetup) {
			s.obj.Status.LastAppliedRevision = "main@sha1:old"
		}},
		{name: "a dependency is not ready", setup: func(o *kustomizev1.Kustomization) {
			o.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "dep"}}
		}, change: func(s *idleSetup) {
			s.r.GetKustomization = func(ns, name string) (*kustomizev1.Kustomization, error) { return ks("dep"), nil }
		}},
		{name: "drift was seen", change: func(s *idleSetup) {
			s.r.ObjectChanged(watch.Event{Cluster: hostCluster, Resource: configMaps, Namespace: "apps", Name: "web-config"})
		}},
		{name: "health checked Deployment's status changed", setup: func(o *kustomizev1.Kustomization) { o.Spec.Wait = true },
			change: func(s *idleSetup) { s.cache.objs["deployments/apps/web"].ResourceVersion = "20" }},
		{name: "health checked, nothing changed", setup: func(o *kustomizev1.Kustomization) { o.Spec.Wait = true },
			change: func(*idleSetup) {}, want: true},
		{name: "a health check names an object not applied", setup: func(o *kustomizev1.Kustomization) {
			o.Spec.HealthChecks = []common.NamespacedObjectKindReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "other"}}
		}, change: func(*idleSetup) {}},
		{name: "a remote cluster, nothing changed", setup: remote, change: func(*idleSetup) {}, want: true},
		{name: "a remote cluster whose object was edited", setup: remote, change: func(s *idleSetup) {
			s.cache.objs["configmaps/apps/web-config"].ResourceVersion = "20"
		}},
		{name: "a remote cluster's kubeconfig Secret changed", setup: remote, change: func(s *idleSetup) {
			sec, _ := s.host.CoreV1().Secrets("apps").Get(context.Background(), "kc", metav1.GetOptions{})
			sec.ResourceVersion = "2"
			if _, err := s.host.CoreV1().Secrets("apps").Update(context.Background(), sec, metav1.UpdateOptions{}); err != nil {
				panic(err)
			}
		}},
		{name: "a remote cluster's kubeconfig Secret deleted", setup: remote, change: func(s *idleSetup) {
			if err := s.host.CoreV1().Secrets("apps").Delete(context.Background(), "kc", metav1.DeleteOptions{}); err != nil {
				panic(err)
			}
		}},
		{name: "moved from the host to a remote cluster", change: func(s *idleSetup) { remote(s.obj) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdleSetup(t, tt.setup)
			tt.change(s)
			if got := s.r.unchanged(context.Background(), s.obj); got != tt.want {
				t.Errorf("unchanged = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReconcile_IdleRunKeepsTheStatusAndRequeues: a skipped run builds
// nothing (Store is nil here), writes nothing and keeps the interval.
func TestReconcile_IdleRunKeepsTheStatusAndRequeues(t *testing.T) {
	s := newIdleSetup(t, nil)
	s.obj.Finalizers = []string{Finalizer}
	before := s.obj.Status.DeepCopy()
	res := s.r.Reconcile(context.Background(), s.obj)
	if res != (loop.Result{RequeueAfter: 5 * time.Minute}) {
		t.Errorf("Result = %+v, want a requeue at the 5m interval", res)
	}
	if !reflect.DeepEqual(&s.obj.Status, before) {
		t.Errorf("status changed:\n%+v\nwant\n%+v", s.obj.Status, *before)
	}
	if n := len(s.r.Events.(*record.FakeRecorder).Events); n != 0 {
		t.Errorf("%d events recorded", n)
	}
	// Forget drops the record: the next run is a full one.
	s.r.Forget("apps", "app")
	if s.r.unchanged(context.Background(), s.obj) {
		t.Error("unchanged after Forget")
	}
}

func TestObserve_QueuesOnlyTheKustomizationsThatAppliedTheObject(t *testing.T) {
	s := newIdleSetup(t, nil)
	var queued []string
	s.r.Enqueue = func(ns, name string) { queued = append(queued, ns+"/"+name) }
	_, cm := applied(configMaps, "ConfigMap", "web-config", "10", 0)
	_, forged := applied(configMaps, "ConfigMap", "forged", "30", 0)
	_, dep := applied(deployments, "Deployment", "web", "21", 2)

	steps := []struct {
		name  string
		event watch.Event
		want  []string
	}{
		{"our own apply seen", watch.Event{Cluster: hostCluster, Resource: configMaps, Namespace: "apps", Name: "web-config", Object: cm}, nil},
		{"a labelled object we never applied", watch.Event{Cluster: hostCluster, Resource: configMaps, Namespace: "apps", Name: "forged", Object: forged}, nil},
		{"a labelled object we never applied, deleted", watch.Event{Cluster: hostCluster, Resource: configMaps, Namespace: "apps", Name: "forged"}, nil},
		{"a status write", watch.Event{Cluster: hostCluster, Resource: deployments, Namespace: "apps", Name: "web", Object: dep}, nil},
		{"another cluster's object of the same name", watch.Event{Cluster: "secret:apps/kc@1", Resource: configMaps, Namespace: "apps", Name: "web-config"}, nil},
		{"our object deleted", watch.Event{Cluster: hostCluster, Resource: configMaps, Namespace: "apps", Name: "web-config"}, []string{"apps/app"}},
	}
	for _, st := range steps {
		queued = nil
		s.r.ObjectChanged(st.event)
		if !reflect.DeepEqual(queued, st.want) {
			t.Errorf("%s: queued %v, want %v", st.name, queued, st.want)
		}
	}
	if !s.r.drift.drifted("apps/app") {
		t.Error("the record is not marked drifted after a deletion")
	}
	// A drifted record is never completed: the run correcting it is a
	// full one and records anew.
	s.r.drift.complete("apps/app", runInputs{}, [32]byte{})
	if rec, _ := s.r.drift.snapshot("apps/app"); rec.complete {
		t.Error("a drifted record was completed")
	}
}

func TestObjectState_Matches(t *testing.T) {
	base := stateOf("5", 2, map[string]string{"l": "1"}, map[string]string{"a": "1"})
	tests := []struct {
		name   string
		live   objectState
		strict bool
		want   bool
	}{
		{"same resourceVersion", base, true, true},
		{"status written", stateOf("6", 2, map[string]string{"l": "1"}, map[string]string{"a": "1"}), false, true},
		{"status written, health checked", stateOf("6", 2, map[string]string{"l": "1"}, map[string]string{"a": "1"}), true, false},
		{"spec changed", stateOf("6", 3, map[string]string{"l": "1"}, map[string]string{"a": "1"}), false, false},
		{"label changed", stateOf("6", 2, map[string]string{"l": "2"}, map[string]string{"a": "1"}), false, false},
		{"annotation removed", stateOf("6", 2, map[string]string{"l": "1"}, nil), false, false},
		{"label moved to an annotation", stateOf("6", 2, nil, map[string]string{"a": "1", "l": "1"}), false, false},
	}
	for _, tt := range tests {
		if got := base.matches(tt.live, tt.strict); got != tt.want {
			t.Errorf("%s: matches = %v, want %v", tt.name, got, tt.want)
		}
	}
	noGeneration := stateOf("5", 0, nil, nil)
	if noGeneration.matches(stateOf("6", 0, nil, nil), false) {
		t.Error("an object without generation (a ConfigMap) matched at another resourceVersion")
	}
}

// The deployment controller annotates every Deployment it syncs
// (deployment.kubernetes.io/revision) without changing its generation:
// not drift, or each new Deployment costs a second run (and a 409, since
// its resourceVersion moved). A label or annotation the apply set, changed
// or removed, is drift.
func TestLiveState_OnlyTheKeysTheApplySetCount(t *testing.T) {
	own := trackedObject{ownLabels: map[string]string{"app": "web"}, ownAnnotations: map[string]string{"team": "a"}}
	own.state = stateOf("5", 1, own.ownLabels, own.ownAnnotations)
	live := func(labels, annotations map[string]string) *metav1.PartialObjectMetadata {
		return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "6", Generation: 1, Labels: labels, Annotations: annotations}}
	}
	tests := []struct {
		name string
		live *metav1.PartialObjectMetadata
		want bool
	}{
		{"another writer's annotation", live(map[string]string{"app": "web"}, map[string]string{"team": "a", "deployment.kubernetes.io/revision": "1"}), true},
		{"another writer's label", live(map[string]string{"app": "web", "extra": "x"}, map[string]string{"team": "a"}), true},
		{"our annotation changed", live(map[string]string{"app": "web"}, map[string]string{"team": "b"}), false},
		{"our label removed", live(nil, map[string]string{"team": "a"}), false},
	}
	for _, tt := range tests {
		if got := own.state.matches(liveStateOf(tt.live, own), false); got != tt.want {
			t.Errorf("%s: matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A re-apply of a Deployment whose status the deployment controller wrote
// since carries the watched resourceVersion as its precondition, instead
// of meeting a 409 and reading the object; anything else keeps the one
// the apply left.
func TestCurrentVersion_OnlyForChangesTheApplyDidNotWrite(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *idleSetup)
		seen   string
		want   string
	}{
		{name: "status written", change: func(s *idleSetup) { s.cache.objs["deployments/apps/web"].ResourceVersion = "20" }, seen: "11", want: "20"},
		{name: "unchanged", change: func(*idleSetup) {}, seen: "11", want: ""},
		{name: "spec changed", change: func(s *idleSetup) {
			d := s.cache.objs["deployments/apps/web"]
			d.ResourceVersion, d.Generation = "20", 3
		}, seen: "11", want: ""},
		{name: "an applied label changed", change: func(s *idleSetup) {
			d := s.cache.objs["deployments/apps/web"]
			d.ResourceVersion, d.Labels = "20", map[string]string{"kustomize.toolkit.fluxcd.io/name": "other"}
		}, seen: "11", want: ""},
		{name: "the apply saw another version", change: func(s *idleSetup) { s.cache.objs["deployments/apps/web"].ResourceVersion = "20" }, seen: "9", want: ""},
		{name: "informers not synced", change: func(s *idleSetup) {
			s.cache.objs["deployments/apps/web"].ResourceVersion = "20"
			s.cache.unsynced = true
		}, seen: "11", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdleSetup(t, nil)
			tt.change(s)
			current := s.currentVersion()
			if current == nil {
				t.Fatal("no currentVersion for a watched Kustomization")
			}
			if got := current(deployments, "apps", "web", tt.seen); got != tt.want {
				t.Errorf("current = %q, want %q", got, tt.want)
			}
		})
	}
	// A ConfigMap has no generation: any new resourceVersion may be an
	// edit of its data.
	s := newIdleSetup(t, nil)
	s.cache.objs["configmaps/apps/web-config"].ResourceVersion = "30"
	if got := s.currentVersion()(configMaps, "apps", "web-config", "10"); got != "" {
		t.Errorf("a ConfigMap's new resourceVersion was taken: %q", got)
	}
}
