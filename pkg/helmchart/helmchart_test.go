package helmchart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

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

func TestMergeValues_MapsMergeRecursivelyListsAndScalarsAreReplaced(t *testing.T) {
	base := map[string]interface{}{
		"image":    map[string]interface{}{"repo": "app", "tag": "1"},
		"ports":    []interface{}{80, 443},
		"replicas": 1,
		"keep":     "yes",
	}
	over := map[string]interface{}{
		"image":    map[string]interface{}{"tag": "2"},
		"ports":    []interface{}{8080},
		"replicas": map[string]interface{}{"min": 2},
	}
	want := map[string]interface{}{
		"image":    map[string]interface{}{"repo": "app", "tag": "2"},
		"ports":    []interface{}{8080},
		"replicas": map[string]interface{}{"min": 2},
		"keep":     "yes",
	}
	if got := MergeValues(base, over); !reflect.DeepEqual(got, want) {
		t.Errorf("MergeValues = %v, want %v", got, want)
	}
}

func TestMergeValuesFiles_LaterWinsAndMissingFiles(t *testing.T) {
	root := writeTree(t, map[string]string{
		"c/values.yaml": "a: 1\nm:\n  x: 1\n  z: 1\n",
		"c/prod.yaml":   "m:\n  z: 2\nl: [1]\n",
	})
	out, used, err := MergeValuesFiles(root, []string{"c/values.yaml", "./c/prod.yaml", "c/missing.yaml"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a: 1\nl:\n- 1\nm:\n  x: 1\n  z: 2\n"; string(out) != want {
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

func TestPackage_IsDeterministicAndPrefixed(t *testing.T) {
	files := map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"values.yaml":           "a: 1\n",
		"templates/cm.yaml":     "kind: ConfigMap\n",
		"charts/sub/Chart.yaml": "name: sub\nversion: 1.0.0\n",
	}
	a := writeTree(t, files)
	b := writeTree(t, files)
	now := time.Now()
	_ = os.Chtimes(filepath.Join(b, "values.yaml"), now, now.Add(-time.Hour))
	_ = os.Chmod(filepath.Join(b, "values.yaml"), 0o600)
	da, err := Package(a, "app", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Package(b, "app", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Error("the same tree packaged to different bytes")
	}
	got := untar(t, da)
	if len(got) != len(files) {
		t.Errorf("entries %v, want %d", got, len(files))
	}
	for name, content := range files {
		if got["app/"+name] != content {
			t.Errorf("app/%s = %q, want %q", name, got["app/"+name], content)
		}
	}
	if _, err := Package(a, "app", nil, 10); err == nil {
		t.Error("maxSize was not enforced")
	}
}

func TestBuild_ValuesRevisionAndDependencies(t *testing.T) {
	root := writeTree(t, map[string]string{
		"charts/app/Chart.yaml":       "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"charts/app/values.yaml":      "replicas: 1\nimage:\n  tag: dev\n",
		"charts/app/values-prod.yaml": "image:\n  tag: prod\n",
		"charts/dep/Chart.yaml": "apiVersion: v2\nname: dep\nversion: 1.0.0\ndependencies:\n" +
			"- name: vendored\n  repository: https://example.com\n- name: redis\n  repository: https://charts.example.com\n",
		"charts/dep/charts/vendored/Chart.yaml": "name: vendored\nversion: 1.0.0\n",
	})
	res, err := Build(filepath.Join(root, "charts/app"), Options{
		ValuesFiles: []string{"charts/app/values.yaml", "charts/app/values-prod.yaml"}, ValuesRoot: root,
		SourceRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
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
	if md := files["app/Chart.yaml"]; !bytes.Contains([]byte(md), []byte("version: 0.1.0+0123456789ab\n")) {
		t.Errorf("Chart.yaml = %q", md)
	}
	_, err = Build(filepath.Join(root, "charts/dep"), Options{})
	if !errors.Is(err, ErrDependenciesNotBuilt) || !bytes.Contains([]byte(err.Error()), []byte("redis")) ||
		bytes.Contains([]byte(err.Error()), []byte("vendored,")) {
		t.Errorf("dependencies: err = %v", err)
	}
}
