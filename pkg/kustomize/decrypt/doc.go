// Package decrypt decrypts SOPS-encrypted files in memory for one
// Kustomization build, with the keys of that Kustomization's decryption
// Secret only (Flux's spec.decryption with provider sops):
//
//   - ParseKeys reads the Secret's data: entries ending in ".agekey" hold
//     age identities (one per line, "#" comments), entries ending in ".asc"
//     armored OpenPGP private keys without a passphrase. Entries for key
//     services this server cannot use (AWS KMS, Azure Key Vault, GCP KMS,
//     HashiCorp Vault) are an error wrapping ErrUnsupported that names the
//     entry; other entries are ignored, as in Flux.
//   - A Decryptor decrypts a manifest (YAML, or JSON by its ".json" name)
//     or a secretGenerator source (dotenv, INI, JSON, YAML or binary, by
//     its name as sops chooses the format) when it carries sops metadata,
//     verifies the MAC, and returns anything else unchanged. Errors are a
//     *FileError naming the file; a file that only keys of another kind
//     could open wraps ErrUnsupported. Plaintext may not exceed
//     Options.MaxSize in total (ErrTooLarge).
//   - Redact removes every value a Decryptor decrypted (and its base64
//     form) from a message, for errors and diffs shown to users.
//
// Isolation: keys live in the Keys value and reach sops through a key
// service of our own (keyService) passed to sops per file; nothing is read
// from or written to the environment, $HOME, GNUPGHOME, a keyring file or
// the disk, and no program is run. This is why the package does not use
// sops' own key service server or its pgp key source (which read keyrings
// from disk and fall back to the gpg binary and the process's GNUPGHOME)
// nor sops' age key source without identities (which falls back to
// SOPS_AGE_KEY* variables and the user's key file): age data keys are
// decrypted by sops' age key source with our identities injected, OpenPGP
// data keys with github.com/ProtonMail/go-crypto directly. Age plugin
// identities are refused, since they run programs.
//
// The one process-wide setting is that sops' own loggers are silenced
// (once, on first use): they are package globals of sops, and what they
// print is not ours to put in the server's log.
//
// Files are never checked against a .sops.yaml: its creation rules only
// matter when encrypting, as in Flux.
package decrypt
