package build

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// object decodes a YAML manifest.
func object(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(j); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestSubstitute(t *testing.T) {
	vars := map[string]string{
		"cluster_env": "prod",
		"REGION":      "eu-central-1",
		"REPLICAS":    "2",
		"ENABLED":     "true",
		"EMPTY":       "",
		"quote":       `"`,
		"MULTI":       "line1\nline2",
	}
	tests := []struct {
		name     string
		manifest string
		strict   bool
		// want is the expected object as YAML.
		want    string
		wantErr string
	}{{
		name: "forms, defaults and escapes",
		manifest: `apiVersion: v1
kind: ConfigMap
metadata:
  name: vars
  namespace: ${cluster_env}
data:
  plain: ${REGION}
  embedded: region-${REGION}-x
  assign_default: ${unset:=dev}
  dash_default: ${unset:-dev}
  set_wins: ${cluster_env:=dev}
  empty_colon: ${EMPTY:-fallback}
  empty_no_colon: x${EMPTY-fallback}
  upper: ${cluster_env^^}
  substring: ${REGION:0:2}
  suffix: ${REGION%-*}
  replace: ${REGION//-/_}
  unset: x${unset}
  no_braces: $REGION
  escaped: $${REGION}
  quoted_number: ${quote}${REPLICAS}${quote}
  newlines_removed: ${MULTI}
`,
		want: `apiVersion: v1
kind: ConfigMap
metadata:
  name: vars
  namespace: prod
data:
  plain: eu-central-1
  embedded: region-eu-central-1-x
  assign_default: dev
  dash_default: dev
  set_wins: prod
  empty_colon: fallback
  empty_no_colon: x
  upper: PROD
  substring: eu
  suffix: eu-central
  replace: eu_central_1
  unset: x
  no_braces: $REGION
  escaped: ${REGION}
  quoted_number: "2"
  newlines_removed: line1line2
`,
	}, {
		// As Flux warns, a bare number or boolean in a string field
		// changes its type: quote it with a ${quote} variable.
		name: "values are inserted as YAML: numbers and booleans",
		manifest: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    enabled: ${ENABLED}
spec:
  replicas: ${REPLICAS}
  paused: ${ENABLED}
`,
		want: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    enabled: true
spec:
  replicas: 2
  paused: true
`,
	}, {
		name: "disabled by annotation",
		manifest: `apiVersion: v1
kind: ConfigMap
metadata:
  name: script
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  run.sh: echo ${HOME} ${arr[0]}
`,
		want: `apiVersion: v1
kind: ConfigMap
metadata:
  name: script
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  run.sh: echo ${HOME} ${arr[0]}
`,
	}, {
		name: "disabled by label",
		manifest: `apiVersion: v1
kind: ConfigMap
metadata:
  name: script
  labels:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  x: ${REGION}
`,
		want: `apiVersion: v1
kind: ConfigMap
metadata:
  name: script
  labels:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  x: ${REGION}
`,
	}, {
		name:     "strict: defined and defaulted variables pass",
		strict:   true,
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${REGION}\n  b: ${nope:=d}\n  c: ${EMPTY}\n",
		want:     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: eu-central-1\n  b: d\n  c: null\n",
	}, {
		name:     "strict: undefined variable names the variable and the object",
		strict:   true,
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: apps\ndata:\n  a: ${cluster_region}\n",
		wantErr:  `substituting variables in ConfigMap/apps/c: variable "cluster_region" is not defined and has no default`,
	}, {
		name:     "malformed expansion names the object",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\ndata:\n  run.sh: echo ${arr[0]}\n",
		wantErr:  `substituting variables in ConfigMap/script: bad substitution "${arr[0]}"`,
	}, {
		name:     "YAML broken by a value names the object",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  a: ${quote}${REGION}\n",
		wantErr:  "substituting variables in ConfigMap/broken: the substituted YAML does not parse",
	}, {
		name:     "a value that removes the kind names the object",
		manifest: "apiVersion: v1\nkind: ${unset}\nmetadata:\n  name: kindless\n",
		wantErr:  "substituting variables in ${unset}/kindless: the substituted YAML is no longer a Kubernetes object",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := object(t, tt.manifest)
			before := in.DeepCopy()
			out, err := Substitute([]*unstructured.Unstructured{in}, vars, tt.strict)
			if !cmp.Equal(before.Object, in.Object) {
				t.Errorf("Substitute modified its input:\n%s", cmp.Diff(before.Object, in.Object))
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Substitute error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Substitute: %v", err)
			}
			if len(out) != 1 || out[0] == in {
				t.Fatalf("Substitute returned %d objects (same pointer: %v), want one new object", len(out), len(out) == 1 && out[0] == in)
			}
			if diff := cmp.Diff(object(t, tt.want).Object, out[0].Object); diff != "" {
				t.Errorf("substituted object (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubstitute_IntegersAreInt64(t *testing.T) {
	in := object(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: ${REPLICAS:=1}\n")
	out, err := Substitute([]*unstructured.Unstructured{in}, map[string]string{"REPLICAS": "3"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if r, found, err := unstructured.NestedInt64(out[0].Object, "spec", "replicas"); err != nil || !found || r != 3 {
		t.Errorf("spec.replicas = %d, %v, %v; want int64 3", r, found, err)
	}
	// DeepCopy panics on values that are not JSON-compatible (int, ...).
	_ = out[0].DeepCopy()
}

func TestSubstitute_InvalidVariableNames(t *testing.T) {
	objs := []*unstructured.Unstructured{object(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")}
	for _, name := range []string{"1abc", "with-dash", "dot.ted", "", "ünïcode", "sp ace"} {
		t.Run(name, func(t *testing.T) {
			_, err := Substitute(objs, map[string]string{"ok": "1", name: "v"}, false)
			if err == nil || !strings.Contains(err.Error(), `invalid variable name "`+name+`"`) {
				t.Fatalf("error = %v, want one naming %q", err, name)
			}
		})
	}
	for _, name := range []string{"_", "_a1", "A_B_2", "camelCase"} {
		if _, err := Substitute(objs, map[string]string{name: "v"}, false); err != nil {
			t.Errorf("variable name %q: %v", name, err)
		}
	}
}

func TestSubstitute_KeepsOrderAndUntouchedObjects(t *testing.T) {
	objs := []*unstructured.Unstructured{
		object(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: ${V}\n"),
		object(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"),
		object(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"),
	}
	out, err := Substitute(objs, map[string]string{"V": "v"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ConfigMap//a", "ConfigMap//b", "ConfigMap//c"}, ids(out)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	for i := range objs {
		if out[i] == objs[i] {
			t.Errorf("object %d is the input pointer; want copies", i)
		}
	}
}

func TestSubstitute_ErrorsDoNotLeakValues(t *testing.T) {
	const secret = "s3cr3t-value"
	objs := []*unstructured.Unstructured{
		object(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: ${TOKEN}\n  other: ${quote}\n"),
		object(t, "apiVersion: v1\nkind: ${unset}\nmetadata:\n  name: t\nstringData:\n  token: ${TOKEN}\n"),
	}
	for _, obj := range objs {
		_, err := Substitute([]*unstructured.Unstructured{obj}, map[string]string{"TOKEN": secret, "quote": `"`}, false)
		if err == nil {
			t.Fatalf("%s: want an error", obj.GetName())
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q quotes the substituted content", obj.GetName(), err)
		}
	}
}
