package ignore

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

func TestApply_RemovesPathsOfTargetedObjects(t *testing.T) {
	dep := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "labels": map[string]any{"tier": "front"}},
		"spec":     map[string]any{"replicas": int64(1), "template": map[string]any{"metadata": map[string]any{"annotations": map[string]any{"a/b": "x"}}}}}}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cfg"}, "spec": map[string]any{"replicas": int64(1)}}}
	out := Apply([]*unstructured.Unstructured{dep, cm}, []Rule{
		{Paths: []string{"/spec/replicas", "/spec/template/metadata/annotations/a~1b"}, Target: &common.Selector{Kind: "Deployment", LabelSelector: "tier=front"}},
	})
	if _, ok := out[0].Object["spec"].(map[string]any)["replicas"]; ok {
		t.Error("replicas kept on the Deployment")
	}
	if ann := out[0].Object["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any); len(ann) != 0 {
		t.Errorf("escaped pointer not removed: %v", ann)
	}
	if _, ok := out[1].Object["spec"].(map[string]any)["replicas"]; !ok {
		t.Error("a path removed from an object the rule does not target")
	}
	if _, ok := dep.Object["spec"].(map[string]any)["replicas"]; !ok {
		t.Error("the input was changed")
	}
}

// TestApply_TargetSelectsByEveryMember covers each member of a rule's
// target on its own: a rule that names only one member removes the path
// from the objects that match it and from no other.
func TestApply_TargetSelectsByEveryMember(t *testing.T) {
	obj := func(apiVersion, kind, namespace, name string, annotations map[string]any) *unstructured.Unstructured {
		md := map[string]any{"name": name, "namespace": namespace}
		if annotations != nil {
			md["annotations"] = annotations
		}
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
			"metadata": md, "spec": map[string]any{"replicas": int64(1)}}}
	}
	objs := []*unstructured.Unstructured{
		obj("apps/v1", "Deployment", "prod", "web", map[string]any{"drift": "ignored"}),
		obj("batch/v1", "Deployment", "prod", "job", nil),
		obj("apps/v1beta1", "Deployment", "dev", "old", nil),
	}
	for _, tc := range []struct {
		name   string
		target common.Selector
		want   []bool // whether each object keeps spec.replicas
	}{
		{name: "group", target: common.Selector{Group: "batch"}, want: []bool{true, false, true}},
		{name: "version", target: common.Selector{Version: "v1beta1"}, want: []bool{true, true, false}},
		{name: "namespace", target: common.Selector{Namespace: "prod"}, want: []bool{false, false, true}},
		{name: "annotationSelector", target: common.Selector{AnnotationSelector: "drift=ignored"}, want: []bool{false, true, true}},
		{name: "annotationSelector without a match", target: common.Selector{AnnotationSelector: "drift=kept"}, want: []bool{true, true, true}},
		{name: "name is a whole-value regular expression", target: common.Selector{Name: "web|old"}, want: []bool{false, true, false}},
		{name: "namespace is a whole-value regular expression", target: common.Selector{Namespace: "pro.*"}, want: []bool{false, false, true}},
		{name: "a partial match is no match", target: common.Selector{Name: "we"}, want: []bool{true, true, true}},
		{name: "members together", target: common.Selector{Group: "apps", Version: "v1", Namespace: "prod"}, want: []bool{false, true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target
			out := Apply(objs, []Rule{{Paths: []string{"/spec/replicas"}, Target: &target}})
			for i, o := range out {
				_, kept := o.Object["spec"].(map[string]any)["replicas"]
				if kept != tc.want[i] {
					t.Errorf("%s %s/%s: replicas kept = %v, want %v", o.GetAPIVersion(), o.GetNamespace(), o.GetName(), kept, tc.want[i])
				}
				if got := PathsFor(objs[i], []Rule{{Paths: []string{"/spec/replicas"}, Target: &target}}); (len(got) == 0) != tc.want[i] {
					t.Errorf("PathsFor %s/%s = %v, disagrees with Apply", o.GetNamespace(), o.GetName(), got)
				}
			}
		})
	}
}
