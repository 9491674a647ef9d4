package decrypt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keyservice"
)

// maxDataKeySize bounds what an OpenPGP message may decrypt (and
// decompress) to: a sops data key (or Shamir share) is a few dozen bytes.
const maxDataKeySize = 4 << 10

// keyService is a sops key service that decrypts data keys with one Keys
// value, in memory. It never encrypts.
type keyService struct {
	keyservice.UnimplementedKeyServiceServer
	keys *Keys
}

var _ keyservice.KeyServiceServer = &keyService{}

// client is the key service client given to sops for one file.
func (s *keyService) client() keyservice.KeyServiceClient {
	return keyservice.NewCustomLocalClient(s)
}

// Decrypt decrypts a data key encrypted for an age recipient or an OpenPGP
// key. Errors never carry key material.
func (s *keyService) Decrypt(_ context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	var plaintext []byte
	var err error
	switch k := req.GetKey(); {
	case k.GetAgeKey() != nil:
		plaintext, err = s.decryptAge(k.GetAgeKey().GetRecipient(), req.GetCiphertext())
	case k.GetPgpKey() != nil:
		plaintext, err = s.decryptPGP(req.GetCiphertext())
	default:
		err = fmt.Errorf("%s keys are %w", keyTypeName(k), ErrUnsupported)
	}
	if err != nil {
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: plaintext}, nil
}

func (s *keyService) decryptAge(recipient string, ciphertext []byte) ([]byte, error) {
	// Without identities sops' age key source would look for keys in the
	// environment and the user's config directory: never call it so.
	if len(s.keys.age) == 0 {
		return nil, errors.New("the decryption Secret holds no age key")
	}
	mk := &sopsage.MasterKey{Recipient: recipient, EncryptedKey: string(ciphertext)}
	sopsage.ParsedIdentities(s.keys.age).ApplyToMasterKey(mk)
	plaintext, err := mk.Decrypt()
	if err != nil {
		return nil, errors.New("no age key of the decryption Secret matches")
	}
	return plaintext, nil
}

func (s *keyService) decryptPGP(ciphertext []byte) ([]byte, error) {
	if len(s.keys.pgp) == 0 {
		return nil, errors.New("the decryption Secret holds no OpenPGP key")
	}
	block, err := armor.Decode(bytes.NewReader(ciphertext))
	if err != nil {
		return nil, fmt.Errorf("the encrypted data key is not an armored OpenPGP message: %v", err)
	}
	md, err := openpgp.ReadMessage(block.Body, s.keys.pgp, noPassphrase, nil)
	if err != nil {
		return nil, errors.New("no OpenPGP key of the decryption Secret matches")
	}
	plaintext, err := io.ReadAll(io.LimitReader(md.UnverifiedBody, maxDataKeySize+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("decrypting the data key with OpenPGP: %v", err)
	case len(plaintext) > maxDataKeySize:
		return nil, errors.New("the OpenPGP message is too large to be a data key")
	}
	return plaintext, nil
}

// noPassphrase refuses symmetric (passphrase) messages; ParseKeys already
// refused passphrase-protected keys.
func noPassphrase([]openpgp.Key, bool) ([]byte, error) {
	return nil, errors.New("no passphrase can be supplied")
}

// keyTypeName names the key service of a sops key for messages.
func keyTypeName(k *keyservice.Key) string {
	switch {
	case k.GetAgeKey() != nil:
		return "age"
	case k.GetPgpKey() != nil:
		return "OpenPGP"
	case k.GetKmsKey() != nil:
		return "AWS KMS"
	case k.GetGcpKmsKey() != nil:
		return "GCP KMS"
	case k.GetAzureKeyvaultKey() != nil:
		return "Azure Key Vault"
	case k.GetVaultKey() != nil:
		return "HashiCorp Vault"
	case k.GetHckmsKey() != nil:
		return "HuaweiCloud KMS"
	}
	return "unknown"
}

// keyTypeNames maps sops' key type identifiers to names for messages.
var keyTypeNames = map[string]string{
	"age": "age", "pgp": "OpenPGP", "kms": "AWS KMS", "gcp_kms": "GCP KMS",
	"azure_kv": "Azure Key Vault", "hc_vault": "HashiCorp Vault", "hckms": "HuaweiCloud KMS",
}

// offline reports whether keys of a sops key type identifier can be used
// here.
func offline(typeID string) bool { return typeID == "age" || typeID == "pgp" }

func typeName(typeID string) string {
	if n, ok := keyTypeNames[typeID]; ok {
		return n
	}
	return strings.ReplaceAll(typeID, "_", " ")
}
