package inspect

import "testing"

func TestDiffText(t *testing.T) {
	cases := []struct {
		name   string
		report DiffReport
		want   string
	}{{
		name: "changes",
		report: DiffReport{
			Object:   ks("flux-system", "apps"),
			Revision: "main@sha1:1a2b3c",
			Objects: []ObjectDiff{
				{Object: ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "podinfo"}, Action: ActionCreated},
				{Object: ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: "podinfo", Name: "podinfo"}, Action: ActionUnchanged},
				{Object: deploy("podinfo", "podinfo"), Action: ActionConfigured,
					Diff: "--- live\n+++ applied\n@@ -6,2 +6,2 @@\n-  replicas: 1\n+  replicas: 2\n \n"},
				{Object: ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "podinfo", Name: "legacy"}, Action: ActionPruned},
				{Object: ObjectRef{APIVersion: "v1", Kind: "Secret", Namespace: "podinfo", Name: "manual"}, Action: ActionSkipped},
			},
		},
		want: "Kustomization/flux-system/apps at main@sha1:1a2b3c\n" +
			"► Namespace/podinfo created\n" +
			"► Deployment/podinfo/podinfo drifted\n" +
			"    --- live\n" +
			"    +++ applied\n" +
			"    @@ -6,2 +6,2 @@\n" +
			"    -  replicas: 1\n" +
			"    +  replicas: 2\n" +
			"     \n" +
			"► ConfigMap/podinfo/legacy deleted\n" +
			"► Secret/podinfo/manual skipped\n",
	}, {
		name: "no changes",
		report: DiffReport{
			Object:   ks("flux-system", "apps"),
			Revision: "main@sha1:1a2b3c",
			Objects:  []ObjectDiff{{Object: deploy("podinfo", "podinfo"), Action: ActionUnchanged}},
		},
		want: "Kustomization/flux-system/apps at main@sha1:1a2b3c\n✔ no changes\n",
	}, {
		name:   "empty, no revision",
		report: DiffReport{Object: ks("flux-system", "apps")},
		want:   "Kustomization/flux-system/apps\n✔ no changes\n",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DiffText(&tc.report); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestTreeText_NestedLastChildren(t *testing.T) {
	tree := &Tree{Root: TreeNode{Object: ks("ns", "root"), Children: []TreeNode{
		{Object: ks("ns", "a"), Children: []TreeNode{
			{Object: ks("ns", "b"), Children: []TreeNode{{Object: deploy("ns", "deep")}}},
			{Object: deploy("ns", "a1")},
		}},
		{Object: ks("ns", "c"), Children: []TreeNode{{Object: deploy("ns", "c1")}}},
	}}}
	want := `Kustomization/ns/root
├── Kustomization/ns/a
│   ├── Kustomization/ns/b
│   │   └── Deployment/ns/deep
│   └── Deployment/ns/a1
└── Kustomization/ns/c
    └── Deployment/ns/c1
`
	if got := TreeText(tree); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := TreeText(&Tree{Root: TreeNode{Object: ks("ns", "alone")}}); got != "Kustomization/ns/alone\n" {
		t.Errorf("leaf root: %q", got)
	}
}
