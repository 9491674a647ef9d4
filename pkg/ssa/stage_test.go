package ssa

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestStageOf_DefinitionsThenClassesThenTheRest(t *testing.T) {
	tests := []struct {
		gk   schema.GroupKind
		want int
	}{
		{schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}, stageDefinitions},
		{schema.GroupKind{Kind: "Namespace"}, stageDefinitions},
		{schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}, stageDefinitions},
		{schema.GroupKind{Group: "storage.k8s.io", Kind: "StorageClass"}, stageClasses},
		{schema.GroupKind{Group: "networking.k8s.io", Kind: "IngressClass"}, stageClasses},
		{schema.GroupKind{Group: "gateway.networking.k8s.io", Kind: "GatewayClass"}, stageClasses},
		{schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}, stageRest},
		{schema.GroupKind{Group: "example.com", Kind: "Namespace"}, stageRest}, // not core
		{schema.GroupKind{Group: "apps", Kind: "Deployment"}, stageRest},
		{schema.GroupKind{Kind: "ConfigMap"}, stageRest},
	}
	for _, tt := range tests {
		if got := stageOf(tt.gk); got != tt.want {
			t.Errorf("stageOf(%v) = %d, want %d", tt.gk, got, tt.want)
		}
	}
}

func TestSplitStages_KeepsOrderWithinStage(t *testing.T) {
	kinds := []schema.GroupKind{
		{Kind: "ConfigMap"},                 // 0
		{Kind: "Namespace"},                 // 1
		{Group: "apps", Kind: "Deployment"}, // 2
		{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}, // 3
		{Group: "storage.k8s.io", Kind: "StorageClass"},                   // 4
		{Group: "example.com", Kind: "Widget"},                            // 5
	}
	got := splitStages(kinds)
	want := [numStages][]int{{1, 3}, {4}, {0, 2, 5}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitStages = %v, want %v", got, want)
	}
	if got, want := deletionOrder(kinds), []int{0, 2, 5, 4, 1, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("deletionOrder = %v, want %v", got, want)
	}
}
