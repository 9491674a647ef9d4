package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func untar(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[hdr.Name] = string(b)
	}
}

func TestMergeValuesFiles_LaterWinsAndMissingFiles(t *testing.T) {
	root := writeTree(t, map[string]string{
		"c/values.yaml": "a: 1\nm:\n  x: 1\n  z: 1\nr: 1\n",
		"c/prod.yaml":   "m:\n  z: 2\nl: [1]\nr:\n  min: 2\n",
	})
	out, used, err := MergeValuesFiles(root, []string{"c/values.yaml", "./c/prod.yaml", "c/missing.yaml"}, true)
	if err != nil {
		t.Fatal(err)
	}
	// Maps merge recursively; lists and scalars are replaced.
	if want := "a: 1\nl:\n- 1\nm:\n  x: 1\n  z: 2\nr:\n  min: 2\n"; string(out) != want {
		t.Errorf("merged = %q, want %q", out, want)
	}
	if want := []string{"c/values.yaml", "./c/prod.yaml"}; !reflect.DeepEqual(used, want) {
		t.Errorf("used = %v, want %v", used, want)
	}
	if _, _, err := MergeValuesFiles(root, []string{"c/missing.yaml"}, false); err == nil {
		t.Error("a missing values file was not an error")
	}
	if _, _, err := MergeValuesFiles(root, []string{"../etc/passwd"}, true); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("escaping values file: err = %v, want ErrUnsafePath", err)
	}
}

func TestSecureJoin_RefusesParentComponents(t *testing.T) {
	root := "/src"
	for rel, want := range map[string]string{
		"charts/app":   "/src/charts/app",
		"./charts/app": "/src/charts/app",
		"/charts/app":  "/src/charts/app",
		".":            "/src",
	} {
		if got, err := SecureJoin(root, rel); err != nil || got != filepath.FromSlash(want) {
			t.Errorf("SecureJoin(%q) = %q, %v; want %q", rel, got, err, want)
		}
	}
	for _, rel := range []string{"..", "../x", "charts/../../x", "charts/..", `charts\..\..`} {
		if _, err := SecureJoin(root, rel); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("SecureJoin(%q) err = %v, want ErrUnsafePath", rel, err)
		}
	}
}

func TestRevisionVersion_AppendsTwelveHexOfTheSourceRevision(t *testing.T) {
	for _, tc := range []struct{ version, rev, want string }{
		{"0.1.0", "main@sha1:abcdef1234567890abcdef1234567890abcdef12", "0.1.0+abcdef123456"},
		{"0.1.0", "sha1:abcdef1234567890abcdef1234567890abcdef12", "0.1.0+abcdef123456"},
		{"1.2.3+old", "sha256:0123456789abcdef0123456789abcdef", "1.2.3+0123456789ab"},
		{"1.0.0", "main/abcdef1234567890", "1.0.0+abcdef123456"},
	} {
		if got := RevisionVersion(tc.version, tc.rev); got != tc.want {
			t.Errorf("RevisionVersion(%q, %q) = %q, want %q", tc.version, tc.rev, got, tc.want)
		}
	}
}

// chartWithSubcharts has several vendored dependencies, which the SDK's
// loader adds in map order.
var chartWithSubcharts = map[string]string{
	"Chart.yaml":              "apiVersion: v2\nname: app\nversion: 0.1.0\n",
	"values.yaml":             "a: 1\n",
	"templates/cm.yaml":       "kind: ConfigMap\n",
	"files/b.txt":             "b\n",
	"files/a.txt":             "a\n",
	"charts/one/Chart.yaml":   "apiVersion: v2\nname: one\nversion: 1.0.0\n",
	"charts/two/Chart.yaml":   "apiVersion: v2\nname: two\nversion: 1.0.0\n",
	"charts/three/Chart.yaml": "apiVersion: v2\nname: three\nversion: 1.0.0\n",
	"charts/four/Chart.yaml":  "apiVersion: v2\nname: four\nversion: 1.0.0\n",
	"charts/five/Chart.yaml":  "apiVersion: v2\nname: five\nversion: 1.0.0\n",
	"charts/five/values.yaml": "x: 5\n",
}

