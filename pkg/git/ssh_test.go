package git_test

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// sshSecret returns Flux secret data for an SSH repository.
func sshSecret(key gitserver.KeyPair, knownHosts []byte) map[string][]byte {
	return map[string][]byte{"identity": key.Private, "identity.pub": key.Public, "known_hosts": knownHosts}
}

func TestCheckout_SSHWithKeyAndKnownHosts(t *testing.T) {
	plain := gitserver.NewKeyPair(t, "")
	const passphrase = "key-passphrase-do-not-leak"
	encrypted := gitserver.NewKeyPair(t, passphrase)
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{plain.Public, encrypted.Public}})
	repo := srv.CreateRepo(t, "org/app")
	first := repo.Commit(t, map[string]string{"deploy/app.yaml": "v1", "docs/x.md": "x"}, "first")
	repo.AnnotatedTag(t, "v1.0.0", "release")
	second := repo.Commit(t, map[string]string{"deploy/app.yaml": "v2"}, "second")
	url := srv.URL("org/app")

	encryptedSecret := sshSecret(encrypted, srv.KnownHosts())
	encryptedSecret["password"] = []byte(passphrase)
	for name, data := range map[string]map[string][]byte{
		"plain key":     sshSecret(plain, srv.KnownHosts()),
		"encrypted key": encryptedSecret,
	} {
		t.Run(name, func(t *testing.T) {
			auth, err := git.AuthFromSecret(url, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				ref      git.Ref
				hash     string
				revision string
			}{
				{git.Ref{Branch: "main"}, second, "main@sha1:" + second},
				{git.Ref{SemVer: "1.x"}, first, "v1.0.0@sha1:" + first},
				{git.Ref{Commit: first}, first, "sha1:" + first},
			} {
				opts := git.Options{URL: url, Auth: auth, Ref: tt.ref, Timeout: 30 * time.Second, SparseCheckout: []string{"deploy"}}
				rev, err := git.Resolve(testContext(t), opts)
				if err != nil {
					t.Fatalf("Resolve(%s): %v", tt.ref, err)
				}
				c, dir := checkout(t, opts)
				if c.Hash != tt.hash || c.Revision != tt.revision || rev != c.Revision {
					t.Errorf("%s: Resolve %s, Checkout %s %s; want %s", tt.ref, rev, c.Hash, c.Revision, tt.revision)
				}
				if readFile(t, dir, "deploy/app.yaml") == "<missing>" || readFile(t, dir, "docs/x.md") != "<missing>" {
					t.Errorf("%s: sparse checkout over SSH wrote the wrong files", tt.ref)
				}
			}
		})
	}
}

func TestCheckout_SSHVerifiesHostKeys(t *testing.T) {
	key := gitserver.NewKeyPair(t, "")
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	srv.CreateRepo(t, "app").Commit(t, map[string]string{"a": "1"}, "first")
	other := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	url := srv.URL("app")

	tests := map[string][]byte{
		// The right address with another server's key: a changed host key.
		"key mismatch": []byte(knownhosts.Line([]string{knownhosts.Normalize(srv.Addr())}, other.HostKey()) + "\n"),
		// Only another address: an unknown host.
		"unknown host": other.KnownHosts(),
	}
	for name, knownHosts := range tests {
		t.Run(name, func(t *testing.T) {
			auth, err := git.AuthFromSecret(url, sshSecret(key, knownHosts))
			if err != nil {
				t.Fatal(err)
			}
			opts := git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}, Timeout: 30 * time.Second}
			_, resolveErr := git.Resolve(testContext(t), opts)
			_, checkoutErr := git.Checkout(testContext(t), t.TempDir(), opts)
			for _, err := range []error{resolveErr, checkoutErr} {
				if !errors.Is(err, git.ErrHostKey) {
					t.Fatalf("error = %v, want ErrHostKey", err)
				}
			}
			t.Log(resolveErr)
		})
	}

	t.Run("no known_hosts", func(t *testing.T) {
		data := sshSecret(key, nil)
		delete(data, "known_hosts")
		_, err := git.AuthFromSecret(url, data)
		if !errors.Is(err, git.ErrInvalidSecret) || !strings.Contains(err.Error(), "known_hosts") {
			t.Fatalf("AuthFromSecret without known_hosts: %v", err)
		}
		_, err = git.Resolve(testContext(t), git.Options{URL: url, Ref: git.Ref{Branch: "main"}})
		if !errors.Is(err, git.ErrInvalidSecret) || !strings.Contains(err.Error(), "known_hosts") {
			t.Fatalf("Resolve of an ssh URL without credentials: %v", err)
		}
	})
}

