package ssa

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// kubectlManager reports whether a field manager is kubectl's (kubectl,
// kubectl-edit, kubectl-client-side-apply, kubectl-patch, ...). Under the
// Override policy their fields are drift. Other managers' fields are left
// alone: controllers', "flux-client-side-apply" (which Flux documents for
// keeping manual changes), and "before-first-apply", which the API server
// records for fields it set itself (a Namespace's name label and
// finalizers) and which would come straight back.
func kubectlManager(name string) bool {
	return strings.HasPrefix(name, "kubectl")
}

// foldKubectlFields returns entries with the fields of kubectl's managers
// (main resource, same apiVersion) moved into manager's Apply entry, so that
// the next apply of the manifest removes the ones it does not declare;
// fields at or under the keep paths stay kubectl's. It reports false when
// there is nothing to move.
func foldKubectlFields(entries []metav1.ManagedFieldsEntry, manager, apiVersion string, keep *fieldpath.Set) ([]metav1.ManagedFieldsEntry, bool, error) {
	union := &fieldpath.Set{}
	out := make([]metav1.ManagedFieldsEntry, 0, len(entries))
	owner := -1
	folded := false
	for _, e := range entries {
		sameResource := e.Subresource == "" && e.APIVersion == apiVersion
		if sameResource && kubectlManager(e.Manager) && e.FieldsV1 != nil {
			set, err := parseFields(e.FieldsV1)
			if err != nil {
				return nil, false, err
			}
			union = union.Union(set)
			folded = true
			continue
		}
		if sameResource && e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply {
			owner = len(out)
		}
		out = append(out, e)
	}
	if keep != nil && !keep.Empty() {
		union = union.RecursiveDifference(keep)
		if union.Empty() {
			return entries, false, nil
		}
		// kubectl keeps what it wrote at the kept paths.
		out = keptKubectlEntries(out, entries, apiVersion, keep)
	}
	if !folded {
		return entries, false, nil
	}
	if owner >= 0 && out[owner].FieldsV1 != nil {
		set, err := parseFields(out[owner].FieldsV1)
		if err != nil {
			return nil, false, err
		}
		union = union.Union(set)
	}
	raw, err := union.ToJSON()
	if err != nil {
		return nil, false, err
	}
	fields := &metav1.FieldsV1{Raw: raw}
	if owner >= 0 {
		out[owner].FieldsV1 = fields
	} else {
		out = append(out, metav1.ManagedFieldsEntry{
			Manager:    manager,
			Operation:  metav1.ManagedFieldsOperationApply,
			APIVersion: apiVersion,
			FieldsType: "FieldsV1",
			FieldsV1:   fields,
		})
	}
	return out, true, nil
}

// keptKubectlEntries adds back to out the kubectl entries of entries,
// restricted to the keep paths.
func keptKubectlEntries(out, entries []metav1.ManagedFieldsEntry, apiVersion string, keep *fieldpath.Set) []metav1.ManagedFieldsEntry {
	for _, e := range entries {
		if e.Subresource != "" || e.APIVersion != apiVersion || !kubectlManager(e.Manager) || e.FieldsV1 == nil {
			continue
		}
		set, err := parseFields(e.FieldsV1)
		if err != nil {
			continue
		}
		kept := set.Difference(set.RecursiveDifference(keep))
		if kept.Empty() {
			continue
		}
		raw, err := kept.ToJSON()
		if err != nil {
			continue
		}
		e.FieldsV1 = &metav1.FieldsV1{Raw: raw}
		out = append(out, e)
	}
	return out
}

// pointerSet turns JSON pointers into a field set, for the paths made of
// object keys only (a path into a list cannot be named by a pointer's index
// in managed fields, which key list items by their content).
func pointerSet(pointers []string) *fieldpath.Set {
	set := &fieldpath.Set{}
	for _, p := range pointers {
		if p == "" || p[0] != '/' {
			continue
		}
		var parts []any
		ok := true
		for _, seg := range strings.Split(p[1:], "/") {
			seg = strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)
			if _, err := strconv.Atoi(seg); err == nil {
				ok = false
				break
			}
			parts = append(parts, seg)
		}
		if !ok || len(parts) == 0 {
			continue
		}
		path, err := fieldpath.MakePath(parts...)
		if err != nil {
			continue
		}
		set.Insert(path)
	}
	return set
}

func parseFields(f *metav1.FieldsV1) (*fieldpath.Set, error) {
	set := &fieldpath.Set{}
	if err := set.FromJSON(bytes.NewReader(f.Raw)); err != nil {
		return nil, err
	}
	return set, nil
}

// takeOverKubectlFields makes the owner the manager of the fields kubectl
// wrote on live (one JSON patch, only when there are such fields) and
// returns the resourceVersion to apply against. It is best effort: if the
// patch fails the apply goes ahead, and the next reconciliation tries again.
func (m *Manager) takeOverKubectlFields(ctx context.Context, mp *meta.RESTMapping, body, live *unstructured.Unstructured, keep []string) string {
	rv := live.GetResourceVersion()
	entries, changed, err := foldKubectlFields(live.GetManagedFields(), m.owner.Field, body.GetAPIVersion(), pointerSet(keep))
	if err != nil || !changed {
		return rv
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
		{"op": "replace", "path": "/metadata/managedFields", "value": entries},
	})
	if err != nil {
		return rv
	}
	out, err := m.resource(mp, live.GetNamespace()).Patch(ctx, live.GetName(), types.JSONPatchType, patch,
		metav1.PatchOptions{FieldManager: m.owner.Field})
	if err != nil {
		return rv
	}
	return out.GetResourceVersion()
}
