package build

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// threeApps holds three Deployments with one replica each, labelled
// app=<name>.
var threeApps = map[string]string{
	"apps/web.yaml":           deployment("web-a"),
	"apps/web-b.yaml":         deployment("web-b"),
	"apps/api.yaml":           deployment("api"),
	"apps/kustomization.yaml": "resources:\n- web.yaml\n- web-b.yaml\n- api.yaml\n",
}

func replicas(t *testing.T, objs []*unstructured.Unstructured) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, o := range objs {
		r, _, _ := unstructured.NestedInt64(o.Object, "spec", "replicas")
		out[o.GetName()] = r
	}
	return out
}

func wantReplicas(want map[string]int64) func(t *testing.T, objs []*unstructured.Unstructured) {
	return func(t *testing.T, objs []*unstructured.Unstructured) {
		t.Helper()
		got := replicas(t, objs)
		for name, r := range want {
			if got[name] != r {
				t.Errorf("%s replicas = %d, want %d (all: %v)", name, got[name], r, got)
			}
		}
	}
}

func TestBuild_Patches(t *testing.T) {
	const smPatch = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: not-used
spec:
  replicas: 5
`
	const jsonPatch = `- op: replace
  path: /spec/replicas
  value: 7
`
	runBuildCases(t, []buildCase{{
		name:  "strategic merge patch selected by a name regex",
		files: threeApps,
		opts: Options{Path: "apps", Patches: []common.Patch{{
			Patch:  smPatch,
			Target: &common.Selector{Kind: "Deployment", Name: "^web-.*"},
		}}},
		check: wantReplicas(map[string]int64{"web-a": 5, "web-b": 5, "api": 1}),
	}, {
		name:  "JSON 6902 patch selected by a label selector",
		files: threeApps,
		opts: Options{Path: "apps", Patches: []common.Patch{{
			Patch:  jsonPatch,
			Target: &common.Selector{Group: "apps", Version: "v1", Kind: "Deployment", LabelSelector: "app in (api, web-b)"},
		}}},
		check: wantReplicas(map[string]int64{"web-a": 1, "web-b": 7, "api": 7}),
	}, {
		name: "annotation selector",
		files: map[string]string{
			"a.yaml": configMap("a"),
			"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations:\n    patch-me: \"yes\"\ndata: {}\n",
		},
		opts: Options{Patches: []common.Patch{{
			Patch:  "- op: add\n  path: /data/added\n  value: here\n",
			Target: &common.Selector{Kind: "ConfigMap", AnnotationSelector: "patch-me=yes"},
		}}},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			if got := nestedString(t, find(t, objs, "ConfigMap", "b"), "data", "added"); got != "here" {
				t.Errorf("b.data.added = %q, want the patch applied", got)
			}
			if got := nestedString(t, find(t, objs, "ConfigMap", "a"), "data", "added"); got != "" {
				t.Errorf("a.data.added = %q, want a left alone", got)
			}
		},
	}, {
		name:  "strategic merge patch without a target names its object",
		files: threeApps,
		opts: Options{Path: "apps", Patches: []common.Patch{{
			Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n",
		}}},
		check: wantReplicas(map[string]int64{"web-a": 1, "web-b": 1, "api": 2}),
	}, {
		name:  "spec patches see the names before the spec's prefix",
		files: threeApps,
		opts: Options{Path: "apps", NamePrefix: "p-", Patches: []common.Patch{{
			Patch:  jsonPatch,
			Target: &common.Selector{Kind: "Deployment", Name: "api"},
		}}},
		check: wantReplicas(map[string]int64{"p-api": 7, "p-web-a": 1}),
	}, {
		name:    "a patch that does not parse fails the build",
		files:   threeApps,
		opts:    Options{Path: "apps", Patches: []common.Patch{{Patch: "- op: [", Target: &common.Selector{Kind: "Deployment"}}}},
		wantErr: "kustomize build of /apps",
	}})
}

func TestBuild_Components(t *testing.T) {
	files := map[string]string{
		"apps/prod/kustomization.yaml": "resources:\n- cm.yaml\n",
		"apps/prod/cm.yaml":            configMap("app"),
		"apps/tls/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- patch: |
    - op: add
      path: /data/tls
      value: "on"
  target:
    kind: ConfigMap
`,
		"apps/extra/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- cm.yaml\n",
		"apps/extra/cm.yaml":            configMap("extra"),
	}
	runBuildCases(t, []buildCase{{
		name:  "components relative to the path, in order",
		files: files,
		opts:  Options{Path: "apps/prod", Components: []string{"../extra", "../tls"}},
		want:  []string{"ConfigMap//app", "ConfigMap//extra"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			for _, o := range objs {
				if got := nestedString(t, o, "data", "tls"); got != "on" {
					t.Errorf("%s data.tls = %q, want the component's patch", o.GetName(), got)
				}
			}
		},
	}, {
		name:  "missing components are dropped when ignored",
		files: files,
		opts:  Options{Path: "apps/prod", Components: []string{"../missing", "../tls"}, IgnoreMissingComponents: true},
		want:  []string{"ConfigMap//app"},
	}, {
		name:    "missing components fail the build otherwise",
		files:   files,
		opts:    Options{Path: "apps/prod", Components: []string{"../missing"}},
		wantErr: "missing",
	}, {
		name:  "components on plain manifests",
		files: map[string]string{"plain/cm.yaml": configMap("plain"), "tls/kustomization.yaml": files["apps/tls/kustomization.yaml"]},
		opts:  Options{Path: "plain", Components: []string{"../tls"}},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			if got := nestedString(t, find(t, objs, "ConfigMap", "plain"), "data", "tls"); got != "on" {
				t.Errorf("data.tls = %q, want the component's patch", got)
			}
		},
	}, {
		name:    "components may not leave the artifact",
		files:   files,
		opts:    Options{Path: "apps/prod", Components: []string{"../../../outside"}, IgnoreMissingComponents: true},
		wantErr: `component "../../../outside" is outside the artifact`,
	}})
}

