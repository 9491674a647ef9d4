package decrypt_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/decrypt/decrypttest"
)

func TestParseKeys(t *testing.T) {
	ageKey := decrypttest.NewAgeKey(t)
	pgpKey := decrypttest.NewPGPKey(t, 0)
	protected := decrypttest.NewPGPKey(t, 0)
	if err := protected.Entity.EncryptPrivateKeys([]byte("passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	var public bytes.Buffer
	w, _ := armor.Encode(&public, openpgp.PublicKeyType, nil)
	if err := pgpKey.Entity.Serialize(w); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	// A mistyped key: its content must never show in a message.
	mistyped := strings.Replace(ageKey.Identity, "AGE-SECRET-KEY-1", "AGE-SECRET-KEY-1X", 1)

	tests := []struct {
		name        string
		data        map[string]string
		wantErr     string
		unsupported bool
	}{
		{name: "age and OpenPGP keys, other entries ignored", data: map[string]string{
			"age.agekey": "# key\n\n" + ageKey.Identity + "\n", "sops.asc": pgpKey.ArmoredPrivate(t), "README": "not a key"}},
		{name: "empty Secret", data: map[string]string{}},
		{name: "AWS KMS credentials", data: map[string]string{"age.agekey": ageKey.Identity, "sops.aws-kms": "aws_access_key_id: x"},
			wantErr: "entry 'sops.aws-kms' holds AWS KMS credentials: decrypting with AWS KMS is not supported by this server", unsupported: true},
		{name: "Azure Key Vault", data: map[string]string{"sops.azure-kv": "tenantId: x"},
			wantErr: "entry 'sops.azure-kv' holds Azure Key Vault credentials", unsupported: true},
		{name: "GCP KMS", data: map[string]string{"sops.gcp-kms": "{}"},
			wantErr: "entry 'sops.gcp-kms' holds GCP KMS credentials", unsupported: true},
		{name: "Vault token", data: map[string]string{"sops.vault-token": "hvs.token"},
			wantErr: "entry 'sops.vault-token' holds a HashiCorp Vault token: decrypting with HashiCorp Vault is not supported", unsupported: true},
		{name: "malformed age key", data: map[string]string{"age.agekey": "# ok\n" + mistyped + "\n"},
			wantErr: "entry 'age.agekey': line 2 is not a valid age secret key"},
		{name: "age plugin identity", data: map[string]string{"yubi.agekey": "AGE-PLUGIN-YUBIKEY-1QQQ"},
			wantErr: "entry 'yubi.agekey': line 1 is an age plugin identity", unsupported: true},
		{name: "no age identity", data: map[string]string{"age.agekey": "# nothing\n"},
			wantErr: "entry 'age.agekey': no age identity in it"},
		{name: "not armored", data: map[string]string{"sops.asc": "hello"},
			wantErr: "entry 'sops.asc': not an armored OpenPGP key"},
		{name: "public OpenPGP key only", data: map[string]string{"sops.asc": public.String()},
			wantErr: "entry 'sops.asc': no OpenPGP private key in it"},
		{name: "passphrase-protected OpenPGP key", data: map[string]string{"sops.asc": protected.ArmoredPrivate(t)},
			wantErr: "is protected by a passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := map[string][]byte{}
			for k, v := range tt.data {
				raw[k] = []byte(v)
			}
			keys, err := decrypt.ParseKeys(raw)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseKeys: %v", err)
				}
				if keys == nil {
					t.Fatal("nil Keys")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
			if errors.Is(err, decrypt.ErrUnsupported) != tt.unsupported {
				t.Errorf("errors.Is(ErrUnsupported) = %v", !tt.unsupported)
			}
			for _, v := range tt.data {
				if len(v) > 8 && strings.Contains(err.Error(), v) || strings.Contains(err.Error(), mistyped) {
					t.Errorf("error %q quotes a Secret entry", err)
				}
			}
		})
	}
}
