package build

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// basesRepo serves a repository "bases" over HTTP on loopback: base/
// includes ../common (a remote base may reach the rest of its repository),
// and tag v1 holds an older ConfigMap.
func basesRepo(t *testing.T) *gitserver.HTTPServer {
	t.Helper()
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	repo := srv.CreateRepo(t, "bases")
	repo.Commit(t, map[string]string{
		"base/kustomization.yaml":   "resources:\n- cm.yaml\n- ../common\n",
		"base/cm.yaml":              configMap("from-v1"),
		"common/kustomization.yaml": "resources:\n- sa.yaml\n",
		"common/sa.yaml":            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: common\n",
	}, "v1")
	repo.Tag(t, "v1")
	repo.Commit(t, map[string]string{"base/cm.yaml": configMap("from-main")}, "main")
	return srv
}

// overlayOf is an artifact whose apps/ kustomization names entry.
func overlayOf(t *testing.T, entry string) filesys.FileSystem {
	return memFS(t, map[string]string{
		"apps/kustomization.yaml": "namePrefix: app-\nresources:\n- " + entry + "\n",
	})
}

func remoteOptions(t *testing.T) Options {
	return Options{Path: "apps", AllowRemoteBases: true, Remote: RemoteOptions{TmpDir: t.TempDir(), Timeout: 30 * time.Second}}
}

