package deploy

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apiserver"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/deploy"
)

// The cluster version the chart is rendered for (the control plane's).
const kubeVersion = "v1.36.3"

// key names an object.
type key struct{ kind, namespace, name string }

func (k key) String() string { return k.kind + " " + k.namespace + "/" + k.name }

// TestChart_RendersTheKustomizeObjects: with default values in flux-system
// the chart renders every object `kubectl apply -k artifacts/deploy`
// applies, field for field, except the Namespace (a release must not own
// it: uninstalling would delete every Flux object in it) and a keep policy
// on the PVC (uninstalling must not delete the data); plus the serving
// certificate and exactly the APIServices hack/deploy.sh generates, with a
// caBundle that verifies that certificate.
func TestChart_RendersTheKustomizeObjects(t *testing.T) {
	root := repoRoot(t)
	kustomized := kustomizeBuild(t, filepath.Join(root, "artifacts", "deploy"))
	rendered := helmTemplate(t, ns, nil)

	for k, want := range kustomized {
		if k.kind == "Namespace" {
			continue
		}
		got, ok := rendered[k]
		if !ok {
			t.Errorf("the chart does not render %s", k)
			continue
		}
		got = got.DeepCopy()
		if k.kind == "PersistentVolumeClaim" {
			if got.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
				t.Errorf("%s: want helm.sh/resource-policy: keep, so uninstalling keeps the data", k)
			}
			unstructured.RemoveNestedField(got.Object, "metadata", "annotations")
		}
		if diff := cmp.Diff(want.Object, got.Object); diff != "" {
			t.Errorf("%s differs between artifacts/deploy (-) and the chart (+):\n%s", k, diff)
		}
	}
	var certificate *unstructured.Unstructured
	for k, obj := range rendered {
		switch {
		case kustomized[k] != nil:
		case k == key{"Secret", ns, serverName + "-tls"}:
			certificate = obj
		case k.kind != "APIService":
			t.Errorf("the chart renders %s, which artifacts/deploy and hack/deploy.sh do not", k)
		}
	}
	if certificate == nil {
		t.Fatalf("the chart renders no Secret %s-tls", serverName)
	}
	checkChartCertificate(t, rendered, certificate, ns)
}

// checkChartCertificate: the Secret holds a serving certificate for the
// Service's DNS name, and the rendered APIServices are exactly what
// pkg/deploy renders with its CA.
func checkChartCertificate(t *testing.T, rendered map[key]*unstructured.Unstructured, secret *unstructured.Unstructured, namespace string) {
	t.Helper()
	if typ, _, _ := unstructured.NestedString(secret.Object, "type"); typ != "kubernetes.io/tls" {
		t.Errorf("Secret type %q", typ)
	}
	data := map[string][]byte{}
	for _, f := range []string{"ca.crt", "tls.crt", "tls.key"} {
		s, _, _ := unstructured.NestedString(secret.Object, "data", f)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			t.Fatalf("Secret data %s: %v", f, err)
		}
		data[f] = b
	}
	crt, err := parseCert(data["tls.crt"])
	if err != nil {
		t.Fatal(err)
	}
	roots, _ := parseCert(data["ca.crt"])
	if _, err := crt.Verify(verifyOptions(roots, serverName+"."+namespace+".svc")); err != nil {
		t.Errorf("the serving certificate does not verify for %s.%s.svc: %v", serverName, namespace, err)
	}

	want, err := deploy.APIServices(apiserver.GroupVersions(), deploy.Target{Namespace: namespace, Service: serverName, Port: 443, CABundle: data["ca.crt"]})
	if err != nil {
		t.Fatal(err)
	}
	wantObjs := decodeAll(t, want)
	var names []string
	for k, obj := range rendered {
		if k.kind != "APIService" {
			continue
		}
		names = append(names, k.name)
		w, ok := wantObjs[k]
		if !ok {
			t.Errorf("the chart renders %s, which is not served", k)
			continue
		}
		if diff := cmp.Diff(w.Object, obj.Object); diff != "" {
			t.Errorf("%s differs between hack/deploy (-) and the chart (+):\n%s", k, diff)
		}
	}
	if len(names) != len(wantObjs) {
		sort.Strings(names)
		t.Errorf("the chart renders APIServices %v, want one per served group version (%d)", names, len(wantObjs))
	}
}

