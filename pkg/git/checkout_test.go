package git_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

const (
	testUser     = "flux"
	testPassword = "pa55w0rd-do-not-leak"
)

// testContext bounds every test's git operations.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// basicAuth returns credentials for the basic-auth test server.
func basicAuth(t *testing.T, url string) *git.Auth {
	t.Helper()
	a, err := git.AuthFromSecret(url, map[string][]byte{"username": []byte(testUser), "password": []byte(testPassword)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkout runs Checkout into a fresh directory and returns the commit and directory.
func checkout(t *testing.T, opts git.Options) (*git.Commit, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "checkout")
	c, err := git.Checkout(testContext(t), dir, opts)
	if err != nil {
		t.Fatalf("Checkout(%s): %v", opts.Ref, err)
	}
	return c, dir
}

// readFile returns a checked out file's content, or "<missing>".
func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if errors.Is(err, os.ErrNotExist) {
		return "<missing>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheckout_HTTPBasicAuth_ResolvesEveryRefKind(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: testUser, Password: testPassword})
	repo := srv.CreateRepo(t, "org/app")
	first := repo.Commit(t, map[string]string{"version.txt": "1.0.0", "README.md": "app"}, "release 1.0.0")
	repo.Tag(t, "v1.0.0")
	second := repo.Commit(t, map[string]string{"version.txt": "1.1.0"}, "release 1.1.0")
	repo.AnnotatedTag(t, "v1.1.0", "annotated release")
	repo.Tag(t, "not-a-version")
	third := repo.Commit(t, map[string]string{"version.txt": "2.0.0-rc.1"}, "release candidate")
	repo.Tag(t, "v2.0.0-rc.1")
	repo.PushRef(t, "refs/pull/7/head")
	repo.Branch(t, "master")
	repo.Branch(t, "feature/x")
	feature := repo.Commit(t, map[string]string{"version.txt": "feature"}, "feature work\n\nwith a body")

	url := srv.URL("org/app")
	tests := []struct {
		name         string
		ref          git.Ref
		wantHash     string
		wantRevision string
		wantVersion  string
	}{
		{"branch", git.Ref{Branch: "main"}, third, "main@sha1:" + third, "2.0.0-rc.1"},
		{"branch with a slash", git.Ref{Branch: "feature/x"}, feature, "feature/x@sha1:" + feature, "feature"},
		{"empty ref is branch master", git.Ref{}, third, "master@sha1:" + third, "2.0.0-rc.1"},
		{"lightweight tag", git.Ref{Tag: "v1.0.0"}, first, "v1.0.0@sha1:" + first, "1.0.0"},
		{"annotated tag peels to the commit", git.Ref{Tag: "v1.1.0"}, second, "v1.1.0@sha1:" + second, "1.1.0"},
		{"semver picks the highest match", git.Ref{SemVer: ">=1.0.0 <2.0.0"}, second, "v1.1.0@sha1:" + second, "1.1.0"},
		{"semver beats tag and branch", git.Ref{Branch: "main", Tag: "v1.1.0", SemVer: "~1.0"}, first, "v1.0.0@sha1:" + first, "1.0.0"},
		{"name is reported in full", git.Ref{Name: "refs/pull/7/head"}, third, "refs/pull/7/head@sha1:" + third, "2.0.0-rc.1"},
		{"name of a tag", git.Ref{Name: "refs/tags/v1.1.0"}, second, "refs/tags/v1.1.0@sha1:" + second, "1.1.0"},
		{"name beats semver", git.Ref{SemVer: "*", Name: "refs/heads/main"}, third, "refs/heads/main@sha1:" + third, "2.0.0-rc.1"},
		{"commit alone", git.Ref{Commit: first}, first, "sha1:" + first, "1.0.0"},
		{"commit on a branch", git.Ref{Branch: "main", Commit: second}, second, "main@sha1:" + second, "1.1.0"},
		{"commit beats everything", git.Ref{Tag: "v1.0.0", Name: "refs/heads/main", Commit: second}, second, "sha1:" + second, "1.1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := git.Options{URL: url, Auth: basicAuth(t, url), Ref: tt.ref, Timeout: 30 * time.Second}
			rev, err := git.Resolve(testContext(t), opts)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			c, dir := checkout(t, opts)
			if c.Hash != tt.wantHash || c.Revision != tt.wantRevision {
				t.Errorf("Checkout = %s %s, want %s %s", c.Hash, c.Revision, tt.wantHash, tt.wantRevision)
			}
			if rev != c.Revision {
				t.Errorf("Resolve = %s, Checkout revision = %s", rev, c.Revision)
			}
			if got := readFile(t, dir, "version.txt"); got != tt.wantVersion {
				t.Errorf("version.txt = %q, want %q", got, tt.wantVersion)
			}
			if c.Unchanged {
				t.Error("Unchanged set on a fresh checkout")
			}
		})
	}

	c, _ := checkout(t, git.Options{URL: url, Auth: basicAuth(t, url), Ref: git.Ref{Branch: "feature/x"}})
	if c.Message != "feature work\n\nwith a body\n" || c.ShortMessage() != "feature work" {
		t.Errorf("message = %q, short %q", c.Message, c.ShortMessage())
	}
	if c.Author.Name != "Test Author" || c.Author.Email != "author@example.com" || c.Committer.When.IsZero() {
		t.Errorf("author = %+v, committer = %+v", c.Author, c.Committer)
	}
}

func TestCheckout_MissingReferencesAndRepositories(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	repo := srv.CreateRepo(t, "app")
	head := repo.Commit(t, map[string]string{"a": "1"}, "first")
	srv.CreateRepo(t, "empty")
	url := srv.URL("app")

	tests := []struct {
		name string
		opts git.Options
		want error
	}{
		{"branch", git.Options{URL: url, Ref: git.Ref{Branch: "nope"}}, git.ErrReferenceNotFound},
		{"tag", git.Options{URL: url, Ref: git.Ref{Tag: "v9"}}, git.ErrReferenceNotFound},
		{"semver", git.Options{URL: url, Ref: git.Ref{SemVer: ">=1.0.0"}}, git.ErrReferenceNotFound},
		{"commit", git.Options{URL: url, Ref: git.Ref{Commit: strings.Repeat("ab", 20)}}, git.ErrReferenceNotFound},
		{"commit not on the branch", git.Options{URL: url, Ref: git.Ref{Branch: "nope", Commit: head}}, git.ErrReferenceNotFound},
		{"empty repository", git.Options{URL: srv.URL("empty"), Ref: git.Ref{Branch: "main"}}, git.ErrReferenceNotFound},
		{"repository", git.Options{URL: srv.URL("missing"), Ref: git.Ref{Branch: "main"}}, git.ErrRepositoryNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := git.Checkout(testContext(t), t.TempDir(), tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Checkout error = %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

func TestCheckout_WrongPasswordErrorOmitsCredentials(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: testUser, Password: testPassword})
	srv.CreateRepo(t, "app").Commit(t, map[string]string{"a": "1"}, "first")
	url := srv.URL("app")
	const wrong = "wr0ng-secret-value"

	withSecret, err := git.AuthFromSecret(url, map[string][]byte{"username": []byte(testUser), "password": []byte(wrong)})
	if err != nil {
		t.Fatal(err)
	}
	inURL := strings.Replace(url, "://", "://"+testUser+":"+wrong+"@", 1)
	for name, opts := range map[string]git.Options{
		"secret":       {URL: url, Auth: withSecret, Ref: git.Ref{Branch: "main"}},
		"URL userinfo": {URL: inURL, Ref: git.Ref{Branch: "main"}},
		"no password":  {URL: url, Ref: git.Ref{Branch: "main"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, resolveErr := git.Resolve(testContext(t), opts)
			_, checkoutErr := git.Checkout(testContext(t), t.TempDir(), opts)
			for _, err := range []error{resolveErr, checkoutErr} {
				if !errors.Is(err, git.ErrAuthentication) {
					t.Fatalf("error = %v, want ErrAuthentication", err)
				}
				t.Log(err)
				if msg := err.Error(); strings.Contains(msg, wrong) || strings.Contains(msg, testPassword) || strings.Contains(msg, "@127.0.0.1") {
					t.Errorf("error text leaks credentials: %s", msg)
				}
			}
		})
	}

	// The right password in the URL's userinfo works too.
	good := strings.Replace(url, "://", "://"+testUser+":"+testPassword+"@", 1)
	if _, err := git.Resolve(testContext(t), git.Options{URL: good, Ref: git.Ref{Branch: "main"}}); err != nil {
		t.Fatalf("Resolve with userinfo: %v", err)
	}
}

func TestCheckout_BearerToken(t *testing.T) {
	const token = "tok-0123456789"
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{BearerToken: token})
	head := srv.CreateRepo(t, "app").Commit(t, map[string]string{"a": "1"}, "first")
	url := srv.URL("app")

	auth, err := git.AuthFromSecret(url, map[string][]byte{"bearerToken": []byte(token)})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := checkout(t, git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}})
	if c.Hash != head {
		t.Fatalf("hash = %s, want %s", c.Hash, head)
	}

	bad, err := git.AuthFromSecret(url, map[string][]byte{"bearerToken": []byte("tok-wrong-value")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = git.Resolve(testContext(t), git.Options{URL: url, Auth: bad, Ref: git.Ref{Branch: "main"}})
	if !errors.Is(err, git.ErrAuthentication) || strings.Contains(err.Error(), "tok-wrong-value") {
		t.Fatalf("Resolve with a wrong token: %v", err)
	}
}

func TestCheckout_HTTPSWithCustomCA(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{TLS: true, Username: testUser, Password: testPassword})
	head := srv.CreateRepo(t, "app").Commit(t, map[string]string{"a": "1"}, "first")
	url := srv.URL("app")
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("URL %s is not https", url)
	}

	_, err := git.Resolve(testContext(t), git.Options{URL: url, Auth: basicAuth(t, url), Ref: git.Ref{Branch: "main"}})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Resolve without the CA: %v, want a certificate error", err)
	}

	for _, key := range []string{"ca.crt", "caFile"} {
		t.Run(key, func(t *testing.T) {
			auth, err := git.AuthFromSecret(url, map[string][]byte{
				"username": []byte(testUser), "password": []byte(testPassword), key: srv.CACert(),
			})
			if err != nil {
				t.Fatal(err)
			}
			c, _ := checkout(t, git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}})
			if c.Hash != head {
				t.Fatalf("hash = %s, want %s", c.Hash, head)
			}
		})
	}
}