func TestBuildDir_SameChartSameDigest(t *testing.T) {
	a := writeTree(t, chartWithSubcharts)
	b := writeTree(t, chartWithSubcharts)
	// Other times and modes on disk must not matter.
	past := time.Now().Add(-48 * time.Hour)
	_ = os.Chtimes(filepath.Join(b, "values.yaml"), past, past)
	_ = os.Chtimes(filepath.Join(b, "charts", "two", "Chart.yaml"), past, past)
	_ = os.Chmod(filepath.Join(b, "values.yaml"), 0o600)
	opts := BuildOptions{WorkDir: t.TempDir()}
	first, err := BuildDir(context.Background(), a, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, dir := range []string{a, b, a, b, a, b} {
		again, err := BuildDir(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if digestOf(again.Data) != digestOf(first.Data) {
			t.Fatalf("build %d: digest %s, first %s", i, digestOf(again.Data), digestOf(first.Data))
		}
	}
	t.Logf("six builds of the same chart: %s", digestOf(first.Data))
	got := untar(t, first.Data)
	for _, name := range []string{"app/Chart.yaml", "app/values.yaml", "app/templates/cm.yaml", "app/files/a.txt",
		"app/charts/five/Chart.yaml", "app/charts/five/values.yaml", "app/charts/two/Chart.yaml"} {
		if _, ok := got[name]; !ok {
			t.Errorf("no %s in %v", name, got)
		}
	}
	// The archive is a chart the SDK loads, with its dependencies.
	ch, err := LoadChartArchive(first.Data)
	if err != nil || len(ch.Dependencies()) != 5 {
		t.Fatalf("loaded %v, %v", ch, err)
	}
	// A changed file changes the digest.
	if err := os.WriteFile(filepath.Join(b, "files", "a.txt"), []byte("A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := BuildDir(context.Background(), b, opts)
	if err != nil || digestOf(changed.Data) == digestOf(first.Data) {
		t.Errorf("a changed chart has the same digest (%v)", err)
	}
	if _, err := BuildDir(context.Background(), a, BuildOptions{WorkDir: t.TempDir(), MaxSize: 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxSize: %v", err)
	}
}

func TestBuildDir_HonoursHelmignore(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		".helmignore":           "# comment\n*.md\nsecrets/\ntemplates/skip-*.yaml\n",
		"README.md":             "not packaged\n",
		"secrets/key.pem":       "not packaged\n",
		"templates/cm.yaml":     "kind: ConfigMap\n",
		"templates/skip-1.yaml": "kind: Secret\n",
		"files/keep.txt":        "kept\n",
	})
	res, err := BuildDir(context.Background(), dir, BuildOptions{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := untar(t, res.Data)
	for _, name := range []string{"app/README.md", "app/secrets/key.pem", "app/templates/skip-1.yaml"} {
		if _, ok := got[name]; ok {
			t.Errorf("%s was packaged despite .helmignore", name)
		}
	}
	for _, name := range []string{"app/Chart.yaml", "app/templates/cm.yaml", "app/files/keep.txt"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s is missing from %v", name, got)
		}
	}
}

func TestBuildDir_ValuesRevisionAndVendoredDependencies(t *testing.T) {
	root := writeTree(t, map[string]string{
		"charts/app/Chart.yaml":       "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"charts/app/values.yaml":      "replicas: 1\nimage:\n  tag: dev\n",
		"charts/app/values-prod.yaml": "image:\n  tag: prod\n",
		"charts/dep/Chart.yaml": "apiVersion: v2\nname: dep\nversion: 1.0.0\ndependencies:\n" +
			"- name: vendored\n  version: 1.0.0\n  repository: https://example.com\n- name: redis\n  version: 1.0.0\n  repository: https://charts.example.com\n",
		"charts/dep/charts/vendored/Chart.yaml": "name: vendored\nversion: 1.0.0\n",
	})
	res, err := BuildDir(context.Background(), filepath.Join(root, "charts/app"), BuildOptions{
		ValuesFiles: []string{"charts/app/values.yaml", "charts/app/values-prod.yaml"}, ValuesRoot: root,
		SourceRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567", WorkDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "app" || res.Version != "0.1.0+0123456789ab" {
		t.Errorf("built %s %s", res.Name, res.Version)
	}
	files := untar(t, res.Data)
	if want := "image:\n  tag: prod\nreplicas: 1\n"; files["app/values.yaml"] != want {
		t.Errorf("values.yaml = %q, want %q", files["app/values.yaml"], want)
	}
	if md := files["app/Chart.yaml"]; !strings.Contains(md, "version: 0.1.0+0123456789ab\n") {
		t.Errorf("Chart.yaml = %q", md)
	}
	// Without DependencyOptions, only vendored dependencies do.
	_, err = BuildDir(context.Background(), filepath.Join(root, "charts/dep"), BuildOptions{WorkDir: t.TempDir()})
	if !errors.Is(err, ErrDependency) || !strings.Contains(err.Error(), "redis") || strings.Contains(err.Error(), "vendored,") {
		t.Errorf("dependencies: err = %v", err)
	}
}

func TestBuildArchive_ValuesFilesFromTheChart(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"Chart.yaml":       "apiVersion: v2\nname: app\nversion: 1.0.0\n",
		"values.yaml":      "image:\n  repo: app\n  tag: dev\n",
		"values-prod.yaml": "image:\n  tag: prod\n",
	})
	packaged, err := BuildDir(context.Background(), dir, BuildOptions{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	opts := BuildOptions{ValuesFiles: []string{"values.yaml", "values-prod.yaml", "missing.yaml"}, IgnoreMissingValuesFiles: true, WorkDir: t.TempDir()}
	res, err := BuildArchive(packaged.Data, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := untar(t, res.Data)["app/values.yaml"]; got != "image:\n  repo: app\n  tag: prod\n" {
		t.Errorf("values.yaml = %q", got)
	}
	if !reflect.DeepEqual(res.ValuesFiles, []string{"values.yaml", "values-prod.yaml"}) || res.Version != "1.0.0" {
		t.Errorf("result %s %v", res.Version, res.ValuesFiles)
	}
	again, _ := BuildArchive(packaged.Data, opts)
	if digestOf(again.Data) != digestOf(res.Data) {
		t.Error("re-packaging the same chart gave another digest")
	}
	opts.ValuesFiles = []string{"../../etc/passwd"}
	if _, err := BuildArchive(packaged.Data, opts); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("escaping values file: %v", err)
	}
}
