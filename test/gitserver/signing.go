package gitserver

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// PGPKey is an OpenPGP key for signing commits and tags (see CommitSigned, SignedTag).
type PGPKey struct {
	// Entity holds the private key.
	Entity *openpgp.Entity
	// ArmoredPublic is the ASCII-armored public key (`gpg --export --armor`), as a
	// GitRepository's spec.verify.secretRef Secret holds it.
	ArmoredPublic []byte
	// KeyID is the primary key's ID, 16 upper-case hex digits.
	KeyID string
}

// NewPGPKey generates an ed25519 OpenPGP key for name <email>.
func NewPGPKey(t testing.TB, name, email string) PGPKey {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", email, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatalf("gitserver: generating an OpenPGP key: %v", err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	return PGPKey{Entity: e, ArmoredPublic: buf.Bytes(), KeyID: e.PrimaryKey.KeyIdString()}
}

// CommitSigned is Commit with the commit signed by key (go-git signs it, so no GnuPG is
// needed); it returns the commit hash.
func (r *Repo) CommitSigned(t testing.TB, files map[string]string, message string, key PGPKey) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(r.WorkDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("gitserver: %v", err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatalf("gitserver: %v", err)
		}
	}
	r.root.git(t, r.WorkDir, "add", "--all")
	repo, err := gogit.PlainOpen(r.WorkDir)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	w, err := repo.Worktree()
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	now := time.Now()
	_, err = w.Commit(message, &gogit.CommitOptions{
		Author:            &object.Signature{Name: "Test Author", Email: "author@example.com", When: now},
		Committer:         &object.Signature{Name: "Test Committer", Email: "committer@example.com", When: now},
		SignKey:           key.Entity,
		AllowEmptyCommits: true,
	})
	if err != nil {
		t.Fatalf("gitserver: signed commit: %v", err)
	}
	r.root.git(t, r.WorkDir, "push", "--quiet", "origin", "HEAD:refs/heads/"+r.CurrentBranch(t))
	return r.Head(t)
}

// SignedTag creates an annotated tag at the current commit, signed by key, and pushes it.
func (r *Repo) SignedTag(t testing.TB, name, message string, key PGPKey) {
	t.Helper()
	repo, err := gogit.PlainOpen(r.WorkDir)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	head, err := repo.Head()
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	_, err = repo.CreateTag(name, head.Hash(), &gogit.CreateTagOptions{
		Tagger:  &object.Signature{Name: "Test Tagger", Email: "tagger@example.com", When: time.Now()},
		Message: message,
		SignKey: key.Entity,
	})
	if err != nil {
		t.Fatalf("gitserver: signed tag: %v", err)
	}
	r.root.git(t, r.WorkDir, "push", "--quiet", "origin", "refs/tags/"+name)
}
