package imageupdate

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Keys of a Flux signingKey Secret (OpenPGP).
const (
	// SigningKeySecretKey holds the ASCII-armored private key.
	SigningKeySecretKey = "git.asc"
	// PassphraseSecretKey holds the key's passphrase, if it is encrypted.
	PassphraseSecretKey = "passphrase"
)

// ErrInvalidSigningKey: the signing key cannot be read or decrypted.
var ErrInvalidSigningKey = errors.New("invalid signing key")

// CommitOptions describe the commit.
type CommitOptions struct {
	// AuthorName and AuthorEmail are the author and committer; the email is required.
	AuthorName, AuthorEmail string
	// Message is the rendered message (see RenderMessage).
	Message string
	// SigningKey, when set, is an ASCII-armored OpenPGP private key (Flux's git.asc) the
	// commit is signed with; Passphrase decrypts it when it is encrypted.
	SigningKey []byte
	Passphrase string
	// When is the commit time; zero means now.
	When time.Time
}

// Commit stages every change of the working tree in repoDir (`git add -A`) and commits it
// on the current branch. With a clean tree nothing is committed: it returns the current
// commit and changed == false.
func Commit(repoDir string, opts CommitOptions) (hash string, changed bool, err error) {
	if opts.AuthorEmail == "" {
		return "", false, errors.New("committing: the author email is required")
	}
	if strings.TrimSpace(opts.Message) == "" {
		return "", false, errors.New("committing: the message is empty")
	}
	var signer *openpgp.Entity
	if len(opts.SigningKey) > 0 {
		if signer, err = signingEntity(opts.SigningKey, opts.Passphrase); err != nil {
			return "", false, err
		}
	}
	repo, err := gogit.PlainOpen(repoDir)
	if err != nil {
		return "", false, fmt.Errorf("committing: opening the repository: %w", err)
	}
	w, err := repo.Worktree()
	if err != nil {
		return "", false, fmt.Errorf("committing: %w", err)
	}
	status, err := w.Status()
	if err != nil {
		return "", false, fmt.Errorf("committing: reading the worktree status: %w", err)
	}
	if status.IsClean() {
		head, err := repo.Head()
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("committing: %w", err)
		}
		return head.Hash().String(), false, nil
	}
	if err := w.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		return "", false, fmt.Errorf("committing: staging the changes: %w", err)
	}
	when := opts.When
	if when.IsZero() {
		when = time.Now()
	}
	sig := &object.Signature{Name: opts.AuthorName, Email: opts.AuthorEmail, When: when}
	h, err := w.Commit(opts.Message, &gogit.CommitOptions{Author: sig, Committer: sig, SignKey: signer})
	if err != nil {
		return "", false, fmt.Errorf("committing: %w", err)
	}
	return h.String(), true, nil
}

// signingEntity reads the first key of an armored key ring and decrypts its private keys.
// Errors never quote the key or the passphrase.
func signingEntity(armored []byte, passphrase string) (*openpgp.Entity, error) {
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil || len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s is not an ASCII-armored OpenPGP key", ErrInvalidSigningKey, SigningKeySecretKey)
	}
	e := keys[0]
	if e.PrivateKey == nil {
		return nil, fmt.Errorf("%w: %s holds a public key; a private key is required to sign", ErrInvalidSigningKey, SigningKeySecretKey)
	}
	encrypted := e.PrivateKey.Encrypted
	for _, sub := range e.Subkeys {
		encrypted = encrypted || (sub.PrivateKey != nil && sub.PrivateKey.Encrypted)
	}
	if encrypted {
		if passphrase == "" {
			return nil, fmt.Errorf("%w: the key is encrypted: set its passphrase in %s", ErrInvalidSigningKey, PassphraseSecretKey)
		}
		if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
			return nil, fmt.Errorf("%w: cannot decrypt the key with the passphrase in %s", ErrInvalidSigningKey, PassphraseSecretKey)
		}
	}
	return e, nil
}
