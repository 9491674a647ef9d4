package helmrelease

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

func TestMergeValues_OverlayWinsMapsMergeInputsUnchanged(t *testing.T) {
	base := map[string]any{"a": 1, "m": map[string]any{"x": 1, "y": 2}, "list": []any{1, 2}}
	overlay := map[string]any{"b": 2, "m": map[string]any{"y": 3}, "list": []any{9}}
	got := MergeValues(base, overlay)
	want := map[string]any{"a": 1, "b": 2, "m": map[string]any{"x": 1, "y": 3}, "list": []any{9}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeValues = %v, want %v", got, want)
	}
	if base["m"].(map[string]any)["y"] != 2 || len(overlay) != 3 {
		t.Errorf("inputs changed: %v %v", base, overlay)
	}
	if got := MergeValues(nil, nil); got == nil || len(got) != 0 {
		t.Errorf("MergeValues(nil, nil) = %v", got)
	}
}

func TestSetValue_TypedOrLiteralAndOneValueDespiteCommas(t *testing.T) {
	v := map[string]any{}
	if err := SetValue(v, "a.b", "3", false); err != nil {
		t.Fatal(err)
	}
	if err := SetValue(v, "a.s", "3", true); err != nil {
		t.Fatal(err)
	}
	if err := SetValue(v, "list", "x,y=z", false); err != nil {
		t.Fatal(err)
	}
	a := v["a"].(map[string]any)
	if a["b"] != int64(3) || a["s"] != "3" {
		t.Errorf("a = %#v", a)
	}
	if v["list"] != "x,y=z" {
		t.Errorf("list = %#v (a comma must not split the value)", v["list"])
	}
}

func TestParseValues_ErrorsDoNotQuoteTheDocument(t *testing.T) {
	_, err := ParseValues([]byte("token: s3cret\n  bad: [indent"))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v", err)
	}
}

func TestPostRenderer_KustomizePatchesImagesAndCommonMetadata(t *testing.T) {
	if PostRenderer(nil) != nil || PostRenderer([]Kustomize{{}}) != nil {
		t.Error("an empty post-renderer is not nil")
	}
	pr := PostRenderer([]Kustomize{
		{Patches: []common.Patch{{Patch: `[{"op":"replace","path":"/spec/replicas","value":3}]`, Target: &common.Selector{Kind: "Deployment"}}},
			Images: []common.Image{{Name: "nginx", NewTag: "1.27"}}},
		{CommonLabels: map[string]string{"team": "a"}},
	})
	in := bytes.NewBufferString(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.25}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: apps}
`)
	out, err := pr.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"replicas: 3", "image: nginx:1.27", "team: a"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "team: a") != 2 {
		t.Errorf("common labels not on both objects' metadata only:\n%s", s)
	}
}

func TestParseObjects_NamespacesOnlyNamespacedKinds(t *testing.T) {
	objs, err := parseObjects("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# empty\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n", "rel", nil)
	if err != nil || len(objs) != 2 {
		t.Fatalf("objs %v err %v", objs, err)
	}
	if objs[0].GetNamespace() != "rel" {
		t.Errorf("ConfigMap namespace %q", objs[0].GetNamespace())
	}
}
