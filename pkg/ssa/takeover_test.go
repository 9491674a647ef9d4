package ssa

import (
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func fields(t *testing.T, v any) *metav1.FieldsV1 {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &metav1.FieldsV1{Raw: raw}
}

func TestFoldKubectlFields_MovesKubectlFieldsToOwner(t *testing.T) {
	entries := []metav1.ManagedFieldsEntry{
		{Manager: "kustomize-controller", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "v1",
			FieldsType: "FieldsV1", FieldsV1: fields(t, map[string]any{"f:data": map[string]any{"f:a": map[string]any{}}})},
		{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
			FieldsType: "FieldsV1", FieldsV1: fields(t, map[string]any{"f:data": map[string]any{"f:b": map[string]any{}}})},
		{Manager: "flux-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
			FieldsType: "FieldsV1", FieldsV1: fields(t, map[string]any{"f:data": map[string]any{"f:c": map[string]any{}}})},
		{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Subresource: "status",
			FieldsType: "FieldsV1", FieldsV1: fields(t, map[string]any{"f:status": map[string]any{}})},
	}
	out, changed, err := foldKubectlFields(entries, "kustomize-controller", "v1", nil)
	if err != nil || !changed {
		t.Fatalf("fold = %v, %v", changed, err)
	}
	if len(out) != 3 {
		t.Fatalf("entries = %d, want 3 (kubectl-edit folded, others kept): %+v", len(out), out)
	}
	var owner map[string]any
	if err := json.Unmarshal(out[0].FieldsV1.Raw, &owner); err != nil {
		t.Fatal(err)
	}
	data, _ := owner["f:data"].(map[string]any)
	if _, ok := data["f:a"]; !ok {
		t.Errorf("owner lost its own field: %s", out[0].FieldsV1.Raw)
	}
	if _, ok := data["f:b"]; !ok {
		t.Errorf("owner did not get kubectl's field: %s", out[0].FieldsV1.Raw)
	}
	if out[1].Manager != "flux-client-side-apply" || out[2].Subresource != "status" {
		t.Errorf("unrelated entries changed: %+v", out)
	}
	// The input is not modified.
	if string(entries[0].FieldsV1.Raw) == string(out[0].FieldsV1.Raw) {
		t.Error("input entry was modified in place")
	}
}

func TestFoldKubectlFields_CreatesOwnerEntryOrDoesNothing(t *testing.T) {
	onlyKubectl := []metav1.ManagedFieldsEntry{
		{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
			FieldsType: "FieldsV1", FieldsV1: fields(t, map[string]any{"f:data": map[string]any{"f:a": map[string]any{}}})},
	}
	out, changed, err := foldKubectlFields(onlyKubectl, "kustomize-controller", "v1", nil)
	if err != nil || !changed || len(out) != 1 || out[0].Manager != "kustomize-controller" || out[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Fatalf("fold = %+v, %v, %v", out, changed, err)
	}

	none := []metav1.ManagedFieldsEntry{
		{Manager: "kustomize-controller", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: fields(t, map[string]any{})},
		{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1beta1", FieldsType: "FieldsV1", FieldsV1: fields(t, map[string]any{})},
	}
	if _, changed, _ := foldKubectlFields(none, "kustomize-controller", "v1", nil); changed {
		t.Error("entries of another apiVersion must not be folded")
	}
}

func TestFoldKubectlFields_KeepPathsStayKubectls(t *testing.T) {
	entries := []metav1.ManagedFieldsEntry{
		{Manager: "kubectl-patch", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
			FieldsType: "FieldsV1", FieldsV1: fields(t, map[string]any{"f:data": map[string]any{"f:managed": map[string]any{}, "f:tuned": map[string]any{}}})},
	}
	out, changed, err := foldKubectlFields(entries, "kustomize-controller", "v1", pointerSet([]string{"/data/tuned", "/spec/containers/0/image"}))
	if err != nil || !changed {
		t.Fatalf("fold = %v, %v", changed, err)
	}
	owners := map[string]string{}
	for _, e := range out {
		owners[e.Manager] = string(e.FieldsV1.Raw)
	}
	if got := owners["kustomize-controller"]; got == "" || !json.Valid([]byte(got)) || contains(got, "tuned") || !contains(got, "managed") {
		t.Errorf("owner entry %s: want managed, not tuned", got)
	}
	if got := owners["kubectl-patch"]; !contains(got, "tuned") || contains(got, "managed") {
		t.Errorf("kubectl entry %s: want tuned only", got)
	}
	// Nothing but kept fields: nothing to move.
	only := []metav1.ManagedFieldsEntry{entries[0]}
	only[0].FieldsV1 = fields(t, map[string]any{"f:data": map[string]any{"f:tuned": map[string]any{}}})
	if _, changed, _ := foldKubectlFields(only, "kustomize-controller", "v1", pointerSet([]string{"/data/tuned"})); changed {
		t.Error("folded a kept field")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