func TestBuild_RemoteGitBaseBuildsFromMemory(t *testing.T) {
	srv := basesRepo(t)
	for _, tt := range []struct {
		name, entry string
		want        []string
	}{
		{"branch", srv.URL("bases") + "//base?ref=main", []string{"ServiceAccount//app-common", "ConfigMap//app-from-main"}},
		{"tag", srv.URL("bases") + "//base?ref=v1", []string{"ServiceAccount//app-common", "ConfigMap//app-from-v1"}},
		{"no ref is the default branch", srv.URL("bases") + "//base", []string{"ServiceAccount//app-common", "ConfigMap//app-from-main"}},
		{"the .git marker", srv.URL("bases") + "/base?ref=main", []string{"ServiceAccount//app-common", "ConfigMap//app-from-main"}},
		{"git:: prefix", "git::" + srv.URL("bases") + "//common?version=v1", []string{"ServiceAccount//app-common"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := overlayOf(t, tt.entry)
			opts := remoteOptions(t)
			objs, err := BuildContext(context.Background(), fs, opts)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if diff := cmp.Diff(tt.want, ids(objs)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			// The artifact is as it was, and no clone is left on disk.
			if data, _ := fs.ReadFile("/apps/kustomization.yaml"); !strings.Contains(string(data), tt.entry) {
				t.Errorf("kustomization not restored:\n%s", data)
			}
			if fs.Exists(remoteRoot) {
				t.Errorf("%s left in the file system", remoteRoot)
			}
			if entries, _ := os.ReadDir(opts.Remote.TmpDir); len(entries) != 0 {
				t.Errorf("%d entries left in the temporary directory", len(entries))
			}
		})
	}
}

func TestBuild_RemoteGitBaseIsRefusedWithoutTheOption(t *testing.T) {
	srv := basesRepo(t)
	entry := srv.URL("bases") + "//base?ref=main"
	before := srv.Requests()
	_, err := Build(overlayOf(t, entry), Options{Path: "apps"})
	if err == nil || !strings.Contains(err.Error(), "remote bases are not allowed: "+entry) {
		t.Fatalf("error = %v, want the refusal", err)
	}
	if n := srv.Requests() - before; n != 0 {
		t.Errorf("the git server got %d requests", n)
	}
}

func TestBuild_RemoteBasesInRemoteBasesAreFetchedToo(t *testing.T) {
	srv := basesRepo(t)
	outer := srv.CreateRepo(t, "outer")
	outer.Commit(t, map[string]string{
		"kustomization.yaml": "resources:\n- " + srv.URL("bases") + "//common?ref=main\n- cm.yaml\n",
		"cm.yaml":            configMap("outer"),
	}, "outer")
	objs, err := BuildContext(context.Background(), overlayOf(t, srv.URL("outer")+"?ref=main"), remoteOptions(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if diff := cmp.Diff([]string{"ServiceAccount//app-common", "ConfigMap//app-outer"}, ids(objs)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func TestBuild_RemoteBasesObeyTheNetworkGuard(t *testing.T) {
	srv := basesRepo(t)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(configMap("file")))
	}))
	t.Cleanup(files.Close)
	guard, err := netguard.Parse([]string{"loopback"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := netguard.WithContext(context.Background(), guard)
	for _, entry := range []string{srv.URL("bases") + "//base?ref=main", files.URL + "/cm.yaml"} {
		_, err := BuildContext(ctx, overlayOf(t, entry), remoteOptions(t))
		if !errors.Is(err, netguard.ErrRefused) {
			t.Errorf("%s: error = %v, want the guard's refusal", entry, err)
		}
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("the git server got %d requests", n)
	}
}

func TestBuild_RemoteBasesAreSizeBounded(t *testing.T) {
	srv := basesRepo(t)
	entry := srv.URL("bases") + "//base?ref=main"

	opts := remoteOptions(t)
	opts.Remote.MaxFetchSize = 512
	_, err := BuildContext(context.Background(), overlayOf(t, entry), opts)
	if !errors.Is(err, git.ErrFetchTooLarge) {
		t.Errorf("clone over MaxFetchSize: error = %v, want ErrFetchTooLarge", err)
	}
	if entries, _ := os.ReadDir(opts.Remote.TmpDir); len(entries) != 0 {
		t.Errorf("%d entries left in the temporary directory", len(entries))
	}

	opts = remoteOptions(t)
	opts.Remote.MaxSize = 100
	_, err = BuildContext(context.Background(), overlayOf(t, entry), opts)
	if !errors.Is(err, artifact.ErrTooLarge) {
		t.Errorf("tree over MaxSize: error = %v, want ErrTooLarge", err)
	}
}

func TestBuild_RemoteFilesAreFetchedByUs(t *testing.T) {
	var requests atomic.Int64
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch r.URL.Path {
		case "/cm.yaml":
			_, _ = w.Write([]byte(configMap("file")))
		case "/patch.yaml":
			_, _ = w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: file\ndata:\n  patched: \"yes\"\n"))
		case "/greeting.txt":
			_, _ = w.Write([]byte("hello"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(files.Close)
	fs := memFS(t, map[string]string{
		"apps/kustomization.yaml": "resources:\n- " + files.URL + "/cm.yaml\n" +
			"patches:\n- path: " + files.URL + "/patch.yaml\n" +
			"configMapGenerator:\n- name: gen\n  files:\n  - message=" + files.URL + "/greeting.txt\n" +
			"generatorOptions:\n  disableNameSuffixHash: true\n",
	})
	objs, err := BuildContext(context.Background(), fs, remoteOptions(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if got := nestedString(t, find(t, objs, "ConfigMap", "file"), "data", "patched"); got != "yes" {
		t.Errorf("the remote patch was not applied: patched = %q", got)
	}
	if got := nestedString(t, find(t, objs, "ConfigMap", "gen"), "data", "message"); got != "hello" {
		t.Errorf("generator source: message = %q", got)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d requests, want one per file", n)
	}

	_, err = BuildContext(context.Background(), overlayOf(t, files.URL+"/missing.yaml"), remoteOptions(t))
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing file: error = %v, want the server's 404", err)
	}
}

func TestBuild_RemoteBasesRefuseSSHAndLocalRepositories(t *testing.T) {
	for entry, want := range map[string]string{
		"git@github.com:example/repo.git//deploy":    "SSH needs keys",
		"ssh://git@example.com/org/repo.git//deploy": "SSH needs keys",
		"deploy@gitlab.example.com:group/repo":       "SSH needs keys",
		"file:///var/lib/repo.git//deploy":           "file:// repositories would be read from this server's disk",
		"https://example.com/org/repo//../../etc":    "leaves the repository",
	} {
		_, err := BuildContext(context.Background(), overlayOf(t, entry), remoteOptions(t))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "/apps/kustomization.yaml") {
			t.Errorf("%s: error = %v, want %q naming the kustomization", entry, err, want)
		}
	}
}

func TestParseGitSpec_KustomizeForms(t *testing.T) {
	for _, tt := range []struct {
		entry    string
		notGit   bool
		scheme   string
		cloneURL string
		dir, ref string
	}{
		{entry: "https://github.com/org/repo//deploy/prod?ref=v1", scheme: "https", cloneURL: "https://github.com/org/repo", dir: "deploy/prod", ref: "v1"},
		{entry: "github.com/org/repo/deploy?ref=main", scheme: "https", cloneURL: "https://github.com/org/repo", dir: "deploy", ref: "main"},
		{entry: "https://example.com/org/repo.git/deploy", scheme: "https", cloneURL: "https://example.com/org/repo.git", dir: "deploy"},
		{entry: "http://127.0.0.1:8080/repo.git//base?ref=main", scheme: "http", cloneURL: "http://127.0.0.1:8080/repo.git", dir: "base", ref: "main"},
		{entry: "https://user@dev.azure.com/org/project/_git/repo/path/x?version=v2", scheme: "https", cloneURL: "https://dev.azure.com/org/project/_git/repo", dir: "path/x", ref: "v2"},
		{entry: "git@github.com:org/repo.git//deploy", scheme: "ssh", cloneURL: "git@github.com:org/repo.git", dir: "deploy"},
		{entry: "ssh://git@example.com/org/repo", scheme: "ssh", cloneURL: "ssh://git@example.com/org/repo"},
		{entry: "git::https://example.com/org/repo.git", scheme: "https", cloneURL: "https://example.com/org/repo.git"},
		{entry: "file:///srv/repo", scheme: "file", cloneURL: "file:///srv/repo"},
		{entry: "../base", notGit: true},
		{entry: "gitlab.com/example/repo?ref=main", notGit: true},
		{entry: "https://example.com/deploy.yaml", notGit: true},
	} {
		spec, ok, err := parseGitSpec(tt.entry)
		if err != nil {
			t.Errorf("%s: %v", tt.entry, err)
			continue
		}
		if ok == tt.notGit {
			t.Errorf("%s: git = %t", tt.entry, ok)
			continue
		}
		if ok && (spec.scheme != tt.scheme || spec.cloneURL != tt.cloneURL || spec.dir != tt.dir || spec.ref != tt.ref) {
			t.Errorf("%s: got scheme %q URL %q dir %q ref %q", tt.entry, spec.scheme, spec.cloneURL, spec.dir, spec.ref)
		}
	}
	for entry, git := range map[string]bool{
		"https://github.com/org/repo":                                  true,
		"https://github.com/org/repo/releases/download/v1/deploy.yaml": false,
		"https://example.com/org/repo//deploy":                         true,
		"https://example.com/manifests/deploy.yaml":                    false,
		"https://example.com/org/repo?ref=v1":                          true,
	} {
		if got := isGitHTTPURL(entry); got != git {
			t.Errorf("isGitHTTPURL(%s) = %t", entry, got)
		}
	}
}
