package ssa

import (
	"context"
	"encoding/json"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// applyRequest server-side applies u as the owner's field manager with
// forced conflicts. A non-empty resourceVersion is a precondition: the
// server answers 409 Conflict if the object changed since. It returns the
// object the server stored and whether the request created it (HTTP 201).
func (m *Manager) applyRequest(ctx context.Context, mp *meta.RESTMapping, u *unstructured.Unstructured, resourceVersion string, dryRun bool) (*unstructured.Unstructured, bool, error) {
	u.SetResourceVersion(resourceVersion)
	body, err := json.Marshal(u.Object)
	if err != nil {
		return nil, false, err
	}
	req := m.client.Patch(types.ApplyPatchType).
		AbsPath(objectPath(mp, u.GetNamespace(), u.GetName())...).
		Param("fieldManager", m.owner.Field).
		Param("force", "true").
		SetHeader("Accept", "application/json").
		Body(body)
	if dryRun {
		req = req.Param("dryRun", metav1.DryRunAll)
	}
	res := req.Do(ctx)
	if err := res.Error(); err != nil {
		return nil, false, err // a *StatusError when the server sent a Status
	}
	var code int
	res.StatusCode(&code)
	raw, err := res.Raw()
	if err != nil {
		return nil, false, err
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(raw); err != nil {
		return nil, false, err
	}
	return out, code == 201, nil
}

// get reads an object; it returns nil without error when it does not exist.
func (m *Manager) get(ctx context.Context, mp *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	u, err := m.resource(mp, namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// objectPath is the URL path of an object.
func objectPath(mp *meta.RESTMapping, namespace, name string) []string {
	gv := mp.Resource.GroupVersion()
	var segs []string
	if gv.Group == "" {
		segs = []string{"/api", gv.Version}
	} else {
		segs = []string{"/apis", gv.Group, gv.Version}
	}
	if mp.Scope.Name() == meta.RESTScopeNameNamespace {
		segs = append(segs, "namespaces", namespace)
	}
	return append(segs, mp.Resource.Resource, name)
}

// applyBody returns a copy of the manifest u fit to send as an apply: the
// server refuses managedFields, and the other server-set fields would be
// stale preconditions or immutable-field errors.
func applyBody(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := u.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "selfLink", "creationTimestamp"} {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	return out
}
