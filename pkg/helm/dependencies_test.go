package helm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm/helmtest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
)

// isolateHelmHome points every Helm and XDG home at a directory the test
// checks stays empty: builds must never use the server's own.
func isolateHelmHome(t *testing.T) func() {
	t.Helper()
	home := t.TempDir()
	for _, v := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"} {
		t.Setenv(v, filepath.Join(home, strings.ToLower(v)))
	}
	return func() {
		t.Helper()
		if entries, _ := os.ReadDir(home); len(entries) > 0 {
			t.Errorf("the build wrote to the process's Helm home: %v", entries)
		}
	}
}

func appWithDependencies(t *testing.T, private, public string, extra string) (root, chartDir string) {
	t.Helper()
	root = writeTree(t, map[string]string{
		"charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n" +
			"- name: redis\n  version: \">=1.0.0 <2.0.0\"\n  repository: " + private + "\n" +
			"- name: redis\n  alias: cache\n  version: \">=1.0.0 <2.0.0\"\n  repository: " + private + "\n" +
			"- name: common\n  version: 0.3.x\n  repository: " + public + "\n" +
			"- name: lib\n  version: \"*\"\n  repository: file://../lib\n" +
			"- name: vendored\n  version: 1.0.0\n  repository: https://charts.invalid\n" + extra,
		"charts/app/charts/vendored/Chart.yaml": "apiVersion: v2\nname: vendored\nversion: 1.0.0\n",
		"charts/app/templates/cm.yaml":          "kind: ConfigMap\n",
		"charts/lib/Chart.yaml":                 "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
	})
	return root, filepath.Join(root, "charts", "app")
}

func TestBuildDir_BuildsMissingDependencies(t *testing.T) {
	checkHome := isolateHelmHome(t)
	private := helmtest.NewRepository(t, helmtest.Options{Username: "user", Password: "s3cret-pw"})
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		private.Publish(t, helmtest.SimpleChart(t, "redis", v))
	}
	public := helmtest.NewRepository(t, helmtest.Options{})
	public.Publish(t, helmtest.SimpleChart(t, "common", "0.3.1"))
	root, chartDir := appWithDependencies(t, private.URL, public.URL+"/", "")

	password := "s3cret-pw"
	var asked []string
	deps := &DependencyOptions{
		SourceRoot: root,
		Repository: func(url string) (RepositoryOptions, error) {
			asked = append(asked, url)
			if url == private.URL {
				return RepositoryOptions{Username: "user", Password: password}, nil
			}
			return RepositoryOptions{}, nil
		},
	}
	work := t.TempDir()
	opts := BuildOptions{WorkDir: work, Dependencies: deps}
	res, err := BuildDir(context.Background(), chartDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Built != 3 || len(asked) != 2 {
		t.Errorf("built %d dependencies, asked for %v", res.Built, asked)
	}
	files := untar(t, res.Data)
	for name, want := range map[string]string{
		"app/charts/redis/Chart.yaml":    "version: 1.1.0",
		"app/charts/common/Chart.yaml":   "version: 0.3.1",
		"app/charts/lib/Chart.yaml":      "version: 0.1.0",
		"app/charts/vendored/Chart.yaml": "version: 1.0.0",
	} {
		if !strings.Contains(files[name], want) {
			t.Errorf("%s = %q, want %q", name, files[name], want)
		}
	}
	for _, a := range public.Authorizations() {
		if a != "" {
			t.Errorf("the public repository got credentials: %q", a)
		}
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("the build left %v in its work directory", entries)
	}
	again, err := BuildDir(context.Background(), chartDir, opts)
	if err != nil || digestOf(again.Data) != digestOf(res.Data) {
		t.Errorf("a second build gave another digest (%v)", err)
	}
	checkHome()

	t.Run("wrong password", func(t *testing.T) {
		password = "wrong"
		defer func() { password = "s3cret-pw" }()
		_, err := BuildDir(context.Background(), chartDir, opts)
		if !errors.Is(err, ErrAuthentication) || strings.Contains(err.Error(), "wrong") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a chart that is not the one in the index", func(t *testing.T) {
		private.Serve("/redis-1.1.0.tgz", helmtest.SimpleChart(t, "redis", "1.1.0-tampered"))
		defer private.Serve("/redis-1.1.0.tgz", nil)
		if _, err := BuildDir(context.Background(), chartDir, opts); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("network guard", func(t *testing.T) {
		guard, _ := netguard.Parse([]string{"loopback"})
		if _, err := BuildDir(netguard.WithContext(context.Background(), guard), chartDir, opts); !errors.Is(err, netguard.ErrRefused) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestBuildDir_RefusesDependenciesItCannotBuildSafely(t *testing.T) {
	for name, tc := range map[string]struct {
		dependency string
		want       error
	}{
		"file path outside the source": {"- name: x\n  version: \"*\"\n  repository: file://../../../outside\n", ErrUnsafePath},
		"absolute file path":           {"- name: x\n  version: \"*\"\n  repository: file:///etc\n", ErrUnsafePath},
		"repository alias":             {"- name: x\n  version: \"*\"\n  repository: \"@stable\"\n", ErrDependency},
		"no repository":                {"- name: x\n  version: \"*\"\n", ErrDependency},
	} {
		t.Run(name, func(t *testing.T) {
			root := writeTree(t, map[string]string{
				"src/charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n" + tc.dependency,
				"outside/Chart.yaml":        "apiVersion: v2\nname: x\nversion: 1.0.0\n",
			})
			source := filepath.Join(root, "src")
			_, err := BuildDir(context.Background(), filepath.Join(source, "charts", "app"), BuildOptions{WorkDir: t.TempDir(),
				Dependencies: &DependencyOptions{SourceRoot: source, Repository: func(string) (RepositoryOptions, error) { return RepositoryOptions{}, nil }}})
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBuildDir_DependencyFromAnOCIRegistry(t *testing.T) {
	checkHome := isolateHelmHome(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "oci-user", Password: "oci-pw"})
	for _, v := range []string{"1.0.0", "1.2.0", "2.0.0"} {
		helmtest.Push(t, reg.Host, "charts", helmtest.SimpleChart(t, "db", v), helmtest.PushOptions{Username: "oci-user", Password: "oci-pw"})
	}
	root := writeTree(t, map[string]string{
		"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: db\n  version: ^1.0.0\n  repository: " + reg.URL("charts") + "\n",
	})
	password := "oci-pw"
	opts := BuildOptions{WorkDir: t.TempDir(), Dependencies: &DependencyOptions{SourceRoot: root,
		Registry: func(url string) (RegistryHost, error) {
			return RegistryHost{Username: "oci-user", Password: password, Insecure: true}, nil
		}}}
	res, err := BuildDir(context.Background(), filepath.Join(root, "app"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := untar(t, res.Data)["app/charts/db/Chart.yaml"]; !strings.Contains(got, "version: 1.2.0") {
		t.Errorf("db/Chart.yaml = %q", got)
	}
	checkHome()
	password = "nope"
	if _, err := BuildDir(context.Background(), filepath.Join(root, "app"), opts); !errors.Is(err, ErrAuthentication) || strings.Contains(err.Error(), password) {
		t.Errorf("wrong password: %v", err)
	}
}
