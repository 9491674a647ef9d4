package git

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Sentinel errors of signature verification (see Options.Verify).
var (
	// ErrCommitSignature means the commit is unsigned, or its signature is not valid for
	// any key of the key ring.
	ErrCommitSignature = errors.New("commit signature verification failed")
	// ErrTagSignature means the checkout is not of a tag, the tag is lightweight or
	// unsigned, or its signature is not valid for any key of the key ring.
	ErrTagSignature = errors.New("tag signature verification failed")
	// ErrInvalidKeyRing means a key ring value holds no ASCII-armored OpenPGP public key,
	// or one that cannot be read.
	ErrInvalidKeyRing = errors.New("invalid OpenPGP key ring")
)

// VerifyMode says which objects Checkout verifies, with the names of Flux's
// GitRepository spec.verify.mode.
type VerifyMode string

const (
	// VerifyHEAD verifies the signature of the commit checked out.
	VerifyHEAD VerifyMode = "HEAD"
	// VerifyTag verifies the signature of the annotated tag checked out; the reference
	// must be a tag (Ref.Tag, Ref.SemVer, or a Ref.Name under refs/tags/).
	VerifyTag VerifyMode = "Tag"
	// VerifyTagAndHEAD verifies both.
	VerifyTagAndHEAD VerifyMode = "TagAndHEAD"
)

// Verification asks Checkout to verify OpenPGP signatures before it writes the working
// tree; a commit that fails is never checked out.
type Verification struct {
	// Mode selects what is verified; "" means VerifyHEAD, Flux's default.
	Mode VerifyMode
	// KeyRing holds the trusted public keys; a signature by any of them is valid.
	KeyRing *KeyRing
}

// commit and tag report whether v asks for the commit's or the tag's signature.
func (v *Verification) commit() bool {
	return v != nil && (v.Mode == "" || v.Mode == VerifyHEAD || v.Mode == VerifyTagAndHEAD)
}

func (v *Verification) tag() bool {
	return v != nil && (v.Mode == VerifyTag || v.Mode == VerifyTagAndHEAD)
}

func (v *Verification) validate() error {
	if v == nil {
		return nil
	}
	switch v.Mode {
	case "", VerifyHEAD, VerifyTag, VerifyTagAndHEAD:
	default:
		return fmt.Errorf("invalid verification mode %q: use %q, %q or %q", v.Mode, VerifyHEAD, VerifyTag, VerifyTagAndHEAD)
	}
	if v.KeyRing == nil || len(v.KeyRing.entities) == 0 {
		return fmt.Errorf("%w: no public keys to verify signatures with", ErrInvalidKeyRing)
	}
	return nil
}

// RefIsTag reports whether ref checks out a tag, which VerifyTag needs: a tag, a semver
// range, or a reference name under refs/tags/ (when no commit is given).
func RefIsTag(ref Ref) bool {
	switch ref.kind() {
	case kindTag, kindSemVer:
		return true
	case kindName:
		return strings.HasPrefix(ref.Name, "refs/tags/")
	}
	return false
}

// KeyRing is a set of trusted OpenPGP public keys. Build it with KeyRingFromSecret.
type KeyRing struct {
	entities openpgp.EntityList
}

// Len returns the number of keys (primary keys with their subkeys) in the ring.
func (k *KeyRing) Len() int {
	if k == nil {
		return 0
	}
	return len(k.entities)
}

// armoredPublicKeyHeader starts every ASCII-armored OpenPGP public key block.
const armoredPublicKeyHeader = "-----BEGIN PGP PUBLIC KEY BLOCK-----"

// KeyRingFromSecret reads the trusted keys of a Flux GitRepository spec.verify.secretRef
// Secret: every data value holds one or more ASCII-armored OpenPGP public key blocks.
// Errors wrap ErrInvalidKeyRing and name the data key, never its content.
func KeyRingFromSecret(data map[string][]byte) (*KeyRing, error) {
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	sort.Strings(names)
	ring := &KeyRing{}
	for _, name := range names {
		entities, err := readArmoredPublicKeys(data[name])
		if err != nil {
			return nil, fmt.Errorf("%w: data key %q: %s", ErrInvalidKeyRing, name, err)
		}
		ring.entities = append(ring.entities, entities...)
	}
	if len(ring.entities) == 0 {
		return nil, fmt.Errorf("%w: the secret holds no public keys", ErrInvalidKeyRing)
	}
	return ring, nil
}

// readArmoredPublicKeys reads every armored public key block in b. Private key blocks are
// refused: they do not belong in a Secret of trusted keys. Messages never quote b.
func readArmoredPublicKeys(b []byte) (openpgp.EntityList, error) {
	s := string(b)
	if strings.Contains(s, "PGP PRIVATE KEY BLOCK") {
		return nil, errors.New("it holds a private key; store only public keys (gpg --export --armor)")
	}
	blocks := strings.Split(s, armoredPublicKeyHeader)
	if len(blocks) < 2 {
		return nil, errors.New("it holds no ASCII-armored OpenPGP public key (gpg --export --armor)")
	}
	var list openpgp.EntityList
	for _, block := range blocks[1:] {
		entities, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armoredPublicKeyHeader + block))
		if err != nil {
			return nil, fmt.Errorf("it holds an unreadable public key: %s", keyErrorText(err))
		}
		list = append(list, entities...)
	}
	return list, nil
}