// TestChart_ValuesAndReleaseNamespace: installed elsewhere with values set,
// everything follows the release namespace (except the binding that must be
// in kube-system) and the values.
func TestChart_ValuesAndReleaseNamespace(t *testing.T) {
	const other = "gitops"
	rendered := helmTemplate(t, other, map[string]any{
		"image":               map[string]any{"repository": "registry.example.com/gitops-apiserver", "tag": "v1.2.3", "digest": "sha256:" + strings.Repeat("a", 64)},
		"extraArgs":           []any{"--concurrent=8"},
		"persistence":         map[string]any{"storageClassName": "fast", "size": "20Gi"},
		"nodeSelector":        map[string]any{"kubernetes.io/os": "linux"},
		"networkPolicy":       map[string]any{"enabled": false},
		"podDisruptionBudget": map[string]any{"enabled": false},
	})
	for k, obj := range rendered {
		switch {
		case k.kind == "RoleBinding":
			if k.namespace != "kube-system" {
				t.Errorf("%s: the front-proxy CA reader binding belongs in kube-system", k)
			}
		case k.kind == "NetworkPolicy" || k.kind == "PodDisruptionBudget":
			t.Errorf("%s rendered though disabled", k)
		case k.namespace != "" && k.namespace != other:
			t.Errorf("%s is not in the release namespace %s", k, other)
		}
		subjects, _, _ := unstructured.NestedSlice(obj.Object, "subjects")
		for _, s := range subjects {
			if sn := s.(map[string]any)["namespace"]; sn != other {
				t.Errorf("%s binds a service account in %v", k, sn)
			}
		}
		if k.kind == "APIService" {
			if sn, _, _ := unstructured.NestedString(obj.Object, "spec", "service", "namespace"); sn != other {
				t.Errorf("%s names the Service in %q", k, sn)
			}
		}
	}
	d := rendered[key{"Deployment", other, serverName}]
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	if want := "registry.example.com/gitops-apiserver:v1.2.3@sha256:" + strings.Repeat("a", 64); c["image"] != want {
		t.Errorf("image %v, want %s", c["image"], want)
	}
	if args := fmt.Sprint(c["args"]); !strings.HasSuffix(args, "--concurrent=8]") {
		t.Errorf("args %s, want --concurrent=8 last", args)
	}
	if sel, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "spec", "nodeSelector"); sel["kubernetes.io/os"] != "linux" {
		t.Errorf("nodeSelector %v", sel)
	}
	pvc := rendered[key{"PersistentVolumeClaim", other, "gitops-apiserver-data"}]
	if sc, _, _ := unstructured.NestedString(pvc.Object, "spec", "storageClassName"); sc != "fast" {
		t.Errorf("storageClassName %q", sc)
	}
	checkChartCertificate(t, rendered, rendered[key{"Secret", other, serverName + "-tls"}], other)
}

// TestChart_Lints: `helm lint --strict` has nothing to say beyond
// information.
func TestChart_Lints(t *testing.T) {
	l := action.NewLint()
	l.Strict, l.Namespace = true, ns
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	l.KubeVersion = kv
	res := l.Run([]string{chartDir(t)}, nil)
	for _, m := range res.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
	for _, err := range res.Errors {
		t.Errorf("helm lint: %v", err)
	}
}

func chartDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "artifacts", "deploy", "chart")
}

// helmTemplate renders the chart as `helm template -n namespace` does.
func helmTemplate(t *testing.T, namespace string, values map[string]any) map[key]*unstructured.Unstructured {
	t.Helper()
	ch, err := loader.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	inst := action.NewInstall(action.NewConfiguration())
	inst.DryRunStrategy = action.DryRunClient
	inst.Replace = true
	inst.ReleaseName, inst.Namespace = serverName, namespace
	if inst.KubeVersion, err = common.ParseKubeVersion(kubeVersion); err != nil {
		t.Fatal(err)
	}
	res, err := inst.RunWithContext(context.Background(), ch, values)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	rel, ok := res.(*release.Release)
	if !ok {
		t.Fatalf("helm returned a %T", res)
	}
	return decodeAll(t, []byte(rel.Manifest))
}

// kustomizeBuild renders dir as `kubectl kustomize` does.
func kustomizeBuild(t *testing.T, dir string) map[key]*unstructured.Unstructured {
	t.Helper()
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return decodeAll(t, out)
}

// decodeAll reads a YAML stream into objects by kind, namespace and name;
// a name twice fails the test.
func decodeAll(t *testing.T, stream []byte) map[key]*unstructured.Unstructured {
	t.Helper()
	objs := map[key]*unstructured.Unstructured{}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatal(err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		k := key{u.GetKind(), u.GetNamespace(), u.GetName()}
		if objs[k] != nil {
			t.Fatalf("%s twice", k)
		}
		objs[k] = u
	}
}
