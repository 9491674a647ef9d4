package ssa

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// applyPolicy is the value of the <group>/ssa annotation.
type applyPolicy int

const (
	// policyOverride (the default) applies and takes over the fields
	// kubectl wrote, so that kubectl edits are reverted.
	policyOverride applyPolicy = iota
	// policyMerge applies but leaves fields of other managers alone.
	policyMerge
	// policyIfNotPresent creates the object when it is absent and never
	// touches it afterwards.
	policyIfNotPresent
	// policyIgnore never applies the object.
	policyIgnore
)

// Annotation (and label) values, compared case-insensitively: Flux documents
// "Enabled"/"Disabled" and its examples also use lower case.
const (
	valueDisabled     = "disabled"
	valueEnabled      = "enabled"
	valueMerge        = "Merge"
	valueIfNotPresent = "IfNotPresent"
	valueIgnore       = "Ignore"
)

// policyKeys are the annotation keys under the owner's API group, e.g.
// kustomize.toolkit.fluxcd.io/ssa.
type policyKeys struct {
	ssa, force, reconcile, prune string
}

func keysFor(group string) policyKeys {
	return policyKeys{
		ssa:       group + "/ssa",
		force:     group + "/force",
		reconcile: group + "/reconcile",
		prune:     group + "/prune",
	}
}

// metadataValue is the annotation key of u, or else its label key: Flux lets
// users set these markers either way.
func metadataValue(u *unstructured.Unstructured, key string) string {
	if v, ok := u.GetAnnotations()[key]; ok {
		return v
	}
	return u.GetLabels()[key]
}

// desiredPolicy is how the manifest u asks to be applied.
// <group>/reconcile: disabled in the manifest means the same as ssa: Ignore.
func (k policyKeys) desiredPolicy(u *unstructured.Unstructured) applyPolicy {
	if strings.EqualFold(metadataValue(u, k.reconcile), valueDisabled) {
		return policyIgnore
	}
	v := metadataValue(u, k.ssa)
	switch {
	case strings.EqualFold(v, valueIgnore):
		return policyIgnore
	case strings.EqualFold(v, valueIfNotPresent):
		return policyIfNotPresent
	case strings.EqualFold(v, valueMerge):
		return policyMerge
	}
	// "Override", empty, or a value we do not know: Flux's selectors only
	// match the documented values, so anything else is the default.
	return policyOverride
}

// forceEnabled reports whether the manifest u asks to be recreated when an
// immutable field changes.
func (k policyKeys) forceEnabled(u *unstructured.Unstructured) bool {
	return strings.EqualFold(metadataValue(u, k.force), valueEnabled)
}

// liveExcluded reports whether the in-cluster object says it must not be
// applied: Flux documents <group>/reconcile: disabled on the in-cluster
// object, and honours ssa: Ignore there too.
func (k policyKeys) liveExcluded(live *unstructured.Unstructured) bool {
	return strings.EqualFold(metadataValue(live, k.reconcile), valueDisabled) ||
		strings.EqualFold(metadataValue(live, k.ssa), valueIgnore)
}

// pruneExcluded reports whether the in-cluster object must not be deleted by
// garbage collection: prune: disabled, reconcile: disabled, or ssa: Ignore
// (what users told us not to touch is not deleted either).
func (k policyKeys) pruneExcluded(live *unstructured.Unstructured) bool {
	return strings.EqualFold(metadataValue(live, k.prune), valueDisabled) ||
		k.liveExcluded(live)
}

// hasLabels reports whether u carries every label of want with its value.
func hasLabels(u *unstructured.Unstructured, want map[string]string) bool {
	have := u.GetLabels()
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}