// keyErrorText is the message of a go-crypto error without any data it might quote.
func keyErrorText(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// Signer identifies the key that made a verified signature.
type Signer struct {
	// KeyID is the ID of the key that signed (a subkey's when a subkey signed), as 16
	// upper-case hex digits, e.g. "3AA5C34371567BD2".
	KeyID string
	// Fingerprint is the primary key's fingerprint in upper-case hex.
	Fingerprint string
	// Identity is the primary key's primary user ID, e.g. "Alice <alice@example.com>".
	Identity string
}

// Verified reports the signatures Checkout verified.
type Verified struct {
	// Commit signed the checked out commit; nil when the mode did not ask for it.
	Commit *Signer
	// Tag signed the annotated tag (named TagName); nil when the mode did not ask for it.
	Tag     *Signer
	TagName string
}

// verifyCommit checks that c carries one OpenPGP signature made by a key of ring.
func verifyCommit(c *object.Commit, ring *KeyRing) (*Signer, error) {
	if strings.TrimSpace(c.PGPSignature) == "" {
		return nil, fmt.Errorf("%w: commit %s is not signed", ErrCommitSignature, c.Hash)
	}
	signer, err := verifySignature(ring, c.PGPSignature, c.EncodeWithoutSignature)
	if err != nil {
		return nil, fmt.Errorf("%w: commit %s: %w", ErrCommitSignature, c.Hash, err)
	}
	return signer, nil
}

// verifyTag checks that the annotated tag t carries one OpenPGP signature made by a key
// of ring.
func verifyTag(t *object.Tag, ring *KeyRing) (*Signer, error) {
	if strings.TrimSpace(t.PGPSignature) == "" {
		return nil, fmt.Errorf("%w: tag %q is not signed", ErrTagSignature, t.Name)
	}
	signer, err := verifySignature(ring, t.PGPSignature, t.EncodeWithoutSignature)
	if err != nil {
		return nil, fmt.Errorf("%w: tag %q: %w", ErrTagSignature, t.Name, err)
	}
	return signer, nil
}

// verifySignature checks the armored detached signature sig over the object that encode
// writes (the commit or tag as git hashes it, without its signature).
func verifySignature(ring *KeyRing, sig string, encode func(plumbing.EncodedObject) error) (*Signer, error) {
	if ring == nil || len(ring.entities) == 0 {
		return nil, errors.New("no trusted public keys")
	}
	switch n := strings.Count(sig, "-----BEGIN "); {
	case !strings.Contains(sig, "-----BEGIN PGP SIGNATURE-----"):
		return nil, errors.New("the signature is not an OpenPGP signature (only OpenPGP signatures are supported)")
	case n > 1:
		// Git writes one; more would let a crafted object show one signature and have
		// another checked.
		return nil, fmt.Errorf("the object carries %d signatures, want one", n)
	}
	obj := &plumbing.MemoryObject{}
	if err := encode(obj); err != nil {
		return nil, fmt.Errorf("encoding the signed object: %w", err)
	}
	payload, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer payload.Close()
	return checkSignature(ring, payload, sig)
}

// checkSignature verifies the armored detached signature sig over signed.
func checkSignature(ring *KeyRing, signed io.Reader, sig string) (*Signer, error) {
	block, err := armor.Decode(strings.NewReader(sig))
	if err != nil || block.Type != openpgp.SignatureType {
		return nil, errors.New("the signature is not a readable ASCII-armored OpenPGP signature")
	}
	packet, entity, err := openpgp.VerifyDetachedSignature(ring.entities, signed, block.Body, nil)
	if err != nil {
		return nil, fmt.Errorf("signature not made by a trusted key, or invalid: %s", keyErrorText(err))
	}
	s := &Signer{Fingerprint: strings.ToUpper(hex.EncodeToString(entity.PrimaryKey.Fingerprint))}
	if packet.IssuerKeyId != nil {
		s.KeyID = fmt.Sprintf("%016X", *packet.IssuerKeyId)
	} else {
		s.KeyID = entity.PrimaryKey.KeyIdString()
	}
	if id := entity.PrimaryIdentity(); id != nil {
		s.Identity = id.Name
	}
	return s, nil
}

// verify checks the signatures Options.Verify asks for: the annotated tag fetched as the
// local reference local, and the commit c.
func (s *session) verify(repo *gogit.Repository, local string, c *object.Commit) (*Verified, error) {
	v := s.opts.Verify
	if v == nil {
		return nil, nil
	}
	out := &Verified{}
	if v.tag() {
		tag, err := fetchedTag(repo, local)
		if err != nil {
			return nil, err
		}
		if out.Tag, err = verifyTag(tag, v.KeyRing); err != nil {
			return nil, err
		}
		out.TagName = tag.Name
	}
	if v.commit() {
		var err error
		if out.Commit, err = verifyCommit(c, v.KeyRing); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fetchedTag returns the annotated tag object a fetched tag reference points to.
func fetchedTag(repo *gogit.Repository, local string) (*object.Tag, error) {
	const prefix = "refs/remotes/origin/tags/"
	if !strings.HasPrefix(local, prefix) {
		return nil, fmt.Errorf("%w: no tag was checked out", ErrTagSignature)
	}
	name := strings.TrimPrefix(local, prefix)
	ref, err := repo.Reference(plumbing.ReferenceName(local), true)
	if err != nil {
		return nil, fmt.Errorf("%w: the fetched tag %q is missing: %v", ErrTagSignature, name, err)
	}
	tag, err := repo.TagObject(ref.Hash())
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: tag %q is a lightweight tag; only annotated tags carry a signature", ErrTagSignature, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading tag %q: %v", ErrTagSignature, name, err)
	}
	// The name is part of what is signed: a signed tag of an older release must not pass
	// for a newer one by being pushed under the newer name.
	if tag.Name != name {
		return nil, fmt.Errorf("%w: reference refs/tags/%s points to a tag object named %q", ErrTagSignature, name, tag.Name)
	}
	return tag, nil
}
