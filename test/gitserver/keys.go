package gitserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"testing"

	"golang.org/x/crypto/ssh"
)

// KeyPair is an SSH client key pair, in the forms a Flux secret holds.
type KeyPair struct {
	// Private is the OpenSSH PEM private key (the secret's "identity").
	Private []byte
	// Public is the authorized_keys line (the secret's "identity.pub").
	Public []byte
}

// NewKeyPair generates an ed25519 key pair; a non-empty passphrase encrypts the private key.
func NewKeyPair(t testing.TB, passphrase string) KeyPair {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "gitserver test key")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "gitserver test key", []byte(passphrase))
	}
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	return KeyPair{Private: pem.EncodeToMemory(block), Public: ssh.MarshalAuthorizedKey(sshPub)}
}
