package decrypt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
)

// Suffixes of the decryption Secret's entries holding keys, as in Flux.
const (
	// AgeKeySuffix ends entries holding age identities.
	AgeKeySuffix = ".agekey"
	// PGPKeySuffix ends entries holding armored OpenPGP private keys.
	PGPKeySuffix = ".asc"
)

// ErrUnsupported marks keys and files that need a key service this server
// cannot use (cloud KMS, HashiCorp Vault).
var ErrUnsupported = errors.New("not supported by this server")

// unsupportedEntries are the Secret entries Flux reads for key services
// that are not offline: what they hold, and the service.
var unsupportedEntries = map[string][2]string{
	"sops.aws-kms":     {"AWS KMS credentials", "AWS KMS"},
	"sops.azure-kv":    {"Azure Key Vault credentials", "Azure Key Vault"},
	"sops.gcp-kms":     {"GCP KMS credentials", "GCP KMS"},
	"sops.vault-token": {"a HashiCorp Vault token", "HashiCorp Vault"},
}

// Keys are the private keys of one decryption Secret. The zero value holds
// none: encrypted files then fail to decrypt.
type Keys struct {
	age []age.Identity
	pgp openpgp.EntityList
}

// Empty reports whether k holds no key.
func (k *Keys) Empty() bool { return k == nil || len(k.age) == 0 && len(k.pgp) == 0 }

// ParseKeys reads the keys of a decryption Secret's data. Errors name the
// entry (and line) at fault, never its content.
func ParseKeys(data map[string][]byte) (*Keys, error) {
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	sort.Strings(names) // the same Secret always gives the same error
	keys := &Keys{}
	for _, name := range names {
		value := data[name]
		if u, ok := unsupportedEntries[name]; ok {
			return nil, fmt.Errorf("entry '%s' holds %s: decrypting with %s is %w; only age (%s) and OpenPGP (%s) keys are",
				name, u[0], u[1], ErrUnsupported, AgeKeySuffix, PGPKeySuffix)
		}
		switch {
		case strings.HasSuffix(name, AgeKeySuffix):
			ids, err := parseAgeIdentities(value)
			if err != nil {
				return nil, fmt.Errorf("entry '%s': %w", name, err)
			}
			keys.age = append(keys.age, ids...)
		case strings.HasSuffix(name, PGPKeySuffix):
			entities, err := parsePGPKeys(value)
			if err != nil {
				return nil, fmt.Errorf("entry '%s': %w", name, err)
			}
			keys.pgp = append(keys.pgp, entities...)
		}
	}
	return keys, nil
}

// parseAgeIdentities reads native age identities, one per line. Error
// messages never quote a line: it may be a (mistyped) key.
func parseAgeIdentities(data []byte) ([]age.Identity, error) {
	var ids []age.Identity
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		var id age.Identity
		var err error
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "AGE-PLUGIN-"):
			return nil, fmt.Errorf("line %d is an age plugin identity, which is %w (plugins are programs)", n, ErrUnsupported)
		case strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-1"):
			id, err = age.ParseHybridIdentity(line)
		case strings.HasPrefix(line, "AGE-SECRET-KEY-1"):
			id, err = age.ParseX25519Identity(line)
		default:
			err = errors.New("not an age secret key")
		}
		if err != nil {
			return nil, fmt.Errorf("line %d is not a valid age secret key (AGE-SECRET-KEY-1…)", n)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading age identities: %v", err)
	}
	if len(ids) == 0 {
		return nil, errors.New("no age identity in it")
	}
	return ids, nil
}

// parsePGPKeys reads armored OpenPGP keys; at least one must be a private
// key, and none may need a passphrase (nobody could type it).
func parsePGPKeys(data []byte) (openpgp.EntityList, error) {
	entities, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		return nil, errors.New("not an armored OpenPGP key (export it with gpg --export-secret-keys --armor)")
	}
	private := 0
	for _, e := range entities {
		if e.PrivateKey == nil {
			continue
		}
		private++
		if e.PrivateKey.Encrypted || anySubkeyEncrypted(e) {
			return nil, fmt.Errorf("the OpenPGP key %X is protected by a passphrase, which this server cannot supply; "+
				"export a key without one", e.PrimaryKey.Fingerprint)
		}
	}
	if private == 0 {
		return nil, errors.New("no OpenPGP private key in it, only public ones (export it with gpg --export-secret-keys --armor)")
	}
	return entities, nil
}

func anySubkeyEncrypted(e *openpgp.Entity) bool {
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil && s.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}
