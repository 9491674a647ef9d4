package git

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-apiserver/gitops-apiserver/test/gitserver"
)

// signedCommit returns a commit signed by key, made in memory.
func signedCommit(t *testing.T, key gitserver.PGPKey) *object.Commit {
	t.Helper()
	repo, err := gogit.Init(memory.NewStorage(), memfs.New())
	if err != nil {
		t.Fatal(err)
	}
	w, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "A", Email: "a@example.com", When: time.Now()}
	hash, err := w.Commit("signed\n", &gogit.CommitOptions{Author: sig, SignKey: key.Entity, AllowEmptyCommits: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(hash)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifyCommit_RefusesWhatTheSignatureDoesNotCover(t *testing.T) {
	key := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	ring, err := KeyRingFromSecret(map[string][]byte{"key.asc": key.ArmoredPublic})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := verifyCommit(signedCommit(t, key), ring); err != nil || s.KeyID != key.KeyID {
		t.Fatalf("untouched commit: signer %+v, error %v", s, err)
	}

	for _, tt := range []struct {
		name   string
		tamper func(c *object.Commit)
		want   string
	}{
		{"changed message", func(c *object.Commit) { c.Message = "not what was signed\n" }, "invalid"},
		{"changed author", func(c *object.Commit) { c.Author.Name = "Mallory" }, "invalid"},
		{"signature appended twice", func(c *object.Commit) { c.PGPSignature += c.PGPSignature }, "signatures, want one"},
		{"SSH signature", func(c *object.Commit) {
			c.PGPSignature = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
		}, "not an OpenPGP signature"},
		{"garbage", func(c *object.Commit) {
			c.PGPSignature = "-----BEGIN PGP SIGNATURE-----\n\nbm9wZQ==\n-----END PGP SIGNATURE-----\n"
		}, "trusted key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := signedCommit(t, key)
			tt.tamper(c)
			_, err := verifyCommit(c, ring)
			if !errors.Is(err, ErrCommitSignature) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want ErrCommitSignature with %q", err, tt.want)
			}
		})
	}
}

func TestVerification_RejectsUnknownModesAndEmptyKeyRings(t *testing.T) {
	key := gitserver.NewPGPKey(t, "Trusted", "trusted@example.com")
	ring, err := KeyRingFromSecret(map[string][]byte{"key.asc": key.ArmoredPublic})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*Verification{
		{Mode: "head", KeyRing: ring}, // the API's legacy spelling is mapped by callers
		{Mode: VerifyHEAD},
		{Mode: VerifyTag, KeyRing: &KeyRing{}},
	} {
		if err := v.validate(); err == nil {
			t.Errorf("validate(%+v) accepted it", v)
		}
	}
	if err := (&Verification{KeyRing: ring}).validate(); err != nil {
		t.Errorf("empty mode (HEAD): %v", err)
	}
}
