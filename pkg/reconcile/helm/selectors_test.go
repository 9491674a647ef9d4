package helm

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	helmv2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/ignore"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// TestDriftDetection_IgnoreTargetSelectsObjects covers each selector of
// spec.driftDetection.ignore[].target as the worker hands it to the
// comparison: only the selected objects lose the ignored path. (The
// comparison itself is a dry-run apply against a real API server, out of
// reach of Helm's fakes.)
func TestDriftDetection_IgnoreTargetSelectsObjects(t *testing.T) {
	obj := func(apiVersion, kind, namespace, name string, annotations map[string]any) *unstructured.Unstructured {
		md := map[string]any{"name": name, "namespace": namespace, "labels": map[string]any{"drift": "x"}}
		if annotations != nil {
			md["annotations"] = annotations
		}
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}}
	}
	objs := []*unstructured.Unstructured{
		obj("apps/v1", "Deployment", "apps", "web", map[string]any{"team": "a"}),
		obj("apps/v1", "Deployment", "other", "api", nil),
		obj("v1", "ConfigMap", "apps", "cfg", nil),
		obj("autoscaling/v2", "HorizontalPodAutoscaler", "apps", "web", nil),
		obj("autoscaling/v1", "HorizontalPodAutoscaler", "apps", "old", nil),
	}
	for _, tc := range []struct {
		name   string
		target *common.Selector
		want   []string
	}{
		{name: "no target", want: []string{"ConfigMap/cfg", "Deployment/api", "Deployment/web", "HorizontalPodAutoscaler/old", "HorizontalPodAutoscaler/web"}},
		{name: "group", target: &common.Selector{Group: "apps"}, want: []string{"Deployment/api", "Deployment/web"}},
		{name: "version", target: &common.Selector{Version: "v1"},
			want: []string{"ConfigMap/cfg", "Deployment/api", "Deployment/web", "HorizontalPodAutoscaler/old"}},
		{name: "group and version", target: &common.Selector{Group: "autoscaling", Version: "v2"}, want: []string{"HorizontalPodAutoscaler/web"}},
		{name: "namespace", target: &common.Selector{Namespace: "other"}, want: []string{"Deployment/api"}},
		{name: "annotationSelector", target: &common.Selector{AnnotationSelector: "team=a"}, want: []string{"Deployment/web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dd := &helmv2.DriftDetection{Mode: driftEnabled, Ignore: []helmv2.IgnoreRule{{Paths: []string{"/metadata/labels/drift"}, Target: tc.target}}}
			var ignored []string
			for _, o := range ignore.Apply(objs, ignoreRules(dd)) {
				if _, found, _ := unstructured.NestedString(o.Object, "metadata", "labels", "drift"); !found {
					ignored = append(ignored, o.GetKind()+"/"+o.GetName())
				}
			}
			slices.Sort(ignored)
			if !slices.Equal(ignored, tc.want) {
				t.Errorf("the path is left out of %v, want %v", ignored, tc.want)
			}
		})
	}
}

// TestPostRenderer_PatchTargetSelectsByNamespace installs a chart of two
// ConfigMaps in two namespaces with a patch targeting one namespace: the
// stored release has it patched, the other not.
func TestPostRenderer_PatchTargetSelectsByNamespace(t *testing.T) {
	cm := func(ns string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: " + ns + "\ndata:\n  a: b\n"
	}
	w := newWorld(t, chartOf(t, map[string]string{"templates/a.yaml": cm("a"), "templates/b.yaml": cm("b")}))
	obj := webRelease(func(s *helmv2.HelmReleaseSpec) {
		s.PostRenderers = []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{Patches: []common.Patch{{
			Patch:  `[{"op":"add","path":"/metadata/labels","value":{"patched":"yes"}}]`,
			Target: &common.Selector{Kind: "ConfigMap", Namespace: "b"},
		}}}}}
	})
	deployed(t, w, obj)
	hist := w.history(t, "apps", "web")
	var patched []string
	for _, doc := range strings.Split(hist[0].Manifest, "\n---") {
		if strings.Contains(doc, "patched: \"yes\"") || strings.Contains(doc, "patched: yes") {
			for _, ns := range []string{"a", "b"} {
				if strings.Contains(doc, "namespace: "+ns+"\n") {
					patched = append(patched, ns)
				}
			}
		}
	}
	if !slices.Equal(patched, []string{"b"}) {
		t.Errorf("patched ConfigMaps in namespaces %v, want [b]; manifest:\n%s", patched, hist[0].Manifest)
	}
}

