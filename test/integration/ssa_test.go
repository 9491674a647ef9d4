package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// The field manager and annotation group the Kustomization worker uses.
const (
	ssaField = "kustomize-controller"
	ssaGroup = "kustomize.toolkit.fluxcd.io"
)

var (
	ssaConfigMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	ssaSecrets    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	ssaNamespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	ssaCRDs       = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// ssaRequestLog records the requests a Manager sends.
type ssaRequestLog struct {
	mu   sync.Mutex
	reqs []string // "METHOD path", DRYRUN-METHOD for dry runs
}

func (l *ssaRequestLog) RoundTrip(next http.RoundTripper) http.RoundTripper {
	return ssaRoundTripFunc(func(r *http.Request) (*http.Response, error) {
		method := r.Method
		if r.URL.Query().Get("dryRun") != "" {
			method = "DRYRUN-" + method
		}
		l.mu.Lock()
		l.reqs = append(l.reqs, method+" "+r.URL.Path)
		l.mu.Unlock()
		return next.RoundTrip(r)
	})
}

type ssaRoundTripFunc func(*http.Request) (*http.Response, error)

func (f ssaRoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// reset forgets what was recorded.
func (l *ssaRequestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = nil
}

// objectRequests returns the recorded requests to objects, by method;
// discovery (/api, /apis, /apis/<group>/<version>) is left out.
func (l *ssaRequestLog) objectRequests() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, r := range l.reqs {
		method, path, _ := strings.Cut(r, " ")
		segs := strings.Split(strings.Trim(path, "/"), "/")
		if (segs[0] == "api" && len(segs) <= 2) || (segs[0] == "apis" && len(segs) <= 3) {
			continue
		}
		out[method]++
	}
	return out
}

// newSSAManager returns a Manager as admin and the log of its requests.
func newSSAManager(t *testing.T) (*ssa.Manager, *ssaRequestLog) {
	t.Helper()
	log := &ssaRequestLog{}
	cfg := cp.RESTConfig()
	cfg.WrapTransport = log.RoundTrip
	m, err := ssa.New(cfg, ssa.Owner{Field: ssaField, Group: ssaGroup})
	if err != nil {
		t.Fatal(err)
	}
	return m, log
}

// ssaDynamic is a dynamic client as admin, for checks and manual edits.
func ssaDynamic(t *testing.T) dynamic.Interface {
	t.Helper()
	c, err := dynamic.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ssaManifests parses YAML documents into objects.
func ssaManifests(t *testing.T, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatalf("%v\n%s", err, d)
		}
		out = append(out, u)
	}
	return out
}

// ssaActions maps each change's subject to its action.
func ssaActions(changes []ssa.Change) map[string]ssa.Action {
	out := map[string]ssa.Action{}
	for _, c := range changes {
		out[c.Subject] = c.Action
	}
	return out
}

// ssaWantActions fails unless changes are exactly want.
func ssaWantActions(t *testing.T, changes []ssa.Change, want map[string]ssa.Action) {
	t.Helper()
	got := ssaActions(changes)
	if len(got) != len(want) || len(changes) != len(want) {
		t.Errorf("changes = %v, want %v", changes, want)
		return
	}
	for s, a := range want {
		if got[s] != a {
			t.Errorf("%s: %q, want %q (all: %v)", s, got[s], a, got)
		}
	}
}

