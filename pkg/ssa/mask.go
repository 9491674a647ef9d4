package ssa

import (
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Masks put in place of Secret values in diffs.
const (
	maskSame   = "***"
	maskBefore = "*** (before)"
	maskAfter  = "*** (after)"
)

// lastApplied is kubectl's annotation holding the whole last applied
// manifest, Secret values included.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// maskSecret replaces every value of data and stringData, and kubectl's
// last-applied annotation, in two versions of a Secret: "***" where both
// hold the same value, "*** (before)" / "*** (after)" where it differs or
// exists on one side only. Either side may be nil.
func maskSecret(before, after *unstructured.Unstructured) {
	for _, field := range []string{"data", "stringData"} {
		maskValues(valuesOf(before, field), valuesOf(after, field))
	}
	maskAnnotation(before, after, lastApplied)
}

// valuesOf returns the map at u.field, to be masked in place. Anything else
// at that field (not a map) is removed: it could not be masked.
func valuesOf(u *unstructured.Unstructured, field string) map[string]any {
	if u == nil {
		return nil
	}
	v, ok := u.Object[field]
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		delete(u.Object, field)
		return nil
	}
	return m
}

// maskValues masks both maps in place.
func maskValues(before, after map[string]any) {
	same := map[string]bool{}
	for k, b := range before {
		if a, ok := after[k]; ok && reflect.DeepEqual(a, b) {
			same[k] = true
		}
	}
	for k := range before {
		before[k] = pick(same[k], maskBefore)
	}
	for k := range after {
		after[k] = pick(same[k], maskAfter)
	}
}

// maskAnnotation masks one annotation the way maskValues masks values.
func maskAnnotation(before, after *unstructured.Unstructured, key string) {
	b, inBefore := annotation(before, key)
	a, inAfter := annotation(after, key)
	same := inBefore && inAfter && a == b
	if inBefore {
		setAnnotation(before, key, pick(same, maskBefore))
	}
	if inAfter {
		setAnnotation(after, key, pick(same, maskAfter))
	}
}

func annotation(u *unstructured.Unstructured, key string) (string, bool) {
	if u == nil {
		return "", false
	}
	v, ok := u.GetAnnotations()[key]
	return v, ok
}

func setAnnotation(u *unstructured.Unstructured, key, value string) {
	ann := u.GetAnnotations()
	ann[key] = value
	u.SetAnnotations(ann)
}

func pick(same bool, otherwise string) string {
	if same {
		return maskSame
	}
	return otherwise
}