// TestHelmRelease_ChartRefNamespaceIsWhereTheSourceIs: spec.chartRef is
// read in its namespace, and refused there when cross-namespace
// references are disabled.
func TestHelmRelease_ChartRefNamespaceIsWhereTheSourceIs(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	obj := webRelease(func(s *helmv2.HelmReleaseSpec) { s.ChartRef.Namespace = "infra" })
	w.reconcile(t, obj)
	if !slices.Equal(w.sources, []string{"OCIRepository/infra/app"}) {
		t.Errorf("chart sources read: %v, want OCIRepository/infra/app", w.sources)
	}

	w.sources = nil
	w.r.NoCrossNamespaceRefs = true
	res, outcome := w.reconcile(t, obj)
	if outcome != loop.Stalled || !strings.Contains(res.Err.Error(), "OCIRepository/infra/app") || len(w.sources) != 0 {
		t.Errorf("with cross-namespace references disabled: outcome %v, %v, sources read %v; want a stall naming the source",
			outcome, res.Err, w.sources)
	}
	obj.Spec.ChartRef.Namespace = "apps" // its own namespace is no cross-namespace reference
	if _, outcome := w.reconcile(t, obj); outcome != loop.Succeeded {
		t.Errorf("chartRef in the HelmRelease's namespace: outcome %v", outcome)
	}
}

// TestHelmRelease_DependencyNamespace: a dependency is looked up in
// spec.dependsOn[].namespace (the HelmRelease's by default), and refused
// when cross-namespace references are disabled.
func TestHelmRelease_DependencyNamespace(t *testing.T) {
	w := newWorld(t, chartFiles(t, "app", "1.0.0"))
	var asked []string
	w.r.GetHelmRelease = func(namespace, name string) (*helmv2.HelmRelease, error) {
		asked = append(asked, namespace+"/"+name)
		return nil, notFound("helmreleases", name)
	}
	obj := webRelease(func(s *helmv2.HelmReleaseSpec) {
		s.DependsOn = []helmv2.DependencyReference{{Name: "db", Namespace: "data"}, {Name: "cache"}}
	})
	res, outcome := w.reconcile(t, obj)
	if outcome != loop.Waited || !strings.Contains(res.Err.Error(), "HelmRelease/data/db not found") || !slices.Equal(asked, []string{"data/db"}) {
		t.Errorf("outcome %v, %v, looked up %v; want to wait for data/db", outcome, res.Err, asked)
	}

	asked = nil
	obj.Spec.DependsOn = obj.Spec.DependsOn[1:]
	w.reconcile(t, obj)
	if !slices.Equal(asked, []string{"apps/cache"}) {
		t.Errorf("looked up %v, want the HelmRelease's namespace apps/cache", asked)
	}

	asked = nil
	w.r.NoCrossNamespaceRefs = true
	obj.Spec.DependsOn = []helmv2.DependencyReference{{Name: "db", Namespace: "data"}}
	res, outcome = w.reconcile(t, obj)
	if outcome != loop.Stalled || !strings.Contains(res.Err.Error(), "HelmRelease/data/db") || len(asked) != 0 {
		t.Errorf("with cross-namespace references disabled: outcome %v, %v, looked up %v", outcome, res.Err, asked)
	}
}