// ssaNamespace makes sure the namespace is deleted after the test (the test
// itself creates it through the Manager, or with namespace()).
func ssaNamespace(t *testing.T, name string) string {
	t.Helper()
	t.Cleanup(func() {
		_ = ssaDynamic(t).Resource(ssaNamespaces).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

func ssaContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func ssaLiveObject(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := ssaDynamic(t).Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func ssaConfigMap(ns, name string, data map[string]string, annotations map[string]string) string {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(map[string]string{ssaGroup + "/name": "apps", ssaGroup + "/namespace": "flux-system"})
	if annotations != nil {
		u.SetAnnotations(annotations)
	}
	d := map[string]any{}
	for k, v := range data {
		d[k] = v
	}
	u.Object["data"] = d
	b, _ := yaml.Marshal(u.Object)
	return string(b)
}

func TestSSA_StagedApplyThenUnchangedWithOneRequestEach(t *testing.T) {
	ctx := ssaContext(t)
	ns := ssaNamespace(t, "ssa-staged")
	crdName := "widgets.ssa-staged.example.com"
	t.Cleanup(func() {
		_ = ssaDynamic(t).Resource(ssaCRDs).Delete(context.Background(), crdName, metav1.DeleteOptions{})
	})
	docs := func(color string) []*unstructured.Unstructured {
		// Users before their definitions: staging must reorder them.
		return ssaManifests(t, `
apiVersion: ssa-staged.example.com/v1
kind: Widget
metadata: {name: w, namespace: `+ns+`}
spec: {size: 3}
`, ssaConfigMap(ns, "settings", map[string]string{"color": color}, nil), `
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: `+ns+`}
stringData: {password: s3cr3t-value}
`, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: `+crdName+`}
spec:
  group: ssa-staged.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
`, `
apiVersion: v1
kind: Namespace
metadata: {name: `+ns+`}
`)
	}
	m, log := newSSAManager(t)
	opts := ssa.ApplyOptions{WaitInterval: 200 * time.Millisecond, WaitTimeout: 30 * time.Second}

	changes, err := m.ApplyAllStaged(ctx, docs("blue"), opts)
	if err != nil {
		t.Fatal(err)
	}
	ssaWantActions(t, changes, map[string]ssa.Action{
		"Widget/" + ns + "/w": ssa.ActionCreated, "ConfigMap/" + ns + "/settings": ssa.ActionCreated,
		"Secret/" + ns + "/creds": ssa.ActionCreated, "CustomResourceDefinition/" + crdName: ssa.ActionCreated,
		"Namespace/" + ns: ssa.ActionCreated,
	})
	if first := changes[0].Subject + " " + changes[1].Subject; !strings.Contains(first, "CustomResourceDefinition/") || !strings.Contains(first, "Namespace/") {
		t.Errorf("definitions were not applied first: %v", changes)
	}
	for _, c := range changes {
		if c.Subject == "CustomResourceDefinition/"+crdName && (c.ID != "_"+crdName+"_apiextensions.k8s.io_CustomResourceDefinition" || c.Version != "v1") {
			t.Errorf("CRD change ID/version = %q %q", c.ID, c.Version)
		}
	}

	// Steady state: one apply request per object, nothing else.
	log.reset()
	changes, err = m.ApplyAllStaged(ctx, docs("blue"), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Action != ssa.ActionUnchanged {
			t.Errorf("second apply: %s %s, want unchanged", c.Subject, c.Action)
		}
	}
	if got := log.objectRequests(); got["PATCH"] != 5 || len(got) != 1 {
		t.Errorf("second apply sent %v, want exactly 5 PATCH (%v)", got, log.reqs)
	}

	// A changed field.
	changes, err = m.ApplyAllStaged(ctx, docs("green"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if a := ssaActions(changes)["ConfigMap/"+ns+"/settings"]; a != ssa.ActionConfigured {
		t.Errorf("changed ConfigMap: %s, want configured", a)
	}
	if n := len(changes); n != 5 {
		t.Errorf("%d changes, want 5", n)
	}

	// A manual edit by kubectl, of a field we own and a label we do not:
	// the next apply reverts both (Override policy).
	dyn := ssaDynamic(t)
	cm := ssaLiveObject(t, ssaConfigMaps, ns, "settings")
	_ = unstructured.SetNestedField(cm.Object, "red", "data", "color")
	labels := cm.GetLabels()
	labels["edited"] = "by-hand"
	cm.SetLabels(labels)
	if _, err := dyn.Resource(ssaConfigMaps).Namespace(ns).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	changes, err = m.ApplyAllStaged(ctx, docs("green"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if a := ssaActions(changes)["ConfigMap/"+ns+"/settings"]; a != ssa.ActionConfigured {
		t.Errorf("after a manual edit: %s, want configured", a)
	}
	cm = ssaLiveObject(t, ssaConfigMaps, ns, "settings")
	if color, _, _ := unstructured.NestedString(cm.Object, "data", "color"); color != "green" {
		t.Errorf("manual edit not reverted: color %q", color)
	}
	if _, ok := cm.GetLabels()["edited"]; ok {
		t.Errorf("label added with kubectl not removed: %v", cm.GetLabels())
	}
	for _, e := range cm.GetManagedFields() {
		if strings.HasPrefix(e.Manager, "kubectl") {
			t.Errorf("kubectl still manages fields: %+v", e)
		}
	}

	// A new Manager (a restart) reads each object once, then applies.
	m2, log2 := newSSAManager(t)
	changes, err = m2.ApplyAllStaged(ctx, docs("green"), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Action != ssa.ActionUnchanged {
			t.Errorf("after restart: %s %s, want unchanged", c.Subject, c.Action)
		}
	}
	if got := log2.objectRequests(); got["PATCH"] != 5 || got["GET"] != 5 || len(got) != 2 {
		t.Errorf("after restart sent %v, want 5 GET and 5 PATCH", got)
	}
}

// DryRunFirst dry-runs what is new or changed, and nothing the Manager
// applied successfully before as it is; an invalid change still fails the
// stage with nothing of it written.
func TestSSA_DryRunFirstOnlyWhatChanged(t *testing.T) {
	ctx := ssaContext(t)
	ns := namespace(t, "ssa-dryrun")
	m, log := newSSAManager(t)
	docs := func(a, b string) []*unstructured.Unstructured {
		return ssaManifests(t,
			ssaConfigMap(ns, "a", map[string]string{"v": a}, nil),
			ssaConfigMap(ns, "b", map[string]string{"v": b}, nil))
	}
	opts := ssa.ApplyOptions{DryRunFirst: true}
	if _, err := m.ApplyAllStaged(ctx, docs("1", "1"), opts); err != nil {
		t.Fatal(err)
	}
	if got := log.objectRequests(); got["DRYRUN-PATCH"] != 2 || got["PATCH"] != 2 {
		t.Errorf("first apply sent %v, want 2 dry runs and 2 applies (%v)", got, log.reqs)
	}

	log.reset()
	changes, err := m.ApplyAllStaged(ctx, docs("2", "1"), opts)
	if err != nil {
		t.Fatal(err)
	}
	ssaWantActions(t, changes, map[string]ssa.Action{"ConfigMap/" + ns + "/a": ssa.ActionConfigured, "ConfigMap/" + ns + "/b": ssa.ActionUnchanged})
	if got := log.objectRequests(); got["DRYRUN-PATCH"] != 1 || got["PATCH"] != 2 || len(got) != 2 {
		t.Errorf("changing a sent %v, want 1 dry run (of a) and 2 applies (%v)", got, log.reqs)
	}

	// b becomes invalid: its dry run fails the stage and a keeps v=2.
	log.reset()
	bad := docs("3", "1")
	bad[1].Object["data"] = map[string]any{"not a key!": "x"}
	if _, err := m.ApplyAllStaged(ctx, bad, opts); err == nil || !strings.Contains(err.Error(), "ConfigMap/"+ns+"/b dry-run failed") {
		t.Fatalf("error = %v", err)
	}
	if got, _, _ := unstructured.NestedString(ssaLiveObject(t, ssaConfigMaps, ns, "a").Object, "data", "v"); got != "2" {
		t.Errorf("a has v=%q after a failed dry run, want 2", got)
	}
	if got := log.objectRequests(); got["PATCH"] != 0 {
		t.Errorf("a failed dry run wrote: %v", log.reqs)
	}
}

func TestSSA_AnnotationPolicies(t *testing.T) {
	ctx := ssaContext(t)
	ns := namespace(t, "ssa-policies")
	m, _ := newSSAManager(t)
	opts := ssa.ApplyOptions{}
	set := func(value string) []*unstructured.Unstructured {
		return ssaManifests(t,
			ssaConfigMap(ns, "once", map[string]string{"v": value}, map[string]string{ssaGroup + "/ssa": "IfNotPresent"}),
			ssaConfigMap(ns, "ignored", map[string]string{"v": value}, map[string]string{ssaGroup + "/ssa": "Ignore"}),
			ssaConfigMap(ns, "disabled", map[string]string{"v": value}, map[string]string{ssaGroup + "/reconcile": "disabled"}),
			ssaConfigMap(ns, "paused", map[string]string{"v": value}, nil),
			ssaConfigMap(ns, "merged", map[string]string{"v": value}, map[string]string{ssaGroup + "/ssa": "Merge"}),
			// Ignored objects are not even looked up: the kind need not exist.
			"apiVersion: nope.example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: "+ns+
				"\n  annotations: {"+ssaGroup+"/ssa: Ignore}\n",
		)
	}
	changes, err := m.ApplyAllStaged(ctx, set("1"), opts)
	if err != nil {
		t.Fatal(err)
	}
	p := "ConfigMap/" + ns + "/"
	ssaWantActions(t, changes, map[string]ssa.Action{
		p + "once": ssa.ActionCreated, p + "ignored": ssa.ActionSkipped, p + "disabled": ssa.ActionSkipped,
		p + "paused": ssa.ActionCreated, p + "merged": ssa.ActionCreated, "Gadget/" + ns + "/g": ssa.ActionSkipped,
	})
	dyn := ssaDynamic(t).Resource(ssaConfigMaps).Namespace(ns)
	for _, name := range []string{"ignored", "disabled"} {
		if _, err := dyn.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s was applied: %v", name, err)
		}
	}

	// In-cluster edits: reconcile disabled on "paused", a kubectl label on
	// "merged" (Merge keeps fields of other managers).
	paused := ssaLiveObject(t, ssaConfigMaps, ns, "paused")
	paused.SetAnnotations(map[string]string{ssaGroup + "/reconcile": "disabled"})
	_ = unstructured.SetNestedField(paused.Object, "manual", "data", "v")
	if _, err := dyn.Update(ctx, paused, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	merged := ssaLiveObject(t, ssaConfigMaps, ns, "merged")
	labels := merged.GetLabels()
	labels["team"] = "payments"
	merged.SetLabels(labels)
	if _, err := dyn.Update(ctx, merged, metav1.UpdateOptions{FieldManager: "kubectl-label"}); err != nil {
		t.Fatal(err)
	}

	changes, err = m.ApplyAllStaged(ctx, set("2"), opts)
	if err != nil {
		t.Fatal(err)
	}
	ssaWantActions(t, changes, map[string]ssa.Action{
		// IfNotPresent: left alone, but still ours (kept in inventories).
		p + "once": ssa.ActionUnchanged, p + "ignored": ssa.ActionSkipped, p + "disabled": ssa.ActionSkipped,
		p + "paused": ssa.ActionSkipped, p + "merged": ssa.ActionConfigured, "Gadget/" + ns + "/g": ssa.ActionSkipped,
	})
	for name, want := range map[string]string{"once": "1", "paused": "manual", "merged": "2"} {
		u := ssaLiveObject(t, ssaConfigMaps, ns, name)
		if v, _, _ := unstructured.NestedString(u.Object, "data", "v"); v != want {
			t.Errorf("%s: data.v = %q, want %q", name, v, want)
		}
	}
	if got := ssaLiveObject(t, ssaConfigMaps, ns, "merged").GetLabels()["team"]; got != "payments" {
		t.Errorf("Merge removed a label of another manager: %q", got)
	}
}

func TestSSA_ErrorsNameTheObject(t *testing.T) {
	ctx := ssaContext(t)
	ns := namespace(t, "ssa-errors")
	m, _ := newSSAManager(t)
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "no namespace", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: orphan}\n", want: []string{"ConfigMap/orphan namespace not specified"}},
		{name: "unknown kind", doc: "apiVersion: nope.example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: " + ns + "}\n",
			want: []string{"Gadget/" + ns + "/g", "does not serve kind Gadget in nope.example.com/v1"}},
		{name: "invalid", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad, namespace: " + ns + "}\ndata: {\"not a key!\": x}\n",
			want: []string{"ConfigMap/" + ns + "/bad apply failed", "Invalid"}},
		{name: "invalid secret", doc: "apiVersion: v1\nkind: Secret\nmetadata: {name: bad, namespace: " + ns + "}\nstringData: {\"not a key!\": leaked-value}\n",
			want: []string{"Secret/" + ns + "/bad apply failed", "Invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.ApplyAllStaged(ctx, ssaManifests(t, tt.doc), ssa.ApplyOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "leaked-value") {
				t.Errorf("error shows a Secret value: %v", err)
			}
		})
	}

	// The first failure stops the apply; what was applied before is
	// reported.
	changes, err := m.ApplyAllStaged(ctx, ssaManifests(t,
		ssaConfigMap(ns, "good", map[string]string{"a": "b"}, nil),
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: worse, namespace: "+ns+"}\ndata: {\"not a key!\": x}\n",
	), ssa.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "ConfigMap/"+ns+"/worse") {
		t.Errorf("error = %v", err)
	}
	if a := ssaActions(changes)["ConfigMap/"+ns+"/good"]; a != ssa.ActionCreated {
		t.Errorf("changes before the failure = %v", changes)
	}
}

func TestSSA_ImmutableChangeNeedsForce(t *testing.T) {
	ctx := ssaContext(t)
	ns := namespace(t, "ssa-immutable")
	m, _ := newSSAManager(t)
	frozen := func(name, value string, annotations map[string]string) string {
		return ssaConfigMap(ns, name, map[string]string{"v": value}, annotations) + "immutable: true\n"
	}
	opts := ssa.ApplyOptions{WaitInterval: 100 * time.Millisecond, WaitTimeout: 20 * time.Second}
	if _, err := m.ApplyAllStaged(ctx, ssaManifests(t, frozen("frozen", "1", nil),
		frozen("forced", "1", map[string]string{ssaGroup + "/force": "Enabled"})), opts); err != nil {
		t.Fatal(err)
	}
	before := ssaLiveObject(t, ssaConfigMaps, ns, "frozen").GetUID()

	// Without force: a clear error, nothing changed.
	_, err := m.ApplyAllStaged(ctx, ssaManifests(t, frozen("frozen", "2", nil)), opts)
	if err == nil {
		t.Fatal("changing an immutable ConfigMap succeeded without force")
	}
	t.Logf("error: %v", err)
	for _, want := range []string{"ConfigMap/" + ns + "/frozen apply failed", "immutable", "spec.force", ssaGroup + "/force"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	// The force annotation recreates without opts.Force.
	changes, err := m.ApplyAllStaged(ctx, ssaManifests(t, frozen("forced", "2", map[string]string{ssaGroup + "/force": "Enabled"})), opts)
	if err != nil {
		t.Fatal(err)
	}
	ssaWantActions(t, changes, map[string]ssa.Action{"ConfigMap/" + ns + "/forced": ssa.ActionCreated})

	// With force: recreated.
	opts.Force = true
	changes, err = m.ApplyAllStaged(ctx, ssaManifests(t, frozen("frozen", "2", nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	ssaWantActions(t, changes, map[string]ssa.Action{"ConfigMap/" + ns + "/frozen": ssa.ActionCreated})
	after := ssaLiveObject(t, ssaConfigMaps, ns, "frozen")
	if v, _, _ := unstructured.NestedString(after.Object, "data", "v"); v != "2" || after.GetUID() == before {
		t.Errorf("not recreated: data.v %q, uid %s (was %s)", v, after.GetUID(), before)
	}
}

func TestSSA_DeleteHonoursPruneDisabledAndOwnerLabels(t *testing.T) {
	ctx := ssaContext(t)
	ns := namespace(t, "ssa-delete")
	m, _ := newSSAManager(t)
	objs := ssaManifests(t,
		ssaConfigMap(ns, "stale", map[string]string{"a": "b"}, nil),
		ssaConfigMap(ns, "protected", map[string]string{"a": "b"}, map[string]string{ssaGroup + "/prune": "disabled"}),
		ssaConfigMap(ns, "adopted", map[string]string{"a": "b"}, nil),
	)
	if _, err := m.ApplyAllStaged(ctx, objs, ssa.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	// Another Kustomization took "adopted" over.
	dyn := ssaDynamic(t).Resource(ssaConfigMaps).Namespace(ns)
	adopted := ssaLiveObject(t, ssaConfigMaps, ns, "adopted")
	labels := adopted.GetLabels()
	labels[ssaGroup+"/name"] = "other"
	adopted.SetLabels(labels)
	if _, err := dyn.Update(ctx, adopted, metav1.UpdateOptions{FieldManager: "other-controller"}); err != nil {
		t.Fatal(err)
	}

	refs := []ssa.Ref{ssa.RefOf(objs[0]), ssa.RefOf(objs[1]), ssa.RefOf(objs[2]),
		{ID: ns + "_never-existed__ConfigMap", Version: "v1"},
		{ID: ns + "_gone_nope.example.com_Gadget", Version: "v1"},
	}
	changes, err := m.Delete(ctx, refs, ssa.DeleteOptions{Labels: map[string]string{
		ssaGroup + "/name": "apps", ssaGroup + "/namespace": "flux-system",
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := "ConfigMap/" + ns + "/"
	ssaWantActions(t, changes, map[string]ssa.Action{p + "stale": ssa.ActionDeleted, p + "protected": ssa.ActionSkipped, p + "adopted": ssa.ActionSkipped})
	if _, err := dyn.Get(ctx, "stale", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("stale object still there: %v", err)
	}
	for _, name := range []string{"protected", "adopted"} {
		if _, err := dyn.Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("%s was deleted: %v", name, err)
		}
	}
	// Deleting again finds nothing to do; termination is immediate.
	if changes, err := m.Delete(ctx, refs[:1], ssa.DeleteOptions{}); err != nil || len(changes) != 0 {
		t.Errorf("second delete = %v, %v", changes, err)
	}
	if err := m.WaitForTermination(ctx, refs[:1], 100*time.Millisecond, 5*time.Second); err != nil {
		t.Error(err)
	}
}

func TestSSA_DiffMasksSecretsAndChangesNothing(t *testing.T) {
	ctx := ssaContext(t)
	ns := namespace(t, "ssa-diff")
	m, _ := newSSAManager(t)
	const oldValue, newValue, keptValue = "old-password-9d1f", "new-password-4c2e", "kept-user-7a3b"
	secret := func(password string) string {
		return `
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ` + ns + `}
stringData: {password: ` + password + `, user: ` + keptValue + `}
`
	}
	if _, err := m.ApplyAllStaged(ctx, ssaManifests(t,
		ssaConfigMap(ns, "settings", map[string]string{"color": "blue"}, nil),
		ssaConfigMap(ns, "steady", map[string]string{"a": "b"}, nil),
		secret(oldValue),
	), ssa.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	entries, err := m.Diff(ctx, ssaManifests(t,
		ssaConfigMap(ns, "settings", map[string]string{"color": "green"}, nil),
		ssaConfigMap(ns, "steady", map[string]string{"a": "b"}, nil),
		secret(newValue),
		ssaConfigMap(ns, "new", map[string]string{"a": "b"}, nil),
		ssaConfigMap(ns, "ignored", map[string]string{"a": "b"}, map[string]string{ssaGroup + "/ssa": "Ignore"}),
		// A namespace and an object in it that do not exist yet.
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: ssa-diff-later}\n",
		ssaConfigMap("ssa-diff-later", "inside", map[string]string{"a": "b"}, nil),
	))
	if err != nil {
		t.Fatal(err)
	}
	p := "ConfigMap/" + ns + "/"
	want := map[string]ssa.Action{
		p + "settings": ssa.ActionConfigured, p + "steady": ssa.ActionUnchanged, "Secret/" + ns + "/creds": ssa.ActionConfigured,
		p + "new": ssa.ActionCreated, p + "ignored": ssa.ActionSkipped,
		"Namespace/ssa-diff-later": ssa.ActionCreated, "ConfigMap/ssa-diff-later/inside": ssa.ActionCreated,
	}
	got := map[string]ssa.DiffEntry{}
	for _, e := range entries {
		t.Logf("%s %s %s %s\n%s", e.Subject, e.ID, e.Version, e.Action, e.Diff)
		got[e.Subject] = e
		if e.Action != want[e.Subject] {
			t.Errorf("%s: %s, want %s", e.Subject, e.Action, want[e.Subject])
		}
		if (e.Diff != "") != (e.Action == ssa.ActionConfigured) {
			t.Errorf("%s: diff %q with action %s", e.Subject, e.Diff, e.Action)
		}
		for _, v := range []string{oldValue, newValue, keptValue} {
			for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
				if strings.Contains(fmt.Sprintf("%+v", e), form) {
					t.Errorf("%s: diff shows a Secret value:\n%s", e.Subject, e.Diff)
				}
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("entries = %v, want %v", entries, want)
	}
	if d := got[p+"settings"].Diff; !strings.Contains(d, "-  color: blue") || !strings.Contains(d, "+  color: green") {
		t.Errorf("ConfigMap diff:\n%s", d)
	}
	if d := got["Secret/"+ns+"/creds"].Diff; !strings.Contains(d, "password: '*** (before)'") ||
		!strings.Contains(d, "password: '*** (after)'") || !strings.Contains(d, "user: '***'") {
		t.Errorf("Secret diff is not masked as expected:\n%s", d)
	}
	if e := got[p+"settings"]; e.ID != ns+"_settings__ConfigMap" || e.Version != "v1" {
		t.Errorf("entry ID/version = %q %q", e.ID, e.Version)
	}

	// Nothing was changed.
	if v, _, _ := unstructured.NestedString(ssaLiveObject(t, ssaConfigMaps, ns, "settings").Object, "data", "color"); v != "blue" {
		t.Errorf("Diff changed the object: color %q", v)
	}
	if _, err := ssaDynamic(t).Resource(ssaConfigMaps).Namespace(ns).Get(ctx, "new", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Diff created an object: %v", err)
	}
	pw, _, _ := unstructured.NestedString(ssaLiveObject(t, ssaSecrets, ns, "creds").Object, "data", "password")
	if pw != base64.StdEncoding.EncodeToString([]byte(oldValue)) {
		t.Error("Diff changed the Secret")
	}
}

func TestSSA_WaitForReady(t *testing.T) {
	ctx := ssaContext(t)
	ns := namespace(t, "ssa-wait")
	m, _ := newSSAManager(t)
	objs := ssaManifests(t, ssaConfigMap(ns, "ready", map[string]string{"a": "b"}, nil), `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: `+ns+`}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {disktype: none-has-this}
      containers: [{name: web, image: registry.invalid/web:1}]
`)
	if _, err := m.ApplyAllStaged(ctx, objs, ssa.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	cm, deploy := ssa.RefOf(objs[0]), ssa.RefOf(objs[1])

	start := time.Now()
	if err := m.WaitForReady(ctx, []ssa.Ref{cm}, 100*time.Millisecond, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a ConfigMap took %v to be ready", d)
	}

	// No node matches the Deployment's nodeSelector: it never becomes
	// available.
	missing := ssa.Ref{ID: ns + "_missing__ConfigMap", Version: "v1"}
	err := m.WaitForReady(ctx, []ssa.Ref{cm, deploy, missing}, 200*time.Millisecond, 2*time.Second)
	if err == nil {
		t.Fatal("WaitForReady succeeded for a Deployment no node can run")
	}
	t.Logf("error: %v", err)
	for _, want := range []string{"timeout waiting for: [", "Deployment/" + ns + "/web status: 'InProgress'", "ConfigMap/" + ns + "/missing status: 'NotFound'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "ConfigMap/"+ns+"/ready") {
		t.Errorf("a ready object is listed: %v", err)
	}

	// Cancelling ends the wait at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.WaitForReady(cctx, []ssa.Ref{deploy}, 100*time.Millisecond, time.Minute); err == nil {
		t.Error("WaitForReady ignored a cancelled context")
	}
}
