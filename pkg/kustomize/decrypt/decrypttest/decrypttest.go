// Package decrypttest makes keys and encrypts files as `sops --encrypt`
// does, for tests of SOPS decryption. It uses sops' Go API, filippo.io/age
// and github.com/ProtonMail/go-crypto in memory: no sops or gpg binary, no
// keyring, no environment variable.
package decrypttest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/kms"
	"github.com/getsops/sops/v3/pgp"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	"github.com/getsops/sops/v3/stores/json"
	"github.com/getsops/sops/v3/stores/yaml"
)

// AgeKey is a generated age key pair.
type AgeKey struct {
	// Identity is the secret key line (AGE-SECRET-KEY-1…), what a
	// Secret's *.agekey entry holds.
	Identity string
	// Recipient is the public key (age1…).
	Recipient string
}

// NewAgeKey generates an X25519 age key pair.
func NewAgeKey(t testing.TB) AgeKey {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return AgeKey{Identity: id.String(), Recipient: id.Recipient().String()}
}

// NewHybridAgeKey generates a post-quantum (ML-KEM-768 + X25519) age key
// pair.
func NewHybridAgeKey(t testing.TB) AgeKey {
	t.Helper()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return AgeKey{Identity: id.String(), Recipient: id.Recipient().String()}
}

// PGPKey is a generated OpenPGP key without a passphrase.
type PGPKey struct {
	Entity *openpgp.Entity
	// Fingerprint is the primary key's, in upper-case hex as sops writes it.
	Fingerprint string
}

// NewPGPKey generates an OpenPGP key: EdDSA with an ECDH subkey, or RSA of
// rsaBits when it is not zero.
func NewPGPKey(t testing.TB, rsaBits int) PGPKey {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
	if rsaBits > 0 {
		cfg = &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: rsaBits}
	}
	e, err := openpgp.NewEntity("Flux test", "", "flux@example.com", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return PGPKey{Entity: e, Fingerprint: fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)}
}

// ArmoredPrivate is the key as `gpg --export-secret-keys --armor` gives
// it, what a Secret's *.asc entry holds.
func (k PGPKey) ArmoredPrivate(t testing.TB) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Entity.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// Options say for which keys, and how, a file is encrypted.
type Options struct {
	Age []AgeKey
	PGP []PGPKey
	// AWSKMS adds AWS KMS key ARNs whose encrypted data key is a stand-in:
	// nothing can open the file with them.
	AWSKMS []string
	// EncryptedRegex is sops' --encrypted-regex, e.g. "^(data|stringData)$";
	// empty encrypts every value.
	EncryptedRegex string
}

// Encrypt encrypts plaintext in format ("yaml", "json", "dotenv", "ini" or
// "binary") as `sops --encrypt` would, in one key group.
func Encrypt(t testing.TB, plaintext []byte, format string, opts Options) []byte {
	t.Helper()
	store := storeFor(formats.FormatFromString(format))
	branches, err := store.LoadPlainFile(plaintext)
	if err != nil {
		t.Fatalf("reading the plain %s file: %v", format, err)
	}
	var group sops.KeyGroup
	for _, k := range opts.Age {
		mk, err := sopsage.MasterKeyFromRecipient(k.Recipient)
		if err != nil {
			t.Fatal(err)
		}
		group = append(group, mk)
	}
	enc := &encryptor{pgp: map[string]*openpgp.Entity{}}
	for _, k := range opts.PGP {
		group = append(group, pgp.NewMasterKeyFromFingerprint(k.Fingerprint))
		enc.pgp[k.Fingerprint] = k.Entity
	}
	for _, arn := range opts.AWSKMS {
		group = append(group, kms.NewMasterKeyFromArn(arn, nil, ""))
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups: []sops.KeyGroup{group}, EncryptedRegex: opts.EncryptedRegex, Version: "3.13.3",
	}}
	dataKey, errs := tree.GenerateDataKeyWithKeyServices([]keyservice.KeyServiceClient{keyservice.NewCustomLocalClient(enc)})
	if len(errs) > 0 {
		t.Fatalf("encrypting the data key: %v", errs)
	}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		t.Fatal(err)
	}
	tree.Metadata.LastModified = time.Now().UTC()
	if tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Tamper damages the ciphertext of the first encrypted value of an
// encrypted file (two characters swapped, or one flipped), as a careless
// edit would: that value no longer passes AES-GCM authentication.
func Tamper(t testing.TB, encrypted []byte) []byte {
	t.Helper()
	s := string(encrypted)
	i := strings.Index(s, "ENC[AES256_GCM,data:")
	if i < 0 {
		t.Fatal("no encrypted value to tamper with")
	}
	j := i + len("ENC[AES256_GCM,data:")
	b := []byte(s)
	b[j], b[j+1] = b[j+1], b[j]
	if b[j] == b[j+1] {
		b[j] ^= 1
	}
	return b
}

func storeFor(f formats.Format) sops.Store {
	switch f {
	case formats.Yaml:
		return yaml.NewStore(&config.YAMLStoreConfig{})
	case formats.Json:
		return json.NewStore(&config.JSONStoreConfig{})
	case formats.Dotenv:
		return dotenv.NewStore(&config.DotenvStoreConfig{})
	case formats.Ini:
		return ini.NewStore(&config.INIStoreConfig{})
	}
	return json.NewBinaryStore(&config.JSONBinaryStoreConfig{})
}

// encryptor is a sops key service that encrypts data keys in memory.
type encryptor struct {
	keyservice.UnimplementedKeyServiceServer
	pgp map[string]*openpgp.Entity
}

func (e *encryptor) Encrypt(_ context.Context, req *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	k := req.GetKey()
	switch {
	case k.GetAgeKey() != nil:
		mk, err := sopsage.MasterKeyFromRecipient(k.GetAgeKey().GetRecipient())
		if err != nil {
			return nil, err
		}
		if err := mk.Encrypt(req.GetPlaintext()); err != nil {
			return nil, err
		}
		return &keyservice.EncryptResponse{Ciphertext: mk.EncryptedDataKey()}, nil
	case k.GetPgpKey() != nil:
		entity := e.pgp[k.GetPgpKey().GetFingerprint()]
		var buf bytes.Buffer
		aw, err := armor.Encode(&buf, "PGP MESSAGE", nil)
		if err != nil {
			return nil, err
		}
		w, err := openpgp.Encrypt(aw, []*openpgp.Entity{entity}, nil, nil, nil)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(req.GetPlaintext()); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
		return &keyservice.EncryptResponse{Ciphertext: buf.Bytes()}, nil
	case k.GetKmsKey() != nil:
		return &keyservice.EncryptResponse{Ciphertext: []byte("c3RhbmQtaW4=")}, nil
	}
	return nil, fmt.Errorf("decrypttest cannot encrypt for %v", k)
}
