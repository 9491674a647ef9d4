package git_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// commitFile writes a file in the checkout and commits it with go-git.
func commitFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Add(name); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "bot", Email: "bot@example.com", When: time.Now()}
	h, err := w.Commit("change "+name, &gogit.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestCheckoutForPush_PushOverSSH(t *testing.T) {
	key := gitserver.NewKeyPair(t, "")
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{AuthorizedKeys: [][]byte{key.Public}})
	repo := srv.CreateRepo(t, "org/app")
	repo.Commit(t, map[string]string{"a": "1"}, "first")
	repo.Tag(t, "v1.0.0")
	url := srv.URL("org/app")
	auth, err := git.AuthFromSecret(url, sshSecret(key, srv.KnownHosts()))
	if err != nil {
		t.Fatal(err)
	}
	opts := git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}, Timeout: 30 * time.Second}

	dir := filepath.Join(t.TempDir(), "work")
	if _, err := git.CheckoutForPush(testContext(t), dir, opts, ""); err != nil {
		t.Fatal(err)
	}
	hash := commitFile(t, dir, "b", "2")
	if err := git.Push(testContext(t), dir, opts, []string{"refs/heads/main:refs/heads/main", "HEAD:refs/heads/copy"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, branch := range []string{"main", "copy"} {
		if got := repo.ServerHead(t, branch); got != hash {
			t.Errorf("server %s = %s, want %s", branch, got, hash)
		}
	}

	// A tag has no branch to commit on unless one is named.
	tagOpts := opts
	tagOpts.Ref = git.Ref{Tag: "v1.0.0"}
	if _, err := git.CheckoutForPush(testContext(t), filepath.Join(t.TempDir(), "tag"), tagOpts, ""); err == nil {
		t.Error("checking out a tag without a branch gave no error")
	}
	tagDir := filepath.Join(t.TempDir(), "tag-branch")
	if _, err := git.CheckoutForPush(testContext(t), tagDir, tagOpts, "from-tag"); err != nil {
		t.Fatal(err)
	}
	tagHash := commitFile(t, tagDir, "c", "3")
	if err := git.Push(testContext(t), tagDir, tagOpts, []string{"from-tag:refs/heads/from-tag"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := repo.ServerHead(t, "from-tag"); got != tagHash {
		t.Errorf("server from-tag = %s, want %s", got, tagHash)
	}
}

func TestPush_RefusesInvalidRefSpecs(t *testing.T) {
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{})
	repo := srv.CreateRepo(t, "app")
	repo.AllowPush(t)
	repo.Commit(t, map[string]string{"a": "1"}, "first")
	opts := git.Options{URL: srv.URL("app"), Ref: git.Ref{Branch: "main"}}
	dir := filepath.Join(t.TempDir(), "work")
	if _, err := git.CheckoutForPush(testContext(t), dir, opts, ""); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]string{
		":refs/heads/main":             "deleting is not supported",
		"main":                         "deleting is not supported",
		"main:main":                    "full reference name",
		"refs/heads/*:refs/heads/*":    "wildcards",
		"missing:refs/heads/main":      "does not exist",
		"HEAD:refs/heads/bad..name":    "invalid refspec",
		strings.Repeat("0", 40) + ":x": "full reference name",
	} {
		err := git.Push(testContext(t), dir, opts, []string{spec}, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("refspec %q: err = %v, want one containing %q", spec, err, want)
		}
	}
	if err := git.Push(testContext(t), dir, opts, nil, nil); err == nil {
		t.Error("no refspec: no error")
	}
}