func TestCheckout_SSHRejectsUnauthorizedKey(t *testing.T) {
	authorized := gitserver.NewKeyPair(t, "")
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{authorized.Public}})
	srv.CreateRepo(t, "app").Commit(t, map[string]string{"a": "1"}, "first")
	url := srv.URL("app")

	auth, err := git.AuthFromSecret(url, sshSecret(gitserver.NewKeyPair(t, ""), srv.KnownHosts()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = git.Resolve(testContext(t), git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}, Timeout: 30 * time.Second})
	if !errors.Is(err, git.ErrAuthentication) {
		t.Fatalf("Resolve with an unauthorized key: %v, want ErrAuthentication", err)
	}
}

func TestResolve_SSHMissingRepository(t *testing.T) {
	key := gitserver.NewKeyPair(t, "")
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	auth, err := git.AuthFromSecret(srv.URL("missing"), sshSecret(key, srv.KnownHosts()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = git.Resolve(testContext(t), git.Options{URL: srv.URL("missing"), Auth: auth, Timeout: 30 * time.Second})
	if !errors.Is(err, git.ErrRepositoryNotFound) {
		t.Fatalf("Resolve of a missing repository: %v, want ErrRepositoryNotFound", err)
	}
}

func TestCheckout_SSHServerOutageAndRecovery(t *testing.T) {
	key := gitserver.NewKeyPair(t, "")
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	head := srv.CreateRepo(t, "app").Commit(t, map[string]string{"a": "1"}, "first")
	url := srv.URL("app")
	auth, err := git.AuthFromSecret(url, sshSecret(key, srv.KnownHosts()))
	if err != nil {
		t.Fatal(err)
	}
	opts := git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}, Timeout: 10 * time.Second}

	srv.Stop()
	if _, err := git.Resolve(testContext(t), opts); err == nil {
		t.Fatal("Resolve succeeded while the server was down")
	}
	srv.Start()
	c, _ := checkout(t, opts)
	if c.Hash != head {
		t.Fatalf("hash after recovery = %s, want %s", c.Hash, head)
	}
}

// stallingServer accepts TCP connections on loopback and never answers.
func stallingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

func TestOptions_TimeoutBoundsStalledServers(t *testing.T) {
	addr := stallingServer(t)
	key := gitserver.NewKeyPair(t, "")
	sshURL := "ssh://git@" + addr + "/app.git"
	sshAuth, err := git.AuthFromSecret(sshURL, sshSecret(key, []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, mustParsePub(t, key.Public))+"\n")))
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]git.Options{
		"http": {URL: "http://" + addr + "/app.git"},
		"ssh":  {URL: sshURL, Auth: sshAuth},
	} {
		t.Run(name, func(t *testing.T) {
			opts.Ref = git.Ref{Branch: "main"}
			opts.Timeout = 500 * time.Millisecond
			start := time.Now()
			_, resolveErr := git.Resolve(testContext(t), opts)
			_, checkoutErr := git.Checkout(testContext(t), t.TempDir(), opts)
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Fatalf("two operations with a 500ms timeout took %s", elapsed)
			}
			for _, err := range []error{resolveErr, checkoutErr} {
				if err == nil || !strings.Contains(err.Error(), "timed out after 500ms") {
					t.Fatalf("error = %v, want a timeout", err)
				}
			}
		})
	}
}

// mustParsePub parses an authorized_keys line.
func mustParsePub(t *testing.T, line []byte) ssh.PublicKey {
	t.Helper()
	pub, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
