package build

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// buildCase is one Build run over an in-memory tree.
type buildCase struct {
	name  string
	files map[string]string
	opts  Options
	// want lists the objects as Kind/namespace/name, in order.
	want []string
	// check inspects the objects further.
	check func(t *testing.T, objs []*unstructured.Unstructured)
	// wantErr is a substring of the expected error.
	wantErr string
}

func runBuildCases(t *testing.T, tests []buildCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := memFS(t, tt.files)
			objs, err := Build(fs, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Build error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, ids(objs)); diff != "" {
					t.Errorf("objects (-want +got):\n%s", diff)
				}
			}
			if tt.check != nil {
				tt.check(t, objs)
			}
			assertUnchanged(t, fs, tt.files)
		})
	}
}

// assertUnchanged checks that Build left the tree as it found it.
func assertUnchanged(t *testing.T, fs interface {
	ReadFile(string) ([]byte, error)
	Exists(string) bool
}, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if strings.HasSuffix(name, "/") {
			continue
		}
		got, err := fs.ReadFile("/" + name)
		if err != nil || string(got) != content {
			t.Errorf("Build changed %s: %q, %v", name, got, err)
		}
	}
	for _, dir := range []string{"", "apps", "apps/prod"} {
		k := "/" + dir + "/kustomization.yaml"
		if _, ok := files[strings.TrimPrefix(k, "/")]; !ok && fs.Exists(k) {
			t.Errorf("Build left a generated %s behind", k)
		}
	}
}

func TestBuild_PlainDirectory(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "manifests are found recursively and sorted in legacy order",
		files: map[string]string{
			"apps/a-deploy.yaml": deployment("web"),
			"apps/b-svc.yml":     service("web"),
			"apps/c/ns.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
			"apps/c/cm.json":     `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"json"}}`,
			"apps/multi.yaml":    "---\n" + configMap("one") + "---\n# comment only\n---\n" + configMap("two"),
			// A directory with its own kustomization is one resource: only
			// what it lists is built.
			"apps/base/kustomization.yaml": "resources:\n- listed.yaml\n",
			"apps/base/listed.yaml":        configMap("listed"),
			"apps/base/unlisted.yaml":      configMap("unlisted"),
			// Skipped: hidden directories, non-manifest files, YAML that
			// is not Kubernetes objects, empty files.
			"apps/.github/workflows/ci.yaml": configMap("hidden"),
			"apps/values.yaml":               "replicaCount: 2\nimage:\n  tag: latest\n",
			"apps/list.yml":                  "- a\n- b\n",
			"apps/package.json":              `{"name": "web", "version": "1.0.0"}`,
			"apps/empty.yaml":                "",
			"apps/README.md":                 "# apps\n",
			"other/cm.yaml":                  configMap("other"),
		},
		opts: Options{Path: "./apps"},
		want: []string{
			"Namespace//apps",
			"ConfigMap//json",
			"ConfigMap//listed",
			"ConfigMap//one",
			"ConfigMap//two",
			"Service//web",
			"Deployment//web",
		},
	}, {
		name:  "root of the artifact",
		files: map[string]string{"cm.yaml": configMap("root")},
		opts:  Options{Path: ""},
		want:  []string{"ConfigMap//root"},
	}, {
		name:  "leading slash is the artifact root",
		files: map[string]string{"apps/cm.yaml": configMap("a")},
		opts:  Options{Path: "/apps/"},
		want:  []string{"ConfigMap//a"},
	}, {
		name:  "empty directory builds nothing",
		files: map[string]string{"apps/": "", "apps/README.md": "nothing here\n"},
		opts:  Options{Path: "apps"},
		want:  []string{},
	}, {
		name:    "YAML syntax error names the file",
		files:   map[string]string{"apps/ok.yaml": configMap("ok"), "apps/bad.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: [\n"},
		opts:    Options{Path: "apps"},
		wantErr: "/apps/bad.yaml: invalid YAML in document 1",
	}, {
		name:    "file mixing objects and other documents names the file",
		files:   map[string]string{"apps/mixed.yaml": configMap("a") + "---\nfoo: bar\n"},
		opts:    Options{Path: "apps"},
		wantErr: "/apps/mixed.yaml: the file mixes Kubernetes objects",
	}, {
		name:    "object without apiVersion names the file",
		files:   map[string]string{"apps/cm.yaml": "kind: ConfigMap\nmetadata:\n  name: a\n"},
		opts:    Options{Path: "apps"},
		wantErr: "/apps/cm.yaml: document 1 has an apiVersion or a kind but not both",
	}})
}

