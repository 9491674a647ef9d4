package inspect

import "testing"

func TestParseInventoryID(t *testing.T) {
	cases := []struct {
		id, version string
		want        ObjectRef
	}{
		{"podinfo_podinfo_apps_Deployment", "v1",
			ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "podinfo", Name: "podinfo"}},
		{"podinfo_podinfo__Service", "v1",
			ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: "podinfo", Name: "podinfo"}},
		{"_podinfo__Namespace", "v1",
			ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "podinfo"}},
		{"_system__viewers_rbac.authorization.k8s.io_ClusterRole", "v1",
			ObjectRef{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: "system:viewers"}},
		{"flux-system_infra_kustomize.toolkit.fluxcd.io_Kustomization", "v1",
			ObjectRef{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: "flux-system", Name: "infra"}},
		{"_crds.example.com_apiextensions.k8s.io_CustomResourceDefinition", "v1",
			ObjectRef{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition", Name: "crds.example.com"}},
	}
	for _, tc := range cases {
		got, err := ParseInventoryID(tc.id, tc.version)
		if err != nil {
			t.Errorf("%s: %v", tc.id, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.id, got, tc.want)
		}
	}
}

func TestParseInventoryID_RejectsMalformed(t *testing.T) {
	for _, id := range []string{
		"",
		"podinfo",
		"podinfo_podinfo",
		"ns_name_group_",           // no kind
		"ns__apps_Deployment",      // no name
		"ns_a_b_apps_Deployment",   // too many fields
		"ns_a_b_c_apps_Deployment", // too many fields
	} {
		if got, err := ParseInventoryID(id, "v1"); err == nil {
			t.Errorf("%q parsed as %+v", id, got)
		}
	}
}

func TestObjectRef_StringAndGroup(t *testing.T) {
	cases := []struct {
		ref        ObjectRef
		str, group string
	}{
		{ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "ns", Name: "x"}, "Deployment/ns/x", "apps"},
		{ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "ns"}, "Namespace/ns", ""},
	}
	for _, tc := range cases {
		if got := tc.ref.String(); got != tc.str {
			t.Errorf("String() = %q, want %q", got, tc.str)
		}
		if got := tc.ref.Group(); got != tc.group {
			t.Errorf("Group() = %q, want %q", got, tc.group)
		}
	}
}
