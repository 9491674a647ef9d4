package ssa

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Stages of ApplyAllStaged, applied in this order.
const (
	// stageDefinitions holds what other objects need to exist before they
	// can be applied at all: CustomResourceDefinitions (their kinds are not
	// served before), Namespaces (namespaced objects cannot be created
	// before), and ClusterRoles (RBAC's escalation check refuses a binding
	// to a role that does not exist yet unless the applier may bind any
	// role, which an impersonated tenant account usually may not).
	stageDefinitions = iota
	// stageClasses holds cluster-wide "class" definitions (StorageClass,
	// IngressClass, PriorityClass, RuntimeClass, GatewayClass,
	// VolumeSnapshotClass, ClusterClass, ...), which admission of their
	// users may look up. They are not waited for: they have no status to
	// wait on.
	stageClasses
	// stageRest is everything else, in the given order.
	stageRest
	numStages
)

var (
	crdKind         = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	namespaceKind   = schema.GroupKind{Kind: "Namespace"}
	clusterRoleKind = schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}
	secretKind      = schema.GroupKind{Kind: "Secret"}
)

// stageOf returns the stage an object of kind gk is applied in.
func stageOf(gk schema.GroupKind) int {
	switch {
	case gk == crdKind, gk == namespaceKind, gk == clusterRoleKind:
		return stageDefinitions
	case strings.HasSuffix(gk.Kind, "Class"):
		return stageClasses
	}
	return stageRest
}

// waitedFor reports whether objects of kind gk are waited for after the
// first stage: CRDs until Established, Namespaces until Active.
func waitedFor(gk schema.GroupKind) bool {
	return gk == crdKind || gk == namespaceKind
}

// splitStages returns, for each stage, the indexes of kinds in that stage,
// keeping their order.
func splitStages(kinds []schema.GroupKind) [numStages][]int {
	var out [numStages][]int
	for i, gk := range kinds {
		s := stageOf(gk)
		out[s] = append(out[s], i)
	}
	return out
}

// deletionOrder returns the indexes of kinds in the order they are deleted:
// the reverse of the stages (users before definitions, so that a
// CustomResourceDefinition or Namespace goes last), keeping the given order
// within a stage.
func deletionOrder(kinds []schema.GroupKind) []int {
	stages := splitStages(kinds)
	out := make([]int, 0, len(kinds))
	for s := numStages - 1; s >= 0; s-- {
		out = append(out, stages[s]...)
	}
	return out
}
