package cosign

import (
	"crypto"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PublicKeySuffix ends the name of every Secret entry holding a cosign
// public key (cosign generate-key-pair writes cosign.pub).
const PublicKeySuffix = ".pub"

// Errors callers map to conditions; test them with errors.Is.
var (
	// ErrInvalidKey: a key entry is missing, not PEM or of an unsupported
	// type.
	ErrInvalidKey = errors.New("invalid public key")
	// ErrUnsigned: no signature of the manifest was found.
	ErrUnsigned = errors.New("no signature found")
	// ErrNoValidSignature: signatures were found, none is valid for the
	// manifest with the keys given.
	ErrNoValidSignature = errors.New("no valid signature")
)

// PublicKey is one trusted key, named after its Secret entry.
type PublicKey struct {
	// Name is the Secret entry the key came from, for messages.
	Name     string
	verifier signature.Verifier
}

// PublicKeys reads every entry of a Secret's data whose name ends in
// PublicKeySuffix as a PEM public key, sorted by name. Other entries are
// ignored; a Secret without any, or with an entry that is not a usable
// key, is an ErrInvalidKey.
func PublicKeys(data map[string][]byte) ([]PublicKey, error) {
	var names []string
	for name := range data {
		if strings.HasSuffix(name, PublicKeySuffix) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no entry ending in '%s'", ErrInvalidKey, PublicKeySuffix)
	}
	sort.Strings(names)
	keys := make([]PublicKey, 0, len(names))
	for _, name := range names {
		k, err := ParsePublicKey(name, data[name])
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ParsePublicKey reads one PEM public key (PKIX "PUBLIC KEY", or PKCS#1
// "RSA PUBLIC KEY") named name.
func ParsePublicKey(name string, pemBytes []byte) (PublicKey, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		// The parser's message may quote the PEM type, never the key.
		return PublicKey{}, fmt.Errorf("%w: '%s' is not a PEM public key: %v", ErrInvalidKey, name, err)
	}
	// cosign signs the SHA-256 digest of the payload with every key type
	// but Ed25519, which signs the payload itself.
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: '%s': %v", ErrInvalidKey, name, err)
	}
	return PublicKey{Name: name, verifier: v}, nil
}
