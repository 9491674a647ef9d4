package kustomize

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	kustomizev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/ssa"
)

// ks returns a Kustomization in namespace "apps" building from
// GitRepository/apps/repo.
func ks(name string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, Generation: 3},
		Spec: kustomizev1.KustomizationSpec{
			Interval:  "5m",
			SourceRef: common.NamespacedObjectKindReference{Kind: "GitRepository", Name: "repo"},
		},
	}
}

// readyDep returns a dependency that is Ready at its generation and has
// applied revision rev.
func readyDep(rev string) *kustomizev1.Kustomization {
	d := ks("dep")
	d.Status.ObservedGeneration = d.Generation
	d.Status.LastAppliedRevision = rev
	d.Status.Conditions = []metav1.Condition{{Type: common.ReadyCondition, Status: metav1.ConditionTrue, Reason: "x"}}
	return d
}

func inv(ids ...string) *kustomizev1.ResourceInventory {
	out := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	for _, id := range ids {
		out.Entries = append(out.Entries, kustomizev1.ResourceRef{ID: id, Version: "v1"})
	}
	return out
}

func refs(ids ...string) []ssa.Ref {
	var out []ssa.Ref
	for _, id := range ids {
		out = append(out, ssa.Ref{ID: id, Version: "v1"})
	}
	return out
}

func ids(i *kustomizev1.ResourceInventory) []string {
	if i == nil {
		return nil
	}
	out := []string{}
	for _, e := range i.Entries {
		out = append(out, e.ID)
	}
	return out
}

func TestDependencyReady_ReadyAtGenerationAndSharedSourceRevision(t *testing.T) {
	tests := []struct {
		name      string
		dep       func() *kustomizev1.Kustomization
		sourceRev string
		want      bool
	}{
		{name: "ready at current revision", dep: func() *kustomizev1.Kustomization { return readyDep("main@sha1:a") },
			sourceRev: "main@sha1:a", want: true},
		{name: "generation not observed yet", dep: func() *kustomizev1.Kustomization {
			d := readyDep("main@sha1:a")
			d.Generation++
			return d
		}, sourceRev: "main@sha1:a", want: false},
		{name: "Ready False", dep: func() *kustomizev1.Kustomization {
			d := readyDep("main@sha1:a")
			d.Status.Conditions[0].Status = metav1.ConditionFalse
			return d
		}, sourceRev: "main@sha1:a", want: false},
		{name: "no Ready condition", dep: func() *kustomizev1.Kustomization {
			d := readyDep("main@sha1:a")
			d.Status.Conditions = nil
			return d
		}, sourceRev: "main@sha1:a", want: false},
		{name: "same source at a newer revision", dep: func() *kustomizev1.Kustomization { return readyDep("main@sha1:a") },
			sourceRev: "main@sha1:b", want: false},
		{name: "same source without an artifact", dep: func() *kustomizev1.Kustomization { return readyDep("main@sha1:a") },
			sourceRev: "", want: true},
		{name: "same source named with its namespace", dep: func() *kustomizev1.Kustomization {
			d := readyDep("main@sha1:a")
			d.Spec.SourceRef.Namespace = "apps"
			return d
		}, sourceRev: "main@sha1:b", want: false},
		{name: "other source ignores the revision", dep: func() *kustomizev1.Kustomization {
			d := readyDep("main@sha1:a")
			d.Spec.SourceRef.Name = "other"
			return d
		}, sourceRev: "main@sha1:b", want: true},
		{name: "same name in another namespace is another source", dep: func() *kustomizev1.Kustomization {
			d := readyDep("main@sha1:a")
			d.Namespace = "infra"
			return d
		}, sourceRev: "main@sha1:b", want: true},
		{name: "same name of another kind is another source", dep: func() *kustomizev1.Kustomization {
			d := readyDep("main@sha1:a")
			d.Spec.SourceRef.Kind = "OCIRepository"
			return d
		}, sourceRev: "main@sha1:b", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dep := tt.dep()
			var asked []string
			revisionOf := func(kind, namespace, name string) string {
				asked = append(asked, kind+"/"+namespace+"/"+name)
				return tt.sourceRev
			}
			if got := dependencyReady(ks("app"), dep, revisionOf); got != tt.want {
				t.Errorf("dependencyReady = %v, want %v", got, tt.want)
			}
			for _, a := range asked {
				if want := "GitRepository/" + dep.Namespace + "/repo"; a != want {
					t.Errorf("asked for the revision of %s, want %s", a, want)
				}
			}
		})
	}
}

