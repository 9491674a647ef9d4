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