func TestBuild_Path(t *testing.T) {
	files := map[string]string{"apps/cm.yaml": configMap("a")}
	runBuildCases(t, []buildCase{
		{name: "parent of the root", files: files, opts: Options{Path: "../x"}, wantErr: `path "../x" leaves the artifact root`},
		{name: "climbs out through a subdirectory", files: files, opts: Options{Path: "./apps/../../x"}, wantErr: "leaves the artifact root"},
		{name: "absolute climb", files: files, opts: Options{Path: "/../x"}, wantErr: "leaves the artifact root"},
		{name: "missing", files: files, opts: Options{Path: "./nope"}, wantErr: `path "./nope" not found in the artifact`},
		{name: "a file", files: files, opts: Options{Path: "apps/cm.yaml"}, wantErr: "is a file, not a directory"},
		{name: "dot segments inside the root", files: files, opts: Options{Path: "./apps/../apps/."}, want: []string{"ConfigMap//a"}},
	})
}

func TestBuild_ExistingKustomization(t *testing.T) {
	overlay := map[string]string{
		"base/kustomization.yaml": "resources:\n- deploy.yaml\n- svc.yaml\n",
		"base/deploy.yaml":        deployment("web"),
		"base/svc.yaml":           service("web"),
		"apps/prod/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: from-file
namePrefix: file-
resources:
- ../../base
images:
- name: ghcr.io/example/web
  newTag: "1.1.0"
patches:
- path: replicas.yaml
`,
		"apps/prod/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
	}
	image := func(want string) func(t *testing.T, objs []*unstructured.Unstructured) {
		return func(t *testing.T, objs []*unstructured.Unstructured) {
			t.Helper()
			d := findByKind(t, objs, "Deployment")
			containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
			if got := containers[0].(map[string]interface{})["image"]; got != want {
				t.Errorf("image = %v, want %s", got, want)
			}
		}
	}
	runBuildCases(t, []buildCase{{
		name:  "the kustomization builds as kustomize builds it",
		files: overlay,
		opts:  Options{Path: "apps/prod"},
		want:  []string{"Service/from-file/file-web", "Deployment/from-file/file-web"},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			image("ghcr.io/example/web:1.1.0")(t, objs)
			if r, _, _ := unstructured.NestedInt64(objs[1].Object, "spec", "replicas"); r != 3 {
				t.Errorf("replicas = %d, want the file's patch to give 3", r)
			}
		},
	}, {
		name:  "targetNamespace wins over the file's namespace",
		files: overlay,
		opts:  Options{Path: "apps/prod", TargetNamespace: "target"},
		want:  []string{"Service/target/file-web", "Deployment/target/file-web"},
	}, {
		name:  "namePrefix and nameSuffix replace the file's",
		files: overlay,
		opts:  Options{Path: "apps/prod", NamePrefix: "pre-", NameSuffix: "-suf"},
		want:  []string{"Service/from-file/pre-web-suf", "Deployment/from-file/pre-web-suf"},
	}, {
		name:  "namePrefix on plain manifests",
		files: map[string]string{"cm.yaml": configMap("cm")},
		opts:  Options{NamePrefix: "a-", NameSuffix: "-z", TargetNamespace: "ns"},
		want:  []string{"ConfigMap/ns/a-cm-z"},
	}, {
		name:  "an image replaces the file's entry of the same name",
		files: overlay,
		opts:  Options{Path: "apps/prod", Images: []common.Image{{Name: "ghcr.io/example/web", NewTag: "2.0.0"}}},
		check: image("ghcr.io/example/web:2.0.0"),
	}, {
		name:  "image digest and new name",
		files: overlay,
		opts: Options{Path: "apps/prod", Images: []common.Image{{
			Name: "ghcr.io/example/web", NewName: "registry.local/web",
			Digest: "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3",
		}}},
		check: image("registry.local/web@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3"),
	}, {
		name: "kustomization.yml and Kustomization are found too",
		files: map[string]string{
			"a/kustomization.yml": "resources:\n- cm.yaml\n", "a/cm.yaml": configMap("a"),
		},
		opts: Options{Path: "a", TargetNamespace: "ns"},
		want: []string{"ConfigMap/ns/a"},
	}, {
		name: "two kustomization files are an error",
		files: map[string]string{
			"a/kustomization.yml": "resources: []\n", "a/Kustomization": "resources: []\n",
		},
		opts:    Options{Path: "a"},
		wantErr: "holds more than one kustomization file",
	}, {
		name:    "unknown kustomization field names the file",
		files:   map[string]string{"a/kustomization.yaml": "resourcez:\n- cm.yaml\n"},
		opts:    Options{Path: "a", TargetNamespace: "ns"},
		wantErr: `/a/kustomization.yaml: invalid Kustomization: json: unknown field "resourcez"`,
	}, {
		name:    "syntax error in a listed resource names the file",
		files:   map[string]string{"a/kustomization.yaml": "resources:\n- bad.yaml\n", "a/bad.yaml": "kind: [\n"},
		opts:    Options{Path: "a"},
		wantErr: "bad.yaml",
	}, {
		name:  "empty kustomization builds nothing",
		files: map[string]string{"a/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"},
		opts:  Options{Path: "a"},
		want:  []string{},
	}, {
		name: "buildMetadata adds origin annotations",
		files: map[string]string{
			"a/kustomization.yaml": "resources:\n- cm.yaml\n", "a/cm.yaml": configMap("a"),
		},
		opts: Options{Path: "a", BuildMetadata: []string{"originAnnotations"}},
		check: func(t *testing.T, objs []*unstructured.Unstructured) {
			if got := objs[0].GetAnnotations()["config.kubernetes.io/origin"]; !strings.Contains(got, "path: cm.yaml") {
				t.Errorf("origin annotation = %q, want the file's path", got)
			}
		},
	}, {
		name:    "unknown buildMetadata option",
		files:   map[string]string{"cm.yaml": configMap("a")},
		opts:    Options{BuildMetadata: []string{"managedByLabel"}},
		wantErr: `unsupported buildMetadata option "managedByLabel"`,
	}})
}

func findByKind(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	t.Fatalf("no %s among %v", kind, ids(objs))
	return nil
}

func TestBuild_RemoteBases(t *testing.T) {
	withResource := func(entry string) map[string]string {
		return map[string]string{
			"apps/kustomization.yaml": "resources:\n- cm.yaml\n- " + entry + "\n",
			"apps/cm.yaml":            configMap("local"),
		}
	}
	var tests []buildCase
	for _, entry := range []string{
		"github.com/example/repo//deploy?ref=v1.0.0",
		"https://github.com/example/repo.git/deploy",
		"git@github.com:example/repo.git",
		"git::https://example.com/repo.git",
		"ssh://git@example.com/repo.git",
		"https://raw.githubusercontent.com/example/repo/main/cm.yaml",
		"deploy@gitlab.example.com:group/repo",
		"gitlab.com/example/repo?ref=main",
	} {
		tests = append(tests, buildCase{
			name:    entry,
			files:   withResource(entry),
			opts:    Options{Path: "apps"},
			wantErr: "remote bases are not allowed: " + entry + " in /apps/kustomization.yaml",
		})
	}
	tests = append(tests, []buildCase{{
		name: "in a base, a component and a patch file",
		files: map[string]string{
			"apps/kustomization.yaml": "resources:\n- ../base\n",
			"base/kustomization.yaml": "components:\n- https://example.com/component.git\n",
		},
		opts:    Options{Path: "apps"},
		wantErr: "remote bases are not allowed: https://example.com/component.git in /base/kustomization.yaml",
	}, {
		name: "patch file over HTTP",
		files: map[string]string{
			"apps/kustomization.yaml": "resources:\n- cm.yaml\npatches:\n- path: https://example.com/patch.yaml\n",
			"apps/cm.yaml":            configMap("a"),
		},
		opts:    Options{Path: "apps"},
		wantErr: "remote bases are not allowed: https://example.com/patch.yaml in /apps/kustomization.yaml",
	}, {
		name:    "remote spec component",
		files:   map[string]string{"apps/cm.yaml": configMap("a")},
		opts:    Options{Path: "apps", Components: []string{"github.com/example/components//tls"}},
		wantErr: "remote bases are not allowed: github.com/example/components//tls",
	}, {
		name: "a local file whose name looks remote is local",
		files: map[string]string{
			"apps/kustomization.yaml":         "resources:\n- github.com/example/cm.yaml\n",
			"apps/github.com/example/cm.yaml": configMap("vendored"),
		},
		opts: Options{Path: "apps"},
		want: []string{"ConfigMap//vendored"},
	}}...)
	runBuildCases(t, tests)
}

func TestBuild_AllowRemoteBasesFetchesBeforeKustomize(t *testing.T) {
	// A closed loopback port: the fetch fails at once, without leaving the
	// machine, and the error is the fetch's, not our refusal.
	const url = "https://127.0.0.1:1/cm.yaml"
	fs := memFS(t, map[string]string{"kustomization.yaml": "resources:\n- " + url + "\n"})

	_, err := Build(fs, Options{})
	if err == nil || !strings.Contains(err.Error(), "remote bases are not allowed") {
		t.Fatalf("without AllowRemoteBases: error = %v, want our refusal", err)
	}
	_, err = Build(fs, Options{AllowRemoteBases: true})
	if err == nil {
		t.Fatal("with AllowRemoteBases: want the fetch error")
	}
	if strings.Contains(err.Error(), "remote bases are not allowed") || !strings.Contains(err.Error(), "remote file "+url) {
		t.Fatalf("with AllowRemoteBases: error = %v, want the attempt to fetch %s", err, url)
	}
}

func TestBuild_RefusesHelmAndPlugins(t *testing.T) {
	runBuildCases(t, []buildCase{{
		name: "helmCharts",
		files: map[string]string{
			"apps/kustomization.yaml": "helmCharts:\n- name: podinfo\n  repo: https://stefanprodan.github.io/podinfo\n  version: 6.0.0\n",
		},
		opts:    Options{Path: "apps"},
		wantErr: "helm charts are not supported: /apps/kustomization.yaml",
	}, {
		name: "helmChartInflationGenerator in a base",
		files: map[string]string{
			"apps/kustomization.yaml": "resources:\n- ../base\n",
			"base/kustomization.yaml": "helmChartInflationGenerator:\n- chartName: podinfo\n  chartRepoUrl: https://stefanprodan.github.io/podinfo\n",
		},
		opts:    Options{Path: "apps"},
		wantErr: "helm charts are not supported: /base/kustomization.yaml",
	}, {
		name: "builtin Helm generator configuration",
		files: map[string]string{
			"apps/kustomization.yaml": "generators:\n- helm.yaml\n",
			"apps/helm.yaml":          "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: podinfo\nname: podinfo\nrepo: https://stefanprodan.github.io/podinfo\n",
		},
		opts:    Options{Path: "apps"},
		wantErr: "helm charts are not supported: /apps/helm.yaml",
	}, {
		name: "exec KRM function",
		files: map[string]string{
			"apps/kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- fn.yaml\n",
			"apps/cm.yaml":            configMap("a"),
			"apps/fn.yaml": `apiVersion: example.com/v1
kind: Touch
metadata:
  name: touch
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: /bin/sh
`,
		},
		opts:    Options{Path: "apps"},
		wantErr: "external plugins disabled",
	}, {
		name: "containerized KRM function",
		files: map[string]string{
			"apps/kustomization.yaml": "resources:\n- cm.yaml\ngenerators:\n- fn.yaml\n",
			"apps/cm.yaml":            configMap("a"),
			"apps/fn.yaml": `apiVersion: example.com/v1
kind: Gen
metadata:
  name: gen
  annotations:
    config.kubernetes.io/function: |
      container:
        image: example.com/gen:v1
`,
		},
		opts:    Options{Path: "apps"},
		wantErr: "external plugins disabled",
	}})
}

func TestBuild_ConcurrentBuilds(t *testing.T) {
	files := map[string]string{
		"kustomization.yaml": "resources:\n- deploy.yaml\n",
		"deploy.yaml":        deployment("web"),
	}
	errs := make(chan error, 4)
	for range cap(errs) {
		fs := memFS(t, files)
		go func() {
			_, err := Build(fs, Options{NamePrefix: "p-", Patches: []common.Patch{{
				Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
			}}})
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
