package imageupdate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/imageupdate"
)

const digest = "sha256:6129bb944cada32b4662eafd13fd9904d34c77286bf2ec4523eaedb711757cb0"

var policies = map[string]imageupdate.Latest{
	"flux-system:app":    {Image: "ghcr.io/org/app", Tag: "1.2.0"},
	"flux-system:pinned": {Image: "ghcr.io/org/pinned", Tag: "2.0.0", Digest: digest},
	"apps:numeric":       {Image: "reg.example:5000/numeric", Tag: "1.10"},
}

// deployment has comments, blank lines, 4-space indentation, a flow sequence and two
// documents: every byte but the marked values must survive.
const deployment = `# Deployment of the app.
apiVersion: apps/v1
kind: Deployment
metadata:
    name: app   # keep this spacing
    namespace: prod

spec:
    template:
        spec:
            containers:
            -   name: app
                image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}
                args: [--port,   "8080"]

            -   name: sidecar
                image: "ghcr.io/org/pinned:1.0.0" # {"$imagepolicy":"flux-system:pinned"}
            -   name: unknown
                image: ghcr.io/org/other:1.0.0 # {"$imagepolicy": "flux-system:missing"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: job, namespace: prod}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - image: 'ghcr.io/org/app:0.9.0' # {"$imagepolicy": "flux-system:app"}
`

const wantDeployment = `# Deployment of the app.
apiVersion: apps/v1
kind: Deployment
metadata:
    name: app   # keep this spacing
    namespace: prod

spec:
    template:
        spec:
            containers:
            -   name: app
                image: ghcr.io/org/app:1.2.0 # {"$imagepolicy": "flux-system:app"}
                args: [--port,   "8080"]

            -   name: sidecar
                image: "ghcr.io/org/pinned:2.0.0@` + digest + `" # {"$imagepolicy":"flux-system:pinned"}
            -   name: unknown
                image: ghcr.io/org/other:1.0.0 # {"$imagepolicy": "flux-system:missing"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: job, namespace: prod}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - image: 'ghcr.io/org/app:1.2.0' # {"$imagepolicy": "flux-system:app"}
`

// values is a HelmRelease with the image split in fields, one value already current.
const values = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: pinned
  namespace: apps
spec:
  values:
    image:
      repository: ghcr.io/org/old-name # {"$imagepolicy": "flux-system:pinned:name"}
      tag: 1.0.0 # {"$imagepolicy": "flux-system:pinned:tag"}
      digest: "" # {"$imagepolicy": "flux-system:pinned:digest"}
    numeric:
      tag: latest    # {"$imagepolicy": "apps:numeric:tag"}
      list:
        - reg.example:5000/numeric:1.9 # {"$imagepolicy": "apps:numeric"}
    current:
      tag: 1.2.0 # {"$imagepolicy": "flux-system:app:tag"}
