package git_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// authLog records the Authorization headers a server received.
type authLog struct {
	mu      sync.Mutex
	headers []string
}

func (l *authLog) observe(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.headers = append(l.headers, r.Header.Get("Authorization"))
}

func (l *authLog) sent() (requests int, withAuth int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.headers {
		if h != "" {
			withAuth++
		}
	}
	return len(l.headers), withAuth
}

// otherHost names a loopback server by "localhost" instead of 127.0.0.1:
// another host to an HTTP client.
func otherHost(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }

func TestCheckout_SubmoduleOnAnotherHostGetsNoCredentials(t *testing.T) {
	parent := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: testUser, Password: testPassword})
	var other authLog
	elsewhere := gitserver.NewHTTP(t, gitserver.HTTPOptions{Observe: other.observe})
	elsewhere.CreateRepo(t, "lib").Commit(t, map[string]string{"lib.yaml": "lib"}, "lib")
	// A submodule on the parent's own server gets the credentials it needs.
	own := parent.CreateRepo(t, "own")
	own.Commit(t, map[string]string{"own.yaml": "own"}, "own")
	app := parent.CreateRepo(t, "app")
	app.Commit(t, map[string]string{"app.yaml": "app"}, "app")
	app.AddSubmodule(t, otherHost(elsewhere.URL("lib")), "vendor/lib")
	// Added from disk (git would ask for the password), then pointed at
	// the authenticated URL.
	app.AddSubmodule(t, own.BareDir, "vendor/own")
	app.Commit(t, map[string]string{".gitmodules": "[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = " + otherHost(elsewhere.URL("lib")) +
		"\n[submodule \"vendor/own\"]\n\tpath = vendor/own\n\turl = " + parent.URL("own") + "\n"}, "own over http")

	_, dir := checkout(t, git.Options{URL: parent.URL("app"), Ref: git.Ref{Branch: "main"}, RecurseSubmodules: true,
		Auth: basicAuth(t, parent.URL("app"))})
	if got := readFile(t, dir, "vendor/lib/lib.yaml"); got != "lib" {
		t.Errorf("vendor/lib/lib.yaml = %q", got)
	}
	if got := readFile(t, dir, "vendor/own/own.yaml"); got != "own" {
		t.Errorf("vendor/own/own.yaml = %q (the same-host submodule needs the credentials)", got)
	}
	requests, withAuth := other.sent()
	if requests == 0 {
		t.Fatal("the other host was never asked")
	}
	if withAuth != 0 {
		t.Errorf("the other host received an Authorization header in %d of %d requests", withAuth, requests)
	}
}

func TestCheckout_RedirectToAnotherHostDropsCredentials(t *testing.T) {
	var other authLog
	target := gitserver.NewHTTP(t, gitserver.HTTPOptions{Observe: other.observe})
	target.CreateRepo(t, "app").Commit(t, map[string]string{"app.yaml": "app"}, "app")
	// The server the GitRepository names answers every request with a
	// redirect to the same path on another host.
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := otherHost("http://"+target.Addr()) + r.URL.RequestURI()
		http.Redirect(w, r, to, http.StatusFound)
	}))
	t.Cleanup(moved.Close)
	url := moved.URL + "/app.git"

	_, dir := checkout(t, git.Options{URL: url, Ref: git.Ref{Branch: "main"}, Auth: basicAuth(t, url)})
	if got := readFile(t, dir, "app.yaml"); got != "app" {
		t.Errorf("app.yaml = %q", got)
	}
	requests, withAuth := other.sent()
	if requests == 0 {
		t.Fatal("the redirect was not followed")
	}
	if withAuth != 0 {
		t.Errorf("the other host received an Authorization header in %d of %d requests", withAuth, requests)
	}
}

func TestResolveAndCheckout_GuardRefusesNetworksAtDialTime(t *testing.T) {
	guard, err := netguard.Parse([]string{"loopback"})
	if err != nil {
		t.Fatal(err)
	}
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	srv.CreateRepo(t, "app").Commit(t, map[string]string{"app.yaml": "app"}, "app")
	key := gitserver.NewKeyPair(t, "")
	sshSrv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	sshSrv.CreateRepo(t, "app").Commit(t, map[string]string{"app.yaml": "app"}, "app")
	sshAuth, err := git.AuthFromSecret(sshSrv.URL("app"), sshSecret(key, sshSrv.KnownHosts()))
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]git.Options{
		"http":         {URL: srv.URL("app")},
		"http by name": {URL: otherHost(srv.URL("app"))},
		"ssh":          {URL: sshSrv.URL("app"), Auth: sshAuth},
	} {
		t.Run(name, func(t *testing.T) {
			// Guarded first: connections are pooled, and the guard is
			// meant to be server-wide, so an earlier unguarded connection
			// to the same server could be reused.
			opts.Guard = guard
			opts.Ref = git.Ref{Branch: "main"}
			if _, err := git.Resolve(testContext(t), opts); !errors.Is(err, netguard.ErrRefused) {
				t.Errorf("Resolve with the guard: %v", err)
			}
			if _, err := git.Checkout(testContext(t), t.TempDir()+"/c", opts); !errors.Is(err, netguard.ErrRefused) {
				t.Errorf("Checkout with the guard: %v", err)
			}
			opts.Guard = nil
			if _, err := git.Resolve(testContext(t), opts); err != nil {
				t.Fatalf("without a guard: %v", err)
			}
		})
	}
}
