// Package ignore removes the paths that spec.ignore (Kustomization) and
// spec.driftDetection.ignore (HelmRelease) exclude from apply and drift
// detection: RFC 6901 JSON pointers in the objects a kustomize-style
// selector targets.
package ignore

import (
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// Rule is one ignore rule.
type Rule struct {
	// Paths are JSON pointers.
	Paths []string
	// Target selects the objects; all when nil.
	Target *common.Selector
}

// Apply returns copies of objs without the JSON pointer paths of the rules
// in the objects they target (all objects when a rule has no target);
// objs are not changed.
func Apply(objs []*unstructured.Unstructured, rules []Rule) []*unstructured.Unstructured {
	if len(rules) == 0 {
		return objs
	}
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		o = o.DeepCopy()
		for _, rule := range rules {
			if rule.Target != nil && !selects(rule.Target, o) {
				continue
			}
			for _, p := range rule.Paths {
				removePointer(o.Object, p)
			}
		}
		out[i] = o
	}
	return out
}

// selects reports whether a kustomize-style selector matches o. As
// kustomize's selectors (and so Flux's), group, version, kind, name and
// namespace are regular expressions matching the whole value.
func selects(s *common.Selector, o *unstructured.Unstructured) bool {
	gvk := o.GroupVersionKind()
	for _, f := range [][2]string{
		{s.Group, gvk.Group}, {s.Version, gvk.Version}, {s.Kind, gvk.Kind},
		{s.Namespace, o.GetNamespace()}, {s.Name, o.GetName()},
	} {
		if f[0] != "" && !matchWhole(f[0], f[1]) {
			return false
		}
	}
	for _, sel := range []struct {
		expr string
		set  map[string]string
	}{{s.LabelSelector, o.GetLabels()}, {s.AnnotationSelector, o.GetAnnotations()}} {
		if sel.expr == "" {
			continue
		}
		parsed, err := labels.Parse(sel.expr)
		if err != nil || !parsed.Matches(labels.Set(sel.set)) {
			return false
		}
	}
	return true
}

// matchWhole reports whether value matches pattern anchored at both ends;
// a pattern that is not a valid expression matches only itself.
func matchWhole(pattern, value string) bool {
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return pattern == value
	}
	return re.MatchString(value)
}

// removePointer deletes the value at an RFC 6901 JSON pointer, if any.
func removePointer(obj map[string]any, pointer string) {
	if pointer == "" || pointer[0] != '/' {
		return
	}
	parts := strings.Split(pointer[1:], "/")
	for i := range parts {
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(parts[i])
	}
	var cur any = obj
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				delete(c, p)
				return
			}
			cur = c[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(c) {
				return
			}
			if last {
				// Removing a list element would shift the ones after it
				// and change what they mean; paths into elements work.
				return
			}
			cur = c[n]
		default:
			return
		}
	}
}

// PathsFor returns the JSON pointers of the rules that target obj.
func PathsFor(obj *unstructured.Unstructured, rules []Rule) []string {
	var out []string
	for _, r := range rules {
		if r.Target == nil || selects(r.Target, obj) {
			out = append(out, r.Paths...)
		}
	}
	return out
}