func TestDiffInventory_ReturnsEntriesGoneFromTheNewInventory(t *testing.T) {
	tests := []struct {
		name         string
		old, updated *kustomizev1.ResourceInventory
		want         []ssa.Ref
	}{
		{name: "no old inventory", old: nil, updated: inv("a"), want: nil},
		{name: "nothing left", old: inv("a", "b"), updated: inv("a", "b"), want: nil},
		{name: "removed entries in old order", old: inv("a", "b", "c", "d"), updated: inv("c", "a"), want: refs("b", "d")},
		{name: "nil updated prunes everything", old: inv("a", "b"), updated: nil, want: refs("a", "b")},
		{name: "new entries are not stale", old: inv("a"), updated: inv("a", "b"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diffInventory(tt.old, tt.updated); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diffInventory = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDiffInventory_KeepsVersionOfOldEntry(t *testing.T) {
	old := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: "ns_a__ConfigMap", Version: "v1beta1"}}}
	got := diffInventory(old, nil)
	if want := []ssa.Ref{{ID: "ns_a__ConfigMap", Version: "v1beta1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("diffInventory = %v, want %v", got, want)
	}
}

func TestMergeInventories_UnionWithoutDuplicates(t *testing.T) {
	tests := []struct {
		name string
		a, b *kustomizev1.ResourceInventory
		want []string
	}{
		{name: "both nil", want: []string{}},
		{name: "first only", a: inv("a", "b"), want: []string{"a", "b"}},
		{name: "second only", b: inv("a", "b"), want: []string{"a", "b"}},
		{name: "union without duplicates, first wins the order", a: inv("b", "a"), b: inv("a", "c", "b"), want: []string{"b", "a", "c"}},
		{name: "empty entries", a: &kustomizev1.ResourceInventory{}, b: inv("a"), want: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeInventories(tt.a, tt.b)
			if !reflect.DeepEqual(ids(got), tt.want) {
				t.Errorf("mergeInventories = %v, want %v", ids(got), tt.want)
			}
			// The result is written to status: never a nil list.
			if got.Entries == nil {
				t.Error("Entries is nil, want an empty list")
			}
		})
	}
}

func TestRemaining_KeepsWhatWasNotDeleted(t *testing.T) {
	tests := []struct {
		name    string
		stale   []ssa.Ref
		deleted []ssa.Change
		want    []string
	}{
		{name: "all deleted", stale: refs("a", "b"),
			deleted: []ssa.Change{{ID: "a", Action: ssa.ActionDeleted}, {ID: "b", Action: ssa.ActionDeleted}}, want: []string{}},
		{name: "nothing deleted", stale: refs("a", "b"), want: []string{"a", "b"}},
		{name: "skipped stays in the inventory", stale: refs("a", "b"),
			deleted: []ssa.Change{{ID: "a", Action: ssa.ActionDeleted}, {ID: "b", Action: ssa.ActionSkipped}}, want: []string{"b"}},
		{name: "unrelated changes ignored", stale: refs("a"),
			deleted: []ssa.Change{{ID: "x", Action: ssa.ActionDeleted}}, want: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(remaining(tt.stale, tt.deleted)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("remaining = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInventoryOf_KeepsSkippedObjects(t *testing.T) {
	tests := []struct {
		name    string
		changes []ssa.Change
		want    []kustomizev1.ResourceRef
	}{
		{name: "no changes is an empty inventory", want: []kustomizev1.ResourceRef{}},
		{name: "every built object, skipped ones too", changes: []ssa.Change{
			{ID: "apps_a__ConfigMap", Version: "v1", Action: ssa.ActionCreated},
			{ID: "apps_b_apps_Deployment", Version: "v1", Action: ssa.ActionConfigured},
			{ID: "apps_c__Secret", Version: "v1", Action: ssa.ActionSkipped},
			{ID: "_d__Namespace", Version: "v1", Action: ssa.ActionUnchanged},
		}, want: []kustomizev1.ResourceRef{
			{ID: "apps_a__ConfigMap", Version: "v1"},
			{ID: "apps_b_apps_Deployment", Version: "v1"},
			{ID: "apps_c__Secret", Version: "v1"},
			{ID: "_d__Namespace", Version: "v1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inventoryOf(tt.changes); !reflect.DeepEqual(got.Entries, tt.want) {
				t.Errorf("inventoryOf = %v, want %v", got.Entries, tt.want)
			}
		})
	}
}

func TestHasInventory_NeedsEntries(t *testing.T) {
	tests := []struct {
		name string
		inv  *kustomizev1.ResourceInventory
		want bool
	}{
		{name: "nil", inv: nil, want: false},
		{name: "empty", inv: inv(), want: false},
		{name: "entries", inv: inv("a"), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := ks("app")
			obj.Status.Inventory = tt.inv
			if got := hasInventory(obj); got != tt.want {
				t.Errorf("hasInventory = %v, want %v", got, tt.want)
			}
		})
	}
}

// historyStart is the start of the history tests' clock.
var historyStart = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// snap is a history entry reconciled first and last at the given seconds
// after historyStart.
func snap(digest string, first, last int, status string, total int64, revision string) common.Snapshot {
	s := common.Snapshot{
		Digest:                 digest,
		FirstReconciled:        metav1.NewTime(historyStart.Add(time.Duration(first) * time.Second)),
		LastReconciled:         metav1.NewTime(historyStart.Add(time.Duration(last) * time.Second)),
		LastReconciledDuration: metav1.Duration{Duration: 1500 * time.Millisecond},
		LastReconciledStatus:   status,
		TotalReconciliations:   total,
	}
	if revision != "" {
		s.Metadata = map[string]string{"revision": revision}
	}
	return s
}

func describeHistory(h []common.Snapshot) string {
	var b strings.Builder
	for _, s := range h {
		fmt.Fprintf(&b, "\n  %s first=%s last=%s took=%s %s total=%d meta=%v", s.Digest,
			s.FirstReconciled.Sub(historyStart), s.LastReconciled.Sub(historyStart), s.LastReconciledDuration.Duration,
			s.LastReconciledStatus, s.TotalReconciliations, s.Metadata)
	}
	return b.String()
}

func TestRecordHistory_OneEntryPerDigestNewestFirst(t *testing.T) {
	const ok, failed = kustomize.ReconciliationSucceededReason, kustomize.ReconciliationFailedReason
	// Every call starts at second 100 and takes 1.5s: LastReconciled is
	// truncated to second 101.
	tests := []struct {
		name     string
		history  []common.Snapshot
		digest   string
		revision string
		status   string
		want     []common.Snapshot
	}{
		{name: "first entry", digest: "d1", revision: "main@sha1:a", status: ok,
			want: []common.Snapshot{snap("d1", 101, 101, ok, 1, "main@sha1:a")}},
		{name: "no revision, no metadata", digest: "d1", status: failed,
			want: []common.Snapshot{snap("d1", 101, 101, failed, 1, "")}},
		{name: "same digest updates the entry and counts", digest: "d1", revision: "main@sha1:b", status: failed,
			history: []common.Snapshot{snap("d1", 10, 50, ok, 4, "main@sha1:a")},
			want:    []common.Snapshot{snap("d1", 10, 101, failed, 5, "main@sha1:b")}},
		{name: "same digest without revision keeps the metadata", digest: "d1", status: ok,
			history: []common.Snapshot{snap("d1", 10, 50, ok, 4, "main@sha1:a")},
			want:    []common.Snapshot{snap("d1", 10, 101, ok, 5, "main@sha1:a")}},
		{name: "same digest moves to the front", digest: "d2", revision: "r2", status: ok,
			history: []common.Snapshot{snap("d1", 60, 60, ok, 1, "r1"), snap("d2", 10, 50, ok, 2, "r2"), snap("d3", 5, 5, ok, 1, "r3")},
			want:    []common.Snapshot{snap("d2", 10, 101, ok, 3, "r2"), snap("d1", 60, 60, ok, 1, "r1"), snap("d3", 5, 5, ok, 1, "r3")}},
		{name: "new digest is prepended", digest: "d2", revision: "r2", status: ok,
			history: []common.Snapshot{snap("d1", 10, 50, ok, 4, "r1")},
			want:    []common.Snapshot{snap("d2", 101, 101, ok, 1, "r2"), snap("d1", 10, 50, ok, 4, "r1")}},
		{name: "at most five, oldest dropped", digest: "d6", revision: "r6", status: ok,
			history: []common.Snapshot{
				snap("d5", 50, 50, ok, 1, "r5"), snap("d4", 40, 40, ok, 1, "r4"), snap("d3", 30, 30, ok, 1, "r3"),
				snap("d2", 20, 20, ok, 1, "r2"), snap("d1", 10, 10, ok, 1, "r1"),
			},
			want: []common.Snapshot{
				snap("d6", 101, 101, ok, 1, "r6"), snap("d5", 50, 50, ok, 1, "r5"), snap("d4", 40, 40, ok, 1, "r4"),
				snap("d3", 30, 30, ok, 1, "r3"), snap("d2", 20, 20, ok, 1, "r2"),
			}},
		{name: "update at the limit keeps all five", digest: "d1", revision: "r1", status: ok,
			history: []common.Snapshot{
				snap("d5", 50, 50, ok, 1, "r5"), snap("d4", 40, 40, ok, 1, "r4"), snap("d3", 30, 30, ok, 1, "r3"),
				snap("d2", 20, 20, ok, 1, "r2"), snap("d1", 10, 10, ok, 1, "r1"),
			},
			want: []common.Snapshot{
				snap("d1", 10, 101, ok, 2, "r1"), snap("d5", 50, 50, ok, 1, "r5"), snap("d4", 40, 40, ok, 1, "r4"),
				snap("d3", 30, 30, ok, 1, "r3"), snap("d2", 20, 20, ok, 1, "r2"),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &kustomizev1.KustomizationStatus{History: tt.history}
			recordHistory(st, tt.digest, tt.revision, tt.status, historyStart.Add(100*time.Second), 1500*time.Millisecond)
			if !reflect.DeepEqual(st.History, tt.want) {
				t.Errorf("history:%s\nwant:%s", describeHistory(st.History), describeHistory(tt.want))
			}
		})
	}
}

func TestLastAppliedDigest_SkipsFailedEntries(t *testing.T) {
	const ok, failed = kustomize.ReconciliationSucceededReason, kustomize.ReconciliationFailedReason
	tests := []struct {
		name    string
		history []common.Snapshot
		want    string
	}{
		{name: "no history", want: ""},
		{name: "newest succeeded", history: []common.Snapshot{snap("d2", 0, 20, ok, 1, ""), snap("d1", 0, 10, ok, 1, "")}, want: "d2"},
		{name: "failed entries skipped", history: []common.Snapshot{
			snap("d3", 0, 30, failed, 1, ""), snap("d2", 0, 20, kustomize.HealthCheckFailedReason, 1, ""), snap("d1", 0, 10, ok, 1, ""),
		}, want: "d1"},
		{name: "only failures", history: []common.Snapshot{snap("d1", 0, 10, failed, 1, "")}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastAppliedDigest(&kustomizev1.KustomizationStatus{History: tt.history}); got != tt.want {
				t.Errorf("lastAppliedDigest = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHealthCheckRef_IsTheInventoryIDOfTheObject(t *testing.T) {
	tests := []struct {
		name string
		hc   common.NamespacedObjectKindReference
		want ssa.Ref
	}{
		{name: "core group", hc: common.NamespacedObjectKindReference{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", Namespace: "web"},
			want: ssa.Ref{ID: "web_cm__ConfigMap", Version: "v1"}},
		{name: "named group", hc: common.NamespacedObjectKindReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Namespace: "web"},
			want: ssa.Ref{ID: "web_web_apps_Deployment", Version: "v1"}},
		{name: "dotted group", hc: common.NamespacedObjectKindReference{APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease", Name: "r", Namespace: "web"},
			want: ssa.Ref{ID: "web_r_helm.toolkit.fluxcd.io_HelmRelease", Version: "v2"}},
		{name: "namespace defaults to the Kustomization's", hc: common.NamespacedObjectKindReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			want: ssa.Ref{ID: "apps_web_apps_Deployment", Version: "v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := healthCheckRef(ks("app"), tt.hc)
			if got != tt.want {
				t.Errorf("healthCheckRef = %+v, want %+v", got, tt.want)
			}
			// The ID must be what the apply manager reads back.
			meta, gvk, err := ssa.ParseRef(got)
			if err != nil {
				t.Fatalf("ParseRef: %v", err)
			}
			if meta.Name != tt.hc.Name || gvk.Kind != tt.hc.Kind || gvk.GroupVersion().String() != tt.hc.APIVersion {
				t.Errorf("ParseRef = %v %v, want %s %s", meta, gvk, tt.hc.APIVersion, tt.hc.Name)
			}
		})
	}
}

func TestOwnerLabels_AreFluxs(t *testing.T) {
	got := ownerLabels(ks("app"))
	want := map[string]string{
		"kustomize.toolkit.fluxcd.io/name":      "app",
		"kustomize.toolkit.fluxcd.io/namespace": "apps",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ownerLabels = %v, want %v", got, want)
	}
}

func configMap(name string, data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"data": data}}
	u.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"})
	u.SetNamespace("apps")
	u.SetName(name)
	return u
}

func TestManifestsDigest_StableUntilTheManifestsChange(t *testing.T) {
	base := func() []*unstructured.Unstructured {
		return []*unstructured.Unstructured{
			configMap("a", map[string]any{"k1": "v1", "k2": "v2"}),
			configMap("b", map[string]any{"k": "v"}),
		}
	}
	want := manifestsDigest(base())
	if !strings.HasPrefix(want, "sha256:") || len(want) != len("sha256:")+64 {
		t.Fatalf("digest %q is not sha256:<hex>", want)
	}
	tests := []struct {
		name   string
		change func([]*unstructured.Unstructured) []*unstructured.Unstructured
		same   bool
	}{
		{name: "same input", change: func(o []*unstructured.Unstructured) []*unstructured.Unstructured { return o }, same: true},
		{name: "same maps built in another order", change: func([]*unstructured.Unstructured) []*unstructured.Unstructured {
			return []*unstructured.Unstructured{
				configMap("a", map[string]any{"k2": "v2", "k1": "v1"}),
				configMap("b", map[string]any{"k": "v"}),
			}
		}, same: true},
		{name: "changed value", change: func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			o[1].Object["data"] = map[string]any{"k": "w"}
			return o
		}},
		{name: "changed label", change: func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			o[0].SetLabels(map[string]string{"l": "v"})
			return o
		}},
		{name: "objects reordered", change: func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			return []*unstructured.Unstructured{o[1], o[0]}
		}},
		{name: "object removed", change: func(o []*unstructured.Unstructured) []*unstructured.Unstructured { return o[:1] }},
		{name: "no objects", change: func([]*unstructured.Unstructured) []*unstructured.Unstructured { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := manifestsDigest(tt.change(base()))
			if (got == want) != tt.same {
				t.Errorf("digest %s, base %s; want same=%v", got, want, tt.same)
			}
		})
	}
}

func TestHealthWait_CurrentUntilGenerationRevisionOrRequestChanges(t *testing.T) {
	obj := ks("app")
	obj.Generation = 2
	obj.Annotations = map[string]string{common.ReconcileRequestAnnotation: "t1"}
	w := &healthWait{generation: 2, revision: "main@sha1:a", requestedAt: "t1"}
	if !w.current(obj, "main@sha1:a") {
		t.Error("the same generation, revision and request is not current")
	}
	if w.current(obj, "main@sha1:b") {
		t.Error("a new source revision does not supersede the wait")
	}
	newer := obj.DeepCopy()
	newer.Generation = 3
	if w.current(newer, "main@sha1:a") {
		t.Error("a new generation does not supersede the wait")
	}
	asked := obj.DeepCopy()
	asked.Annotations[common.ReconcileRequestAnnotation] = "t2"
	if w.current(asked, "main@sha1:a") {
		t.Error("a new reconcile request does not supersede the wait")
	}
}

func TestInventoryTooLarge_StallsWithAClearMessage(t *testing.T) {
	obj := ks("app")
	obj.Status.Inventory = &kustomizev1.ResourceInventory{}
	for i := range 20000 {
		obj.Status.Inventory.Entries = append(obj.Status.Inventory.Entries,
			kustomizev1.ResourceRef{ID: fmt.Sprintf("some-namespace_object-with-a-long-name-%06d_apps_Deployment", i), Version: "v1"})
	}
	err := inventoryTooLarge(obj)
	if outcome, _ := loop.Classify(err, ""); outcome != loop.Stalled || !strings.Contains(err.Error(), "20000 objects") ||
		!strings.Contains(err.Error(), "split this Kustomization") {
		t.Errorf("20000 entries: %v", err)
	}
	obj.Status.Inventory.Entries = obj.Status.Inventory.Entries[:3000]
	if err := inventoryTooLarge(obj); err != nil {
		t.Errorf("3000 entries: %v", err)
	}
}

func TestBuildWeight_CountsCompressedSizeGenerouslyWithinTheCap(t *testing.T) {
	size := func(n int64) *common.Artifact { return &common.Artifact{Size: &n} }
	for _, tc := range []struct {
		a        *common.Artifact
		max      int64
		expected int64
	}{
		{&common.Artifact{}, 128 << 20, 1 << 20},
		{size(10 << 10), 128 << 20, 1 << 20},
		{size(1 << 20), 128 << 20, 32 << 20},
		{size(100 << 20), 128 << 20, 128 << 20},
	} {
		if got := buildWeight(tc.a, tc.max); got != tc.expected {
			t.Errorf("buildWeight(%v, %d) = %d, want %d", tc.a.Size, tc.max, got, tc.expected)
		}
	}
}