func TestBuild_CommonMetadata(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "labels and annotations go on metadata only, overriding",
		files: map[string]string{
			"deploy.yaml": deployment("web"),
			"cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    env: dev\n  annotations:\n    owner: me\n",
		},
		opts: Options{
			CommonLabels:      map[string]string{"env": "prod", "team": "a"},
			CommonAnnotations: map[string]string{"owner": "team-a"},
		},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			for _, o := range objs {
				if l := o.GetLabels(); l["env"] != "prod" || l["team"] != "a" {
					t.Errorf("%s labels = %v, want env=prod team=a", o.GetName(), l)
				}
				if a := o.GetAnnotations(); a["owner"] != "team-a" {
					t.Errorf("%s annotations = %v, want owner=team-a", o.GetName(), a)
				}
			}
			d := find(t, objs, "Deployment", "web")
			sel, _, _ := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
			tmpl, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
			if len(sel) != 1 || len(tmpl) != 1 {
				t.Errorf("selector %v and template labels %v changed, want only app=web", sel, tmpl)
			}
			if l := d.GetLabels(); l["app"] != "web" {
				t.Errorf("labels = %v, want the object's own labels kept", l)
			}
		},
	}})
}

// TestBuild_PatchTargetSelectsByNamespace: a patch whose target names a
// namespace changes the object of that namespace and not its namesake in
// another.
func TestBuild_PatchTargetSelectsByNamespace(t *testing.T) {
	cm := func(namespace string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + namespace + "\ndata: {}\n"
	}
	runBuildCases(t, []buildCase{{
		name:  "namespace selects",
		files: map[string]string{"dev.yaml": cm("dev"), "prod.yaml": cm("prod")},
		opts: Options{Patches: []common.Patch{{
			Patch:  "- op: add\n  path: /data/patched\n  value: \"yes\"\n",
			Target: &common.Selector{Kind: "ConfigMap", Name: "settings", Namespace: "prod"},
		}}},
		want: []string{"ConfigMap/dev/settings", "ConfigMap/prod/settings"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			for _, o := range objs {
				got, _, _ := unstructured.NestedString(o.Object, "data", "patched")
				if want := map[string]string{"prod": "yes"}[o.GetNamespace()]; got != want {
					t.Errorf("%s/%s data.patched = %q, want %q", o.GetNamespace(), o.GetName(), got, want)
				}
			}
		},
	}})
}
