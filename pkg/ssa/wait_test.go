package ssa

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func TestRecord_StatusFuncReplacesKstatusForWhatItKnows(t *testing.T) {
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c", "namespace": "apps"}}}
	onlyWidgets := func(u *unstructured.Unstructured) (status.Status, string, bool) {
		if u.GetKind() != "Widget" {
			return "", "", false
		}
		return status.FailedStatus, "failed expression is true", true
	}
	widget := cm.DeepCopy()
	widget.SetAPIVersion("example.com/v1")
	widget.SetKind("Widget")

	tests := []struct {
		name   string
		obj    *unstructured.Unstructured
		assess StatusFunc
		want   status.Status
		msg    string
	}{
		{"kstatus without a StatusFunc", widget, nil, status.CurrentStatus, "Resource is current"},
		{"kstatus for kinds it does not know", cm, onlyWidgets, status.CurrentStatus, "Resource is always ready"},
		{"StatusFunc for kinds it knows", widget, onlyWidgets, status.FailedStatus, "failed expression is true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := &waitItem{assess: tt.assess}
			record(item, tt.obj)
			if item.status != tt.want || item.message != tt.msg {
				t.Errorf("recorded %s %q, want %s %q", item.status, item.message, tt.want, tt.msg)
			}
		})
	}
}

func TestPendingString_UnknownSaysWhy(t *testing.T) {
	tests := []struct {
		item waitItem
		want string
	}{
		{waitItem{subject: "ConfigMap/apps/c", status: status.InProgressStatus, message: "no expression is true"}, "ConfigMap/apps/c status: 'InProgress'"},
		{waitItem{subject: "ConfigMap/apps/c", status: status.UnknownStatus, message: "healthCheckExprs[0].current: no such key: ready"},
			"ConfigMap/apps/c status: 'Unknown': healthCheckExprs[0].current: no such key: ready"},
		{waitItem{subject: "ConfigMap/apps/c"}, "ConfigMap/apps/c status: 'Unknown'"},
	}
	for _, tt := range tests {
		if got := pendingString(&tt.item); got != tt.want {
			t.Errorf("pendingString = %q, want %q", got, tt.want)
		}
	}
}