`

const wantValues = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: pinned
  namespace: apps
spec:
  values:
    image:
      repository: ghcr.io/org/pinned # {"$imagepolicy": "flux-system:pinned:name"}
      tag: 2.0.0 # {"$imagepolicy": "flux-system:pinned:tag"}
      digest: "` + digest + `" # {"$imagepolicy": "flux-system:pinned:digest"}
    numeric:
      tag: "1.10"    # {"$imagepolicy": "apps:numeric:tag"}
      list:
        - reg.example:5000/numeric:1.10 # {"$imagepolicy": "apps:numeric"}
    current:
      tag: 1.2.0 # {"$imagepolicy": "flux-system:app:tag"}
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApply_SetsMarkedValuesAndKeepsEverythingElse(t *testing.T) {
	dir := t.TempDir()
	marked := `image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}` + "\n"
	writeFiles(t, dir, map[string]string{
		"apps/deployment.yaml":     deployment,
		"apps/helm/release.yml":    values,
		"apps/notes.txt":           marked,
		"apps/plain.yaml":          "image: ghcr.io/org/app:1.0.0\n",
		".git/config.yaml":         marked,
		"broken/invalid.yaml":      "a: [\n" + marked,
		"broken/block-scalar.yaml": "image: | # {\"$imagepolicy\": \"flux-system:app\"}\n  ghcr.io/org/app:1.0.0\n",
	})

	res, err := imageupdate.Apply(dir, policies)
	if err != nil {
		t.Fatal(err)
	}

	if got := readFile(t, filepath.Join(dir, "apps/deployment.yaml")); got != wantDeployment {
		t.Errorf("deployment.yaml (-want +got):\n%s", cmp.Diff(wantDeployment, got))
	}
	if got := readFile(t, filepath.Join(dir, "apps/helm/release.yml")); got != wantValues {
		t.Errorf("release.yml (-want +got):\n%s", cmp.Diff(wantValues, got))
	}
	for _, name := range []string{"apps/notes.txt", ".git/config.yaml"} {
		if got := readFile(t, filepath.Join(dir, name)); got != marked {
			t.Errorf("%s was changed:\n%s", name, got)
		}
	}

	want := imageupdate.Result{
		FileChanges: map[string]imageupdate.ObjectChanges{
			"apps/deployment.yaml": {
				{Name: "app", Namespace: "prod", APIVersion: "apps/v1", Kind: "Deployment"}: {
					{OldValue: "ghcr.io/org/app:1.0.0", NewValue: "ghcr.io/org/app:1.2.0", Setter: "flux-system:app"},
					{OldValue: "ghcr.io/org/pinned:1.0.0", NewValue: "ghcr.io/org/pinned:2.0.0@" + digest, Setter: "flux-system:pinned"},
				},
				{Name: "job", Namespace: "prod", APIVersion: "batch/v1", Kind: "CronJob"}: {
					{OldValue: "ghcr.io/org/app:0.9.0", NewValue: "ghcr.io/org/app:1.2.0", Setter: "flux-system:app"},
				},
			},
			"apps/helm/release.yml": {
				{Name: "pinned", Namespace: "apps", APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease"}: {
					{OldValue: "ghcr.io/org/old-name", NewValue: "ghcr.io/org/pinned", Setter: "flux-system:pinned:name"},
					{OldValue: "1.0.0", NewValue: "2.0.0", Setter: "flux-system:pinned:tag"},
					{OldValue: "", NewValue: digest, Setter: "flux-system:pinned:digest"},
					{OldValue: "latest", NewValue: "1.10", Setter: "apps:numeric:tag"},
					{OldValue: "reg.example:5000/numeric:1.9", NewValue: "reg.example:5000/numeric:1.10", Setter: "apps:numeric"},
				},
			},
		},
	}
	if diff := cmp.Diff(want.FileChanges, res.FileChanges); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if got := res.Files(); !cmp.Equal(got, []string{"apps/deployment.yaml", "apps/helm/release.yml"}) {
		t.Errorf("Files() = %v", got)
	}
	if n := len(res.Changes()); n != 8 {
		t.Errorf("Changes() has %d entries, want 8", n)
	}
	if n := len(res.Objects()); n != 3 {
		t.Errorf("Objects() has %d entries, want 3", n)
	}
	for _, name := range []string{"broken/invalid.yaml", "broken/block-scalar.yaml"} {
		if res.Skipped[name] == "" {
			t.Errorf("%s is not reported as skipped: %v", name, res.Skipped)
		}
	}

	again, err := imageupdate.Apply(dir, policies)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() || again.FileChanges != nil {
		t.Errorf("a second Apply changed %v", again.FileChanges)
	}
}

func TestApply_NeverFollowsSymlinks(t *testing.T) {
	outside := t.TempDir()
	dir := t.TempDir()
	marked := `image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}` + "\n"
	writeFiles(t, outside, map[string]string{"secret.yaml": marked, "sub/more.yaml": marked})
	writeFiles(t, dir, map[string]string{"real/app.yaml": marked})
	for link, target := range map[string]string{
		"file-link.yaml": filepath.Join(outside, "secret.yaml"),
		"dir-link":       filepath.Join(outside, "sub"),
		"inside.yaml":    "real/app.yaml",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}

	res, err := imageupdate.Apply(dir, policies)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(outside, "secret.yaml"), filepath.Join(outside, "sub/more.yaml")} {
		if got := readFile(t, p); got != marked {
			t.Errorf("%s outside the directory was changed", p)
		}
	}
	if got := res.Files(); !cmp.Equal(got, []string{"real/app.yaml"}) {
		t.Errorf("changed files = %v, want only the real file", got)
	}
	if got := readFile(t, filepath.Join(dir, "real/app.yaml")); !strings.Contains(got, "app:1.2.0") {
		t.Errorf("real file not updated: %s", got)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "inside.yaml")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink inside was replaced: %v %v", fi, err)
	}
}

func TestApply_NothingToChange(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": "kind: ConfigMap\n"})
	res, err := imageupdate.Apply(dir, policies)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Empty() || len(res.Changes()) != 0 || len(res.Files()) != 0 {
		t.Errorf("result = %+v, want empty", res)
	}
	if _, err := imageupdate.Apply(filepath.Join(dir, "missing"), policies); err == nil {
		t.Error("a missing directory gave no error")
	}
}

func TestApply_ScalarStyles(t *testing.T) {
	const m = ` # {"$imagepolicy": "flux-system:app:tag"}`
	tests := []struct {
		name, in, want string
	}{
		{"plain", "tag: 1.0.0" + m + "\n", "tag: 1.2.0" + m + "\n"},
		{"plain without newline at EOF", "tag: 1.0.0" + m, "tag: 1.2.0" + m},
		{"CRLF line endings", "a: b\r\ntag: 1.0.0" + m + "\r\nc: d\r\n", "a: b\r\ntag: 1.2.0" + m + "\r\nc: d\r\n"},
		{"double-quoted with escapes", `tag: "1.0\"x\\"` + m + "\n", `tag: "1.2.0"` + m + "\n"},
		{"single-quoted with a quote", `tag: 'it''s'` + m + "\n", `tag: '1.2.0'` + m + "\n"},
		{"non-ASCII before the value", "ünïcödé: {x: y}\ntag: 1.0.0" + m + "\n", "ünïcödé: {x: y}\ntag: 1.2.0" + m + "\n"},
		{"marker on the key", "tag:" + m + "\n  1.0.0\n", "tag:" + m + "\n  1.2.0\n"},
		{"sequence item", "tags:\n- 1.0.0" + m + "\n- keep\n", "tags:\n- 1.2.0" + m + "\n- keep\n"},
		{"two documents", "tag: 1.0.0" + m + "\n---\ntag: 0.1" + m + "\n", "tag: 1.2.0" + m + "\n---\ntag: 1.2.0" + m + "\n"},
		{"not JSON", "tag: 1.0.0 # $imagepolicy flux-system:app:tag \"$imagepolicy\"\n", "tag: 1.0.0 # $imagepolicy flux-system:app:tag \"$imagepolicy\"\n"},
		{"unknown field", `tag: 1.0.0 # {"$imagepolicy": "flux-system:app:version"}` + "\n", `tag: 1.0.0 # {"$imagepolicy": "flux-system:app:version"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"f.yaml": tt.in})
			res, err := imageupdate.Apply(dir, policies)
			if err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, filepath.Join(dir, "f.yaml")); got != tt.want {
				t.Errorf("(-want +got):\n%s", cmp.Diff(tt.want, got))
			}
			if len(res.Skipped) > 0 {
				t.Errorf("skipped: %v", res.Skipped)
			}
			if (tt.in != tt.want) == res.Empty() {
				t.Errorf("Empty() = %v for a change %v", res.Empty(), tt.in != tt.want)
			}
		})
	}
}

func TestApply_KeepsFileMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(p, []byte(`image: x:1 # {"$imagepolicy": "flux-system:app"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := imageupdate.Apply(dir, policies); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}
