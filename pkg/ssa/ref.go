package ssa

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/object"
)

// Action says what happened to one object.
type Action string

// The actions of a Change or DiffEntry.
const (
	ActionCreated    Action = "created"
	ActionConfigured Action = "configured"
	ActionUnchanged  Action = "unchanged"
	ActionDeleted    Action = "deleted"
	ActionSkipped    Action = "skipped"
)

// Change is the outcome for one object of an apply or a delete.
type Change struct {
	// ID is the inventory ID, cli-utils' ObjMetadata string:
	// "<namespace>_<name>_<group>_<kind>".
	ID string
	// Version is the object's API version without the group ("v1" for
	// apps/v1).
	Version string
	// Subject names the object in messages: "Kind/namespace/name", or
	// "Kind/name" when cluster-scoped.
	Subject string
	Action  Action
	// Live is what the server holds of an applied object right after the
	// apply (or the read, for one left as it is), for callers that watch
	// applied objects for drift; nil when nothing was sent or read
	// (skipped by the manifest's policy) and for deletions.
	Live *Live
}

// Live is the metadata of an object as stored.
type Live struct {
	// Resource is the object's API resource, at the version applied.
	Resource        schema.GroupVersionResource
	ResourceVersion string
	Generation      int64
	// Labels and Annotations are the stored values of the labels and
	// annotations the manifest sets (a key the server lacks is absent);
	// other keys are other writers' (deployment.kubernetes.io/revision,
	// kubectl's last-applied-configuration) and left out.
	Labels      map[string]string
	Annotations map[string]string
}

// liveOf records what the server holds of u, of the metadata applied
// sets; nil when u is.
func liveOf(resource schema.GroupVersionResource, u, applied *unstructured.Unstructured) *Live {
	if u == nil {
		return nil
	}
	var ownLabels, ownAnnotations map[string]string
	if applied != nil {
		ownLabels, ownAnnotations = applied.GetLabels(), applied.GetAnnotations()
	}
	return &Live{Resource: resource, ResourceVersion: u.GetResourceVersion(), Generation: u.GetGeneration(),
		Labels: OwnValues(u.GetLabels(), ownLabels), Annotations: OwnValues(u.GetAnnotations(), ownAnnotations)}
}

// OwnValues returns the entries of live whose keys own has.
func OwnValues(live, own map[string]string) map[string]string {
	out := make(map[string]string, len(own))
	for k := range own {
		if v, ok := live[k]; ok {
			out[k] = v
		}
	}
	return out
}

// Ref names an object the way a Flux inventory entry does.
type Ref struct {
	// ID is "<namespace>_<name>_<group>_<kind>" (cli-utils ObjMetadata).
	ID string
	// Version is the API version without the group.
	Version string
}

// RefOf returns the inventory reference of u.
func RefOf(u *unstructured.Unstructured) Ref {
	return Ref{ID: object.UnstructuredToObjMetadata(u).String(), Version: u.GroupVersionKind().Version}
}

// ParseRef splits an inventory reference into the object's identity and its
// group, version and kind.
func ParseRef(r Ref) (object.ObjMetadata, schema.GroupVersionKind, error) {
	meta, err := object.ParseObjMetadata(r.ID)
	if err != nil {
		return object.ObjMetadata{}, schema.GroupVersionKind{}, fmt.Errorf("invalid inventory ID %q: %w", r.ID, err)
	}
	if meta.Name == "" || meta.GroupKind.Kind == "" {
		return object.ObjMetadata{}, schema.GroupVersionKind{}, fmt.Errorf("invalid inventory ID %q: name and kind are required", r.ID)
	}
	// An empty version (a health check written without apiVersion) maps
	// to the version the cluster prefers for the group and kind.
	return meta, meta.GroupKind.WithVersion(r.Version), nil
}

// subject names an object for messages: Kind/namespace/name or Kind/name.
func subject(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

// subjectOf is subject for an object.
func subjectOf(u *unstructured.Unstructured) string {
	return subject(u.GetKind(), u.GetNamespace(), u.GetName())
}

// changeOf is the Change of u with action a.
func changeOf(u *unstructured.Unstructured, a Action) Change {
	r := RefOf(u)
	return Change{ID: r.ID, Version: r.Version, Subject: subjectOf(u), Action: a}
}
