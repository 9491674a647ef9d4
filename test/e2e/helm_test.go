package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm/helmtest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// helmRepoServer is a static Helm HTTP repository behind basic auth.
type helmRepoServer struct {
	*httptest.Server
	mu     sync.Mutex
	charts map[string][]byte // file name → packaged chart
	index  string
}

func newHelmRepoServer(t *testing.T, user, password string) *helmRepoServer {
	s := &helmRepoServer{charts: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.URL.Path == "/charts/index.yaml" {
			fmt.Fprint(w, s.index)
			return
		}
		data, ok := s.charts[strings.TrimPrefix(r.URL.Path, "/charts/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

// publish adds a version of chart name and rewrites index.yaml with
// relative URLs and digests, as `helm repo index` does.
func (s *helmRepoServer) publish(t *testing.T, name, version string) []byte {
	data := helmChartArchive(t, name, version)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.charts[fmt.Sprintf("%s-%s.tgz", name, version)] = data
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nentries:\n  %s:\n", name)
	for file, chart := range s.charts {
		v := strings.TrimSuffix(strings.TrimPrefix(file, name+"-"), ".tgz")
		sum := sha256.Sum256(chart)
		fmt.Fprintf(&b, "  - apiVersion: v2\n    name: %s\n    version: %s\n    digest: %s\n    created: \"2026-01-02T03:04:05Z\"\n    urls:\n    - %s\n",
			name, v, hex.EncodeToString(sum[:]), file)
	}
	b.WriteString("generated: \"2026-01-02T03:04:05Z\"\n")
	s.index = b.String()
	return data
}

func helmChartArchive(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, content string }{
		{name + "/Chart.yaml", "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n"},
		{name + "/values.yaml", "replicaCount: 1\n"},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func helmRepositoryFrom(ns, name, url string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: %s
  namespace: %s
spec:
  interval: 1m
  url: %s
  secretRef:
    name: helm-auth
`, name, ns, url)
}

func helmChartFrom(ns, name, chart, version, repo string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: %s
  namespace: %s
spec:
  interval: 1m
  chart: %s
  version: %q
  sourceRef:
    kind: HelmRepository
    name: %s
`, name, ns, chart, version, repo)
}

// TestHelm_RepositoryIndexAndChartFromIt follows a HelmRepository (basic
// auth, static HTTP repository on loopback) and a HelmChart with a semver
// range: the chart artifact is the packaged chart of the highest matching
// version, served by /artifact; a newly published version is pulled after
// /reconcile; a missing chart makes the HelmChart Ready=False.
func TestHelm_RepositoryIndexAndChartFromIt(t *testing.T) {
	srv := newHelmRepoServer(t, "helm-user", "helm-Pass-31")
	srv.publish(t, "app", "1.0.0")
	srv.publish(t, "app", "2.0.0")
	ns := namespace(t, "it-helm")
	kubectl(t, "create", "secret", "generic", "helm-auth", "-n", ns, "--from-literal=username=helm-user", "--from-literal=password=helm-Pass-31")
	apply(t, helmRepositoryFrom(ns, "charts", srv.URL+"/charts"))
	apply(t, helmChartFrom(ns, "app", "app", ">=1.0.0 <2.0.0", "charts"))

	repo := waitForObject(t, "helmrepositories", ns, "charts", 90*time.Second, "Ready", readyAt)
	firstIndex := nested(repo, "status", "artifact", "revision")
	if !strings.HasPrefix(firstIndex, "sha256:") {
		t.Errorf("HelmRepository revision %q", firstIndex)
	}
	if _, reason, msg := condition(repo, "Ready"); reason != "Succeeded" || msg != "stored artifact for revision '"+firstIndex+"'" {
		t.Errorf("HelmRepository Ready reason %q message %q", reason, msg)
	}

	chart := waitForObject(t, "helmcharts", ns, "app", 90*time.Second, "Ready at 1.0.0", revisionIs("1.0.0"))
	if _, reason, msg := condition(chart, "Ready"); reason != "ChartPullSucceeded" || msg != "pulled 'app' chart with version '1.0.0'" {
		t.Errorf("HelmChart Ready reason %q message %q", reason, msg)
	}
	if got := nested(chart, "status", "observedChartName"); got != "app" {
		t.Errorf("observedChartName = %q", got)
	}
	if got := nested(chart, "status", "observedSourceArtifactRevision"); got != firstIndex {
		t.Errorf("observedSourceArtifactRevision = %q, want %q", got, firstIndex)
	}
	checkChartArtifact(t, chart, ns, "app", "1.0.0")

	t.Run("a new version in the index is pulled after reconcile", func(t *testing.T) {
		srv.publish(t, "app", "1.1.0")
		requestReconcile(t, ns, "helmrepositories", "charts", "")
		waitForObject(t, "helmrepositories", ns, "charts", 30*time.Second, "a new index revision", func(o map[string]interface{}) bool {
			return readyAt(o) && nested(o, "status", "artifact", "revision") != firstIndex
		})
		requestReconcile(t, ns, "helmcharts", "app", "")
		chart := waitForObject(t, "helmcharts", ns, "app", 30*time.Second, "Ready at 1.1.0 (interval is 1m)", revisionIs("1.1.0"))
		checkChartArtifact(t, chart, ns, "app", "1.1.0")
	})

	t.Run("a missing chart is reported", func(t *testing.T) {
		apply(t, helmChartFrom(ns, "missing", "nope", "*", "charts"))
		waitForObject(t, "helmcharts", ns, "missing", 60*time.Second, "Ready=False naming the chart", func(o map[string]interface{}) bool {
			s, _, msg := condition(o, "Ready")
			return s == "False" && strings.Contains(msg, "no chart 'nope'")
		})
	})
}

// checkChartArtifact downloads the HelmChart's /artifact and checks it is
// the packaged chart of version with the digest in status.
func checkChartArtifact(t *testing.T, obj map[string]interface{}, ns, name, version string) {
	t.Helper()
	artifactPath := "/apis/source.toolkit.fluxcd.io/v1/namespaces/" + ns + "/helmcharts/" + name + "/artifact"
	if got := nested(obj, "status", "artifact", "url"); got != artifactPath {
		t.Errorf("status.artifact.url = %q, want %q", got, artifactPath)
	}
	data, err := kubectlStdout(t, "", "get", "--raw", artifactPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if digest := nested(obj, "status", "artifact", "digest"); "sha256:"+hex.EncodeToString(sum[:]) != digest {
		t.Fatalf("sha256 of /artifact = %x, status.artifact.digest = %s", sum, digest)
	}
	dir := t.TempDir()
	if err := artifact.Extract(bytes.NewReader(data), dir, artifact.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "app", "Chart.yaml"))
	if err != nil || !strings.Contains(string(b), "version: "+version+"\n") {
		t.Errorf("app/Chart.yaml = %q (%v), want version %s", b, err, version)
	}
}

func helmChartFromGit(ns, name, repo, strategy string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: %s
  namespace: %s
spec:
  interval: 1m
  chart: ./charts/app
  reconcileStrategy: %s
  valuesFiles:
  - charts/app/values.yaml
  - charts/app/values-prod.yaml
  sourceRef:
    kind: GitRepository
    name: %s
`, name, ns, strategy, repo)
}

// TestHelm_ChartPackagedFromGitRepository packages a chart directory of a
// GitRepository with its values files merged (paths relative to the source
// root, as in Flux), versions it by chart version or by source revision,
// and follows new commits of the source.
func TestHelm_ChartPackagedFromGitRepository(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: "pw"})
	repo := srv.CreateRepo(t, "charts")
	first := repo.Commit(t, map[string]string{
		"charts/app/Chart.yaml":        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"charts/app/values.yaml":       "replicas: 1\nimage:\n  repo: app\n  tag: dev\n",
		"charts/app/values-prod.yaml":  "image:\n  tag: prod\n",
		"charts/app/templates/cm.yaml": "kind: ConfigMap\n",
		"README.md":                    "charts\n",
	}, "chart 0.1.0")
	ns := namespace(t, "it-helm-git")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=pw")
	apply(t, gitRepositoryFrom(ns, "charts", srv.URL("charts"), "branch: main"))
	apply(t, helmChartFromGit(ns, "app", "charts", "ChartVersion"))

	chart := waitForObject(t, "helmcharts", ns, "app", 90*time.Second, "Ready at 0.1.0", revisionIs("0.1.0"))
	if _, reason, msg := condition(chart, "Ready"); reason != "ChartPackageSucceeded" || msg != "packaged 'app' chart with version '0.1.0'" {
		t.Errorf("Ready reason %q message %q", reason, msg)
	}
	if got := nested(chart, "status", "observedSourceArtifactRevision"); got != "main@sha1:"+first {
		t.Errorf("observedSourceArtifactRevision = %q", got)
	}
	if got := nested(chart, "status", "observedChartName"); got != "app" {
		t.Errorf("observedChartName = %q", got)
	}
	checkChartArtifact(t, chart, ns, "app", "0.1.0")
	files := artifactFiles(t, ns, "helmcharts", "app")
	if want := "image:\n  repo: app\n  tag: prod\nreplicas: 1\n"; files["app/values.yaml"] != want {
		t.Errorf("app/values.yaml = %q, want %q", files["app/values.yaml"], want)
	}
	if files["app/templates/cm.yaml"] != "kind: ConfigMap\n" || files["app/values-prod.yaml"] == "" || files["README.md"] != "" {
		t.Errorf("artifact files %v", files)
	}

	apply(t, helmChartFromGit(ns, "app", "charts", "Revision"))
	want := "0.1.0+" + first[:12]
	chart = waitForObject(t, "helmcharts", ns, "app", 60*time.Second, "Ready at "+want, revisionIs(want))
	checkChartArtifact(t, chart, ns, "app", want)

	second := repo.Commit(t, map[string]string{"charts/app/values-prod.yaml": "image:\n  tag: prod2\n"}, "prod2")
	requestReconcile(t, ns, "gitrepositories", "charts", "")
	want = "0.1.0+" + second[:12]
	waitForObject(t, "helmcharts", ns, "app", 60*time.Second, "Ready at "+want+" (interval is 1m)", revisionIs(want))
	if got := artifactFiles(t, ns, "helmcharts", "app")["app/values.yaml"]; got != "image:\n  repo: app\n  tag: prod2\nreplicas: 1\n" {
		t.Errorf("app/values.yaml after the new commit = %q", got)
	}
}

// TestHelm_ChartFromOCIHelmRepository pulls a chart from an OCI registry on
// loopback through a HelmRepository of type oci (a static object, as in
// Flux since v1.2) with a docker-registry Secret: the highest version in
// the range is the artifact, a new tag is pulled after /reconcile, and the
// HelmRepository itself never gets a status.
func TestHelm_ChartFromOCIHelmRepository(t *testing.T) {
	const password = "oci-helm-Pass-77"
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "flux", Password: password})
	push := helmtest.PushOptions{Username: "flux", Password: password}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		helmtest.Push(t, reg.Host, "charts", helmtest.SimpleChart(t, "app", v), push)
	}
	ns := namespace(t, "it-helm-oci")
	kubectl(t, "create", "secret", "docker-registry", "oci-auth", "-n", ns,
		"--docker-server="+reg.Host, "--docker-username=flux", "--docker-password="+password)
	apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: oci
  namespace: %s
spec:
  type: oci
  insecure: true
  interval: 1m
  url: %s
  secretRef:
    name: oci-auth
`, ns, reg.URL("charts")))
	apply(t, helmChartFrom(ns, "app", "app", ">=1.0.0 <2.0.0", "oci"))

	chart := waitForObject(t, "helmcharts", ns, "app", 90*time.Second, "Ready at 1.1.0", revisionIs("1.1.0"))
	if _, reason, msg := condition(chart, "Ready"); reason != "ChartPullSucceeded" || msg != "pulled 'app' chart with version '1.1.0'" {
		t.Errorf("HelmChart Ready reason %q message %q", reason, msg)
	}
	checkChartArtifact(t, chart, ns, "app", "1.1.0")
	if repo := getObject(t, "helmrepositories", ns, "oci"); nested(repo, "status", "artifact", "revision") != "" || nested(repo, "status", "url") != "" {
		t.Errorf("an oci HelmRepository has an artifact: %v", repo["status"])
	} else if _, reason, _ := condition(repo, "Ready"); reason != "" {
		t.Errorf("an oci HelmRepository has conditions: %v", repo["status"])
	}

	helmtest.Push(t, reg.Host, "charts", helmtest.SimpleChart(t, "app", "1.2.0"), push)
	requestReconcile(t, ns, "helmcharts", "app", "")
	chart = waitForObject(t, "helmcharts", ns, "app", 30*time.Second, "Ready at 1.2.0 (interval is 1m)", revisionIs("1.2.0"))
	checkChartArtifact(t, chart, ns, "app", "1.2.0")
	if strings.Contains(kubectl(t, "get", "helmcharts", "-n", ns, "app", "-o", "yaml"), password) {
		t.Error("the password shows in the HelmChart")
	}
}

// TestHelm_ChartFromGitRepositoryBuildsDependencies packages a chart of a
// GitRepository whose dependency is not vendored: it is downloaded from a
// Helm repository behind basic auth with the credentials of the
// HelmRepository of the namespace that has that URL, as in Flux.
func TestHelm_ChartFromGitRepositoryBuildsDependencies(t *testing.T) {
	helmSrv := newHelmRepoServer(t, "dep-user", "dep-Pass-19")
	helmSrv.publish(t, "redis", "1.3.0")
	gitSrv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: "flux", Password: "pw"})
	repo := gitSrv.CreateRepo(t, "charts")
	repo.Commit(t, map[string]string{
		"charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.2.0\ndependencies:\n" +
			"- name: redis\n  version: ^1.0.0\n  repository: " + helmSrv.URL + "/charts\n",
		"charts/app/templates/cm.yaml": "kind: ConfigMap\n",
	}, "chart with a dependency")
	ns := namespace(t, "it-helm-deps")
	kubectl(t, "create", "secret", "generic", "git-auth", "-n", ns, "--from-literal=username=flux", "--from-literal=password=pw")
	kubectl(t, "create", "secret", "generic", "helm-auth", "-n", ns, "--from-literal=username=dep-user", "--from-literal=password=dep-Pass-19")
	apply(t, helmRepositoryFrom(ns, "deps", helmSrv.URL+"/charts/"))
	apply(t, gitRepositoryFrom(ns, "charts", gitSrv.URL("charts"), "branch: main"))
	apply(t, fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: app
  namespace: %s
spec:
  interval: 1m
  chart: charts/app
  sourceRef:
    kind: GitRepository
    name: charts
`, ns))
	chart := waitForObject(t, "helmcharts", ns, "app", 90*time.Second, "Ready at 0.2.0", revisionIs("0.2.0"))
	if _, reason, msg := condition(chart, "Ready"); reason != "ChartPackageSucceeded" || msg != "packaged 'app' chart with version '0.2.0'" {
		t.Errorf("Ready reason %q message %q", reason, msg)
	}
	files := artifactFiles(t, ns, "helmcharts", "app")
	if !strings.Contains(files["app/charts/redis/Chart.yaml"], "version: 1.3.0") || files["app/templates/cm.yaml"] == "" {
		t.Errorf("artifact files %v", files)
	}
}
