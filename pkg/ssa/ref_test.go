package ssa

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestParseRef_SplitsInventoryEntries(t *testing.T) {
	tests := []struct {
		name    string
		ref     Ref
		ns, obj string
		gvk     schema.GroupVersionKind
		wantErr bool
	}{
		{name: "namespaced core", ref: Ref{ID: "apps_web__ConfigMap", Version: "v1"}, ns: "apps", obj: "web", gvk: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}},
		{name: "namespaced group", ref: Ref{ID: "apps_web_apps_Deployment", Version: "v1"}, ns: "apps", obj: "web", gvk: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}},
		{name: "cluster-scoped", ref: Ref{ID: "_apps__Namespace", Version: "v1"}, obj: "apps", gvk: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}},
		{name: "rbac colon", ref: Ref{ID: "_system__view_rbac.authorization.k8s.io_ClusterRole", Version: "v1"}, obj: "system:view", gvk: schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}},
		{name: "no version: the preferred one", ref: Ref{ID: "apps_web_apps_Deployment"}, ns: "apps", obj: "web", gvk: schema.GroupVersionKind{Group: "apps", Kind: "Deployment"}},
		{name: "too few fields", ref: Ref{ID: "web_Deployment", Version: "v1"}, wantErr: true},
		{name: "no name", ref: Ref{ID: "apps__apps_Deployment", Version: "v1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, gvk, err := ParseRef(tt.ref)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseRef(%v) = %v, want an error", tt.ref, id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Namespace != tt.ns || id.Name != tt.obj || gvk != tt.gvk {
				t.Errorf("ParseRef(%v) = %v %v, want %s/%s %v", tt.ref, id, gvk, tt.ns, tt.obj, tt.gvk)
			}
		})
	}
}

func TestRefOf_RoundTripsThroughParseRef(t *testing.T) {
	for _, u := range []*unstructured.Unstructured{
		obj("apps/v1", "Deployment", "apps", "web"),
		obj("v1", "Namespace", "", "apps"),
		obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "flux:view"),
	} {
		ref := RefOf(u)
		id, gvk, err := ParseRef(ref)
		if err != nil {
			t.Fatalf("%v: %v", ref, err)
		}
		if id.Name != u.GetName() || id.Namespace != u.GetNamespace() || gvk != u.GroupVersionKind() {
			t.Errorf("round trip of %s = %v %v", subjectOf(u), id, gvk)
		}
	}
	if got := RefOf(obj("apps/v1", "Deployment", "apps", "web")); got != (Ref{ID: "apps_web_apps_Deployment", Version: "v1"}) {
		t.Errorf("RefOf = %v", got)
	}
}

func TestSubject_NamesObjectForMessages(t *testing.T) {
	if got := subjectOf(obj("apps/v1", "Deployment", "apps", "web")); got != "Deployment/apps/web" {
		t.Errorf("namespaced subject = %q", got)
	}
	if got := subjectOf(obj("v1", "Namespace", "", "apps")); got != "Namespace/apps" {
		t.Errorf("cluster-scoped subject = %q", got)
	}
}

// obj builds a minimal object.
func obj(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}
