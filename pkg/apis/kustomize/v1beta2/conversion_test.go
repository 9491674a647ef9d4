package v1beta2

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/randfill"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonfuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/fuzzer"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1"
)

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{kustomize.AddToScheme, v1.AddToScheme, AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return scheme
}

func ptr[T any](v T) *T { return &v }

func rawJSON(s string) common.JSON { return common.JSON{Raw: []byte(s)} }

// base is the tutorial's v1beta2 Kustomization; cases add to its spec.
func base() KustomizationSpec {
	return KustomizationSpec{
		Interval:        "5m0s",
		Path:            "./app/overlays/prod",
		Prune:           true,
		SourceRef:       common.NamespacedObjectKindReference{Kind: "GitRepository", Name: "task-tool"},
		TargetNamespace: "prod",
	}
}

func baseV1() v1.KustomizationSpec {
	return v1.KustomizationSpec{
		Interval:        "5m0s",
		Path:            "./app/overlays/prod",
		Prune:           true,
		SourceRef:       common.NamespacedObjectKindReference{Kind: "GitRepository", Name: "task-tool"},
		TargetNamespace: "prod",
	}
}

func TestConversion_V1beta2ToV1(t *testing.T) {
	deployment := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app"},"spec":{"replicas":2}}`
	cases := []struct {
		name string
		in   func(*KustomizationSpec)
		want func(*v1.KustomizationSpec)
	}{{
		name: "tutorial manifest keeps every field",
		in:   func(*KustomizationSpec) {},
		want: func(*v1.KustomizationSpec) {},
	}, {
		name: "patchesStrategicMerge becomes a patch without target",
		in: func(s *KustomizationSpec) {
			s.PatchesStrategicMerge = []common.JSON{rawJSON("{\n  \"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\",\n  \"metadata\": {\"name\": \"app\"}, \"spec\": {\"replicas\": 2}}")}
		},
		want: func(s *v1.KustomizationSpec) {
			s.Patches = []common.Patch{{Patch: deployment}}
		},
	}, {
		name: "patchesJson6902 becomes a patch with its target",
		in: func(s *KustomizationSpec) {
			s.PatchesJSON6902 = []JSON6902Patch{{
				Target: common.Selector{Group: "apps", Version: "v1", Kind: "Deployment", Name: "app", Namespace: "prod"},
				Patch: []JSON6902{
					{Op: "replace", Path: "/spec/replicas", Value: ptr(rawJSON("3"))},
					{Op: "copy", From: "/metadata/labels", Path: "/spec/template/metadata/labels"},
					{Op: "remove", Path: "/spec/paused"},
				},
			}}
		},
		want: func(s *v1.KustomizationSpec) {
			s.Patches = []common.Patch{{
				Patch: `[{"op":"replace","path":"/spec/replicas","value":3},` +
					`{"op":"copy","path":"/spec/template/metadata/labels","from":"/metadata/labels"},` +
					`{"op":"remove","path":"/spec/paused"}]`,
				Target: &common.Selector{Group: "apps", Version: "v1", Kind: "Deployment", Name: "app", Namespace: "prod"},
			}}
		},
	}, {
		name: "all three patch fields merge in kustomize's order",
		in: func(s *KustomizationSpec) {
			s.Patches = []common.Patch{{Patch: "p1", Target: &common.Selector{Kind: "Service"}}, {Patch: "p2"}}
			s.PatchesJSON6902 = []JSON6902Patch{{Target: common.Selector{Kind: "ConfigMap"}}}
			s.PatchesStrategicMerge = []common.JSON{rawJSON(deployment), rawJSON(`{"kind":"Service","metadata":{"name":"svc"}}`)}
		},
		want: func(s *v1.KustomizationSpec) {
			s.Patches = []common.Patch{
				{Patch: deployment},
				{Patch: `{"kind":"Service","metadata":{"name":"svc"}}`},
				{Patch: "p1", Target: &common.Selector{Kind: "Service"}},
				{Patch: "p2"},
				{Patch: "[]", Target: &common.Selector{Kind: "ConfigMap"}},
			}
		},
	}, {
		name: "validation is dropped",
		in:   func(s *KustomizationSpec) { s.Validation = "server" },
		want: func(*v1.KustomizationSpec) {},
	}, {
		name: "kubeConfig secretRef keeps name and key",
		in: func(s *KustomizationSpec) {
			s.KubeConfig = &KubeConfigReference{SecretRef: common.SecretKeyReference{Name: "remote", Key: "value.yaml"}}
		},
		want: func(s *v1.KustomizationSpec) {
			s.KubeConfig = &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "remote", Key: "value.yaml"}}
		},
	}, {
		name: "the other spec fields are copied",
		in: func(s *KustomizationSpec) {
			s.CommonMetadata = &CommonMetadata{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"x": "y"}}
			s.DependsOn = []DependencyReference{{Name: "infra", Namespace: "flux-system"}}
			s.Decryption = &Decryption{Provider: "sops", SecretRef: &common.LocalObjectReference{Name: "sops-age"}}
			s.RetryInterval = ptr[common.Duration]("1m")
			s.Timeout = ptr[common.Duration]("3m")
			s.PostBuild = &PostBuild{Substitute: map[string]string{"a": "b"}, SubstituteFrom: []SubstituteReference{{Kind: "Secret", Name: "vars", Optional: true}}}
			s.HealthChecks = []common.NamespacedObjectKindReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "app"}}
			s.Images = []common.Image{{Name: "podinfo", NewTag: "6.0.0"}}
			s.ServiceAccountName = "deployer"
			s.Suspend, s.Force, s.Wait = true, true, true
			s.Components = []string{"../c"}
		},
		want: func(s *v1.KustomizationSpec) {
			s.CommonMetadata = &v1.CommonMetadata{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"x": "y"}}
			s.DependsOn = []v1.DependencyReference{{Name: "infra", Namespace: "flux-system"}}
			s.Decryption = &v1.Decryption{Provider: "sops", SecretRef: &common.LocalObjectReference{Name: "sops-age"}}
			s.RetryInterval = ptr[common.Duration]("1m")
			s.Timeout = ptr[common.Duration]("3m")
			s.PostBuild = &v1.PostBuild{Substitute: map[string]string{"a": "b"}, SubstituteFrom: []v1.SubstituteReference{{Kind: "Secret", Name: "vars", Optional: true}}}
			s.HealthChecks = []common.NamespacedObjectKindReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "app"}}
			s.Images = []common.Image{{Name: "podinfo", NewTag: "6.0.0"}}
			s.ServiceAccountName = "deployer"
			s.Suspend, s.Force, s.Wait = true, true, true
			s.Components = []string{"../c"}
		},
	}}
	scheme := newScheme(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &Kustomization{
				ObjectMeta: metav1.ObjectMeta{Name: "task-tool", Namespace: "flux-system"},
				Spec:       base(),
			}
			tc.in(&in.Spec)
			original := in.DeepCopy()

			hub := &kustomize.Kustomization{}
			if err := scheme.Convert(in, hub, nil); err != nil {
				t.Fatalf("v1beta2 to hub: %v", err)
			}
			out := &v1.Kustomization{}
			if err := scheme.Convert(hub, out, nil); err != nil {
				t.Fatalf("hub to v1: %v", err)
			}
			want := baseV1()
			tc.want(&want)
			if diff := cmp.Diff(want, out.Spec); diff != "" {
				t.Errorf("v1 spec (-want +got):\n%s", diff)
			}
			if out.Name != "task-tool" || out.Namespace != "flux-system" {
				t.Errorf("metadata = %+v", out.ObjectMeta)
			}
			if diff := cmp.Diff(original, in); diff != "" {
				t.Errorf("conversion modified its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestConversion_StatusToV1(t *testing.T) {
	scheme := newScheme(t)
	in := &Kustomization{Spec: base(), Status: KustomizationStatus{
		ReconcileRequestStatus: common.ReconcileRequestStatus{LastHandledReconcileAt: "now"},
		ObservedGeneration:     2,
		Conditions:             []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded"}},
		LastAppliedRevision:    "main/abc",
		LastAttemptedRevision:  "main/def",
		Inventory:              &ResourceInventory{Entries: []ResourceRef{{ID: "prod_app_apps_Deployment", Version: "v1"}}},
	}}
	hub := &kustomize.Kustomization{}
	if err := scheme.Convert(in, hub, nil); err != nil {
		t.Fatal(err)
	}
	out := &v1.Kustomization{}
	if err := scheme.Convert(hub, out, nil); err != nil {
		t.Fatal(err)
	}
	want := v1.KustomizationStatus{
		ReconcileRequestStatus: common.ReconcileRequestStatus{LastHandledReconcileAt: "now"},
		ObservedGeneration:     2,
		Conditions:             []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded"}},
		LastAppliedRevision:    "main/abc",
		LastAttemptedRevision:  "main/def",
		Inventory:              &v1.ResourceInventory{Entries: []v1.ResourceRef{{ID: "prod_app_apps_Deployment", Version: "v1"}}},
	}
	if diff := cmp.Diff(want, out.Status); diff != "" {
		t.Errorf("v1 status (-want +got):\n%s", diff)
	}
}

func TestConversion_HubToV1beta2DropsNewerFields(t *testing.T) {
	scheme := newScheme(t)
	hub := &kustomize.Kustomization{
		Spec: kustomize.KustomizationSpec{
			Interval: "5m", Prune: true, SourceRef: common.NamespacedObjectKindReference{Kind: "GitRepository", Name: "repo"},
			DeletionPolicy: "Orphan", NamePrefix: "a-", NameSuffix: "-b", IgnoreMissingComponents: true,
			HealthCheckExprs: []common.CustomHealthCheck{{APIVersion: "v1", Current: "true"}},
			BuildMetadata:    []string{"originAnnotations"},
			Ignore:           []kustomize.IgnoreRule{{Paths: []string{"/spec/replicas"}}},
			DependsOn:        []kustomize.DependencyReference{{Name: "infra", ReadyExpr: "true"}},
			Decryption:       &kustomize.Decryption{Provider: "sops", ServiceAccountName: "kms"},
			PostBuild:        &kustomize.PostBuild{Substitute: map[string]string{"a": "b"}, SubstituteStrategy: "Always"},
			KubeConfig:       &common.KubeConfigReference{ConfigMapRef: &common.LocalObjectReference{Name: "wi"}},
			Patches:          []common.Patch{{Patch: "p"}},
		},
		Status: kustomize.KustomizationStatus{
			LastAppliedRevision: "main@sha1:abc", LastAppliedOriginRevision: "v1@sha1:abc",
			History: []common.Snapshot{{Digest: "sha256:1", TotalReconciliations: 2}},
		},
	}
	out := &Kustomization{}
	if err := scheme.Convert(hub, out, nil); err != nil {
		t.Fatal(err)
	}
	want := Kustomization{
		Spec: KustomizationSpec{
			Interval: "5m", Prune: true, SourceRef: common.NamespacedObjectKindReference{Kind: "GitRepository", Name: "repo"},
			DependsOn:  []DependencyReference{{Name: "infra"}},
			Decryption: &Decryption{Provider: "sops"},
			PostBuild:  &PostBuild{Substitute: map[string]string{"a": "b"}},
			Patches:    []common.Patch{{Patch: "p"}},
		},
		Status: KustomizationStatus{LastAppliedRevision: "main@sha1:abc"},
	}
	if diff := cmp.Diff(want, *out); diff != "" {
		t.Errorf("v1beta2 (-want +got):\n%s", diff)
	}
}

// TestConversion_RoundTripWithoutDeprecatedFields converts fuzzed v1beta2
// objects to the hub and back. Without the deprecated fields (which
// conversion moves into spec.patches or drops) nothing may change.
func TestConversion_RoundTripWithoutDeprecatedFields(t *testing.T) {
	scheme := newScheme(t)
	f := randfill.New().NilChance(0.2).NumElements(0, 2).Funcs(
		commonfuzzer.Duration,
		func(tm *metav1.Time, c randfill.Continue) { *tm = metav1.Unix(c.Int63n(1<<32), 0) },
	)
	for i := 0; i < 200; i++ {
		in := &Kustomization{}
		f.Fill(in)
		in.TypeMeta = metav1.TypeMeta{} // conversion does not set type information
		in.Spec.PatchesStrategicMerge = nil
		in.Spec.PatchesJSON6902 = nil
		in.Spec.Validation = ""

		hub := &kustomize.Kustomization{}
		if err := scheme.Convert(in.DeepCopy(), hub, nil); err != nil {
			t.Fatalf("to hub: %v", err)
		}
		out := &Kustomization{}
		if err := scheme.Convert(hub, out, nil); err != nil {
			t.Fatalf("from hub: %v", err)
		}
		if diff := cmp.Diff(in, out); diff != "" {
			t.Fatalf("round trip changed the object (-want +got):\n%s", diff)
		}
	}
}

// TestConversion_PatchDocumentsAreValidJSON checks that converted JSON 6902
// patches decode as the list of operations they came from.
func TestConversion_PatchDocumentsAreValidJSON(t *testing.T) {
	ops := []JSON6902{{Op: "add", Path: "/metadata/labels/a", Value: ptr(rawJSON(`{"nested":["x",1]}`))}, {Op: "test", Path: "/b", Value: ptr(rawJSON(`null`))}}
	p, err := json6902Patch(JSON6902Patch{Patch: ops, Target: common.Selector{Kind: "Deployment"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(p.Patch), &got); err != nil {
		t.Fatalf("patch %q is not JSON: %v", p.Patch, err)
	}
	want := []map[string]any{
		{"op": "add", "path": "/metadata/labels/a", "value": map[string]any{"nested": []any{"x", float64(1)}}},
		{"op": "test", "path": "/b", "value": nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded patch (-want +got):\n%s", diff)
	}
}
