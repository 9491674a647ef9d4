package inspect

import (
	"fmt"
	"strings"
)

// Inventory IDs are cli-utils' ObjMetadata strings, which Flux stores in a
// Kustomization's status.inventory.entries: "<namespace>_<name>_<group>_<kind>".
const (
	idSeparator = "_"
	// colonInID is how a ':' in a name (RBAC objects such as
	// "system:viewers") is written in an ID.
	colonInID = "__"
)

// ParseInventoryID turns an inventory entry (its id and its version "v")
// into an ObjectRef. Namespaces, groups and kinds never contain '_' and
// names only as the "__" that stands for ':', so the namespace is what
// precedes the first '_', the kind what follows the last, and the group
// what precedes that. The group is empty for the core group
// ("podinfo_podinfo__Service") and the namespace for cluster-scoped
// objects ("_podinfo__Namespace").
func ParseInventoryID(id, version string) (ObjectRef, error) {
	namespace, rest, ok := strings.Cut(id, idSeparator)
	if !ok {
		return ObjectRef{}, invalidID(id)
	}
	i := strings.LastIndex(rest, idSeparator)
	if i < 0 {
		return ObjectRef{}, invalidID(id)
	}
	rest, kind := rest[:i], rest[i+1:]
	i = strings.LastIndex(rest, idSeparator)
	if i < 0 {
		return ObjectRef{}, invalidID(id)
	}
	name, group := rest[:i], rest[i+1:]
	name = strings.ReplaceAll(name, colonInID, ":")
	if name == "" || kind == "" || strings.Contains(name, idSeparator) {
		return ObjectRef{}, invalidID(id)
	}
	return ObjectRef{APIVersion: apiVersion(group, version), Kind: kind, Namespace: namespace, Name: name}, nil
}

func invalidID(id string) error {
	return fmt.Errorf("inventory id %q is not <namespace>_<name>_<group>_<kind>", id)
}

// apiVersion joins a group and a version as Kubernetes writes them: "v1"
// for the core group, "apps/v1" otherwise.
func apiVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// Group returns the API group of the object ("" for the core group).
func (r ObjectRef) Group() string {
	group, _, ok := strings.Cut(r.APIVersion, "/")
	if !ok {
		return ""
	}
	return group
}

// String is how reports name an object, as the flux CLI does:
// "Kind/namespace/name", or "Kind/name" for a cluster-scoped object.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}
