package imageupdate_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/imageupdate"
	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

const (
	gitUser     = "flux"
	gitPassword = "pa55w0rd-do-not-leak"
	passphrase  = "key-pa55phrase-do-not-leak"
	appManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: prod
spec:
  template:
    spec:
      containers:
      - name: app
        image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}
`
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fleet serves a repository with one marked manifest over HTTP with basic auth, pushes
// allowed, and returns the options to reach it.
func fleet(t *testing.T) (*gitserver.Repo, git.Options) {
	t.Helper()
	srv := gitserver.NewHTTP(t, gitserver.HTTPOptions{Username: gitUser, Password: gitPassword})
	repo := srv.CreateRepo(t, "fleet")
	repo.AllowPush(t)
	repo.Commit(t, map[string]string{"apps/app.yaml": appManifest, "README.md": "fleet"}, "initial")
	url := srv.URL("fleet")
	auth, err := git.AuthFromSecret(url, map[string][]byte{"username": []byte(gitUser), "password": []byte(gitPassword)})
	if err != nil {
		t.Fatal(err)
	}
	return repo, git.Options{URL: url, Auth: auth, Ref: git.Ref{Branch: "main"}, Timeout: 30 * time.Second}
}

// update checks the repository out for a push on branch, applies the policies and
// commits; it returns the directory and the commit.
func update(t *testing.T, opts git.Options, branch string, commit imageupdate.CommitOptions) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "work")
	if _, err := git.CheckoutForPush(testContext(t), dir, opts, branch); err != nil {
		t.Fatal(err)
	}
	res, err := imageupdate.Apply(dir, policies)
	if err != nil {
		t.Fatal(err)
	}
	if res.Empty() {
		t.Fatal("nothing to update")
	}
	if commit.Message == "" {
		commit.Message, err = imageupdate.RenderMessage("", imageupdate.TemplateData{Changed: res})
		if err != nil {
			t.Fatal(err)
		}
	}
	commit.AuthorName, commit.AuthorEmail = "fluxbot", "fluxbot@example.com"
	hash, changed, err := imageupdate.Commit(dir, commit)
	if err != nil || !changed {
		t.Fatalf("Commit = %s, %v, %v", hash, changed, err)
	}
	return dir, hash
}

// armoredPrivate exports key's private key, encrypted with pass when not empty.
func armoredPrivate(t *testing.T, key gitserver.PGPKey, pass string) []byte {
	t.Helper()
	e := key.Entity
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Serialise a copy so the test's key stays usable.
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if pass == "" {
		return buf.Bytes()
	}
	keys, err := openpgp.ReadArmoredKeyRing(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys[0].EncryptPrivateKeys([]byte(pass), nil); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	w, err = armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys[0].SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCommitAndPush_SignedCommitReachesTheServer(t *testing.T) {
	repo, opts := fleet(t)
	base := repo.ServerHead(t, "main")
	key := gitserver.NewPGPKey(t, "Flux Bot", "fluxbot@example.com")
	dir, hash := update(t, opts, "", imageupdate.CommitOptions{SigningKey: armoredPrivate(t, key, passphrase), Passphrase: passphrase})

	err := imageupdate.Push(testContext(t), dir, imageupdate.PushOptions{
		Git:     opts,
		Options: map[string]string{"ci.skip": "", "topic": "flux"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := repo.ServerHead(t, "main"); got != hash {
		t.Fatalf("server main = %s, want the pushed commit %s", got, hash)
	}
	bare, err := gogit.PlainOpen(repo.BareDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bare.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ParentHashes) != 1 || c.ParentHashes[0].String() != base {
		t.Errorf("parents = %v, want [%s]", c.ParentHashes, base)
	}
	if c.Message != imageupdate.DefaultMessage || c.Author.Email != "fluxbot@example.com" || c.Committer.Name != "fluxbot" {
		t.Errorf("commit = %q by %v / %v", c.Message, c.Author, c.Committer)
	}
	if _, err := c.Verify(string(key.ArmoredPublic)); err != nil {
		t.Errorf("the signature does not verify with the public key: %v", err)
	}
	other := gitserver.NewPGPKey(t, "Someone Else", "else@example.com")
	if _, err := c.Verify(string(other.ArmoredPublic)); err == nil {
		t.Error("the signature verifies with another key")
	}
	opts2 := repo.ReceivedPushOptions(t)
	slices.Sort(opts2)
	if !slices.Equal(opts2, []string{"ci.skip=", "topic=flux"}) {
		t.Errorf("push options received = %q", opts2)
	}

	// Nothing changes on a second run: nothing is committed, and pushing is a no-op.
	res, err := imageupdate.Apply(dir, policies)
	if err != nil || !res.Empty() {
		t.Fatalf("second Apply = %+v, %v", res, err)
	}
	again, changed, err := imageupdate.Commit(dir, imageupdate.CommitOptions{AuthorEmail: "fluxbot@example.com", Message: "again"})
	if err != nil || changed || again != hash {
		t.Errorf("Commit on a clean tree = %s, %v, %v; want %s, false, nil", again, changed, err, hash)
	}
	if err := imageupdate.Push(testContext(t), dir, imageupdate.PushOptions{Git: opts}); err != nil {
		t.Errorf("pushing again: %v", err)
	}
}

func TestPush_RejectedWhenTheBranchMoved(t *testing.T) {
	repo, opts := fleet(t)
	dir, hash := update(t, opts, "", imageupdate.CommitOptions{})
	moved := repo.Commit(t, map[string]string{"README.md": "changed meanwhile"}, "someone else")

	err := imageupdate.Push(testContext(t), dir, imageupdate.PushOptions{Git: opts})
	if !errors.Is(err, git.ErrPushRejected) || !strings.Contains(err.Error(), "non-fast-forward") {
		t.Fatalf("err = %v, want ErrPushRejected naming non-fast-forward", err)
	}
	if strings.Contains(err.Error(), gitPassword) {
		t.Errorf("the error shows the password: %v", err)
	}
	if got := repo.ServerHead(t, "main"); got != moved {
		t.Errorf("server main = %s, want %s (not %s)", got, moved, hash)
	}
}

func TestPush_ToAnotherBranchAndARefspec(t *testing.T) {
	repo, opts := fleet(t)
	base := repo.ServerHead(t, "main")
	dir, hash := update(t, opts, "auto", imageupdate.CommitOptions{Message: "update images"})
	err := imageupdate.Push(testContext(t), dir, imageupdate.PushOptions{
		Git: opts, Branch: "auto", ForceBranch: true, Refspec: "refs/heads/auto:refs/heads/review",
	})
	if err != nil {
		t.Fatal(err)
	}
	for branch, want := range map[string]string{"main": base, "auto": hash, "review": hash} {
		if got := repo.ServerHead(t, branch); got != want {
			t.Errorf("server %s = %s, want %s", branch, got, want)
		}
	}

	// main moves; the next run starts from it again and overwrites auto, as Flux does.
	mainNow := repo.Commit(t, map[string]string{"README.md": "v2"}, "main moved")
	dir2, hash2 := update(t, opts, "auto", imageupdate.CommitOptions{Message: "update images"})
	if err := imageupdate.Push(testContext(t), dir2, imageupdate.PushOptions{Git: opts, Branch: "auto", ForceBranch: true}); err != nil {
		t.Fatal(err)
	}
	if got := repo.ServerHead(t, "auto"); got != hash2 {
		t.Errorf("server auto = %s, want %s", got, hash2)
	}
	if got := repo.ServerHead(t, "main"); got != mainNow {
		t.Errorf("server main = %s, want %s", got, mainNow)
	}
	// Without ForceBranch the same diverged push is refused.
	dir3, _ := update(t, opts, "auto", imageupdate.CommitOptions{Message: "update images"})
	repo.Commit(t, map[string]string{"README.md": "v3"}, "main moved again")
	err = imageupdate.Push(testContext(t), dir3, imageupdate.PushOptions{Git: opts, Branch: "main"})
	if !errors.Is(err, git.ErrPushRejected) {
		t.Errorf("err = %v, want ErrPushRejected", err)
	}
}

func TestPush_Errors(t *testing.T) {
	_, opts := fleet(t)
	dir, _ := update(t, opts, "", imageupdate.CommitOptions{})

	bad := opts
	var err error
	bad.Auth, err = git.AuthFromSecret(opts.URL, map[string][]byte{"username": []byte(gitUser), "password": []byte("wr0ng-do-not-leak")})
	if err != nil {
		t.Fatal(err)
	}
	err = imageupdate.Push(testContext(t), dir, imageupdate.PushOptions{Git: bad})
	if !errors.Is(err, git.ErrAuthentication) || strings.Contains(err.Error(), "wr0ng-do-not-leak") {
		t.Errorf("wrong password: err = %v, want ErrAuthentication without the password", err)
	}
	for _, rs := range []string{"+refs/heads/main:refs/heads/x", ":refs/heads/main", "refs/heads/main"} {
		if err := imageupdate.Push(testContext(t), dir, imageupdate.PushOptions{Git: opts, Refspec: rs}); err == nil {
			t.Errorf("refspec %q was accepted", rs)
		}
	}
	if err := imageupdate.Push(testContext(t), dir, imageupdate.PushOptions{Git: opts, Refspec: "refs/heads/nope:refs/heads/x"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("refspec with a missing source: err = %v", err)
	}
}

func TestCommit_SigningKeyErrors(t *testing.T) {
	_, opts := fleet(t)
	dir := filepath.Join(t.TempDir(), "work")
	if _, err := git.CheckoutForPush(testContext(t), dir, opts, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := imageupdate.Apply(dir, policies); err != nil {
		t.Fatal(err)
	}
	key := gitserver.NewPGPKey(t, "Flux Bot", "fluxbot@example.com")
	tests := []struct {
		name string
		key  []byte
		pass string
	}{
		{"not a key", []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\nnope\n"), ""},
		{"public key", key.ArmoredPublic, ""},
		{"missing passphrase", armoredPrivate(t, key, passphrase), ""},
		{"wrong passphrase", armoredPrivate(t, key, passphrase), "wrong-" + passphrase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := imageupdate.Commit(dir, imageupdate.CommitOptions{AuthorEmail: "a@example.com", Message: "m", SigningKey: tt.key, Passphrase: tt.pass})
			if !errors.Is(err, imageupdate.ErrInvalidSigningKey) {
				t.Fatalf("err = %v, want ErrInvalidSigningKey", err)
			}
			if strings.Contains(err.Error(), passphrase) {
				t.Errorf("the error shows the passphrase: %v", err)
			}
		})
	}
	if _, _, err := imageupdate.Commit(dir, imageupdate.CommitOptions{Message: "m"}); err == nil {
		t.Error("no author email: no error")
	}
}
