package gitserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lsRemote runs git ls-remote against url with the helper's isolated environment.
func lsRemote(t *testing.T, r *Root, url string) (string, error) {
	t.Helper()
	return r.run(t.TempDir(), "ls-remote", url)
}

func TestHTTPServer_ServesReposWithBasicAuth(t *testing.T) {
	s := NewHTTP(t, HTTPOptions{Username: "alice", Password: "s3cret"})
	repo := s.CreateRepo(t, "org/app")
	hash := repo.Commit(t, map[string]string{"README.md": "hello"}, "first")
	repo.Tag(t, "v1.0.0")

	authURL := strings.Replace(s.URL("org/app"), "://", "://alice:s3cret@", 1)
	out, err := lsRemote(t, s.Root(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{hash + "\trefs/heads/main", hash + "\trefs/tags/v1.0.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("ls-remote output %q lacks %q", out, want)
		}
	}
	badURL := strings.Replace(s.URL("org/app"), "://", "://alice:wrong@", 1)
	if _, err := lsRemote(t, s.Root(), badURL); err == nil {
		t.Error("ls-remote with a wrong password succeeded")
	}
}

func TestHTTPServer_StopAndStartKeepThePort(t *testing.T) {
	s := NewHTTP(t, HTTPOptions{})
	repo := s.CreateRepo(t, "app")
	repo.Commit(t, map[string]string{"a": "1"}, "first")
	addr := s.Addr()

	s.Stop()
	if _, err := lsRemote(t, s.Root(), s.URL("app")); err == nil {
		t.Fatal("ls-remote succeeded while the server was stopped")
	}
	s.Start()
	if s.Addr() != addr {
		t.Fatalf("address changed from %s to %s", addr, s.Addr())
	}
	if _, err := lsRemote(t, s.Root(), s.URL("app")); err != nil {
		t.Fatalf("ls-remote after Start: %v", err)
	}
}

func TestSSHServer_ServesReposToAuthorizedKey(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no OpenSSH client; pkg/git's tests cover this server with go-git")
	}
	key := NewKeyPair(t, "")
	s := NewSSH(t, SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	repo := s.CreateRepo(t, "app")
	hash := repo.Commit(t, map[string]string{"a": "1"}, "first")

	home := t.TempDir()
	keyFile := filepath.Join(home, "id")
	knownHosts := filepath.Join(home, "known_hosts")
	if err := os.WriteFile(keyFile, key.Private, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(knownHosts, s.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	sshCmd := "ssh -F /dev/null -i " + keyFile + " -o UserKnownHostsFile=" + knownHosts +
		" -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes"
	out, err := s.Root().run(home, "-c", "core.sshCommand="+sshCmd, "ls-remote", s.URL("app"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, hash+"\trefs/heads/main") {
		t.Errorf("ls-remote output %q lacks main at %s", out, hash)
	}
}

func TestSSHServer_RejectsPathsOutsideRoot(t *testing.T) {
	key := NewKeyPair(t, "")
	s := NewSSH(t, SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	s.CreateRepo(t, "app")
	for _, cmd := range []string{
		"git-upload-pack '../../etc'",
		"git-upload-pack '/missing.git'",
		"sh -c id",
		"git-upload-pack",
	} {
		if _, _, err := s.parseCommand(cmd); err == nil {
			t.Errorf("parseCommand(%q) succeeded", cmd)
		}
	}
	if _, dir, err := s.parseCommand("git-upload-pack '/app.git'"); err != nil || filepath.Base(dir) != "app.git" {
		t.Errorf("parseCommand(app.git) = %q, %v", dir, err)
	}
}