func TestResolve_FollowsNewCommitsAndCheckoutSkipsUnchanged(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	repo := srv.CreateRepo(t, "app")
	first := repo.Commit(t, map[string]string{"a": "1"}, "first")
	opts := git.Options{URL: srv.URL("app"), Ref: git.Ref{Branch: "main"}}

	rev, err := git.Resolve(testContext(t), opts)
	if err != nil || rev != "main@sha1:"+first {
		t.Fatalf("Resolve = %q, %v", rev, err)
	}

	for _, last := range []string{rev, "main/" + first} { // current and legacy formats
		opts.LastRevision = last
		dir := filepath.Join(t.TempDir(), "skip")
		c, err := git.Checkout(testContext(t), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Unchanged || c.Revision != rev || c.Hash != first {
			t.Errorf("LastRevision %q: Checkout = %+v, want unchanged %s", last, c, rev)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("LastRevision %q: the directory was created", last)
		}
	}

	second := repo.Commit(t, map[string]string{"a": "2"}, "second")
	rev2, err := git.Resolve(testContext(t), opts)
	if err != nil || rev2 != "main@sha1:"+second {
		t.Fatalf("Resolve after a new commit = %q, %v", rev2, err)
	}
	opts.LastRevision = rev
	c, dir := checkout(t, opts)
	if c.Unchanged || c.Revision != rev2 || readFile(t, dir, "a") != "2" {
		t.Fatalf("Checkout after a new commit = %+v", c)
	}
}

func TestCheckout_ServerOutageAndRecovery(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: testUser, Password: testPassword})
	head := srv.CreateRepo(t, "app").Commit(t, map[string]string{"a": "1"}, "first")
	url := srv.URL("app")
	opts := git.Options{URL: url, Auth: basicAuth(t, url), Ref: git.Ref{Branch: "main"}, Timeout: 10 * time.Second}

	checkout(t, opts)
	srv.Stop()
	if _, err := git.Resolve(testContext(t), opts); err == nil {
		t.Fatal("Resolve succeeded while the server was down")
	}
	if _, err := git.Checkout(testContext(t), t.TempDir(), opts); err == nil {
		t.Fatal("Checkout succeeded while the server was down")
	} else if strings.Contains(err.Error(), testPassword) {
		t.Fatalf("error leaks the password: %v", err)
	}
	srv.Start()
	c, _ := checkout(t, opts)
	if c.Hash != head {
		t.Fatalf("hash after recovery = %s, want %s", c.Hash, head)
	}
}
