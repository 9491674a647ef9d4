package decrypt

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/getsops/sops/v3"
)

// minRedacted is the shortest value Redact removes: shorter ones ("1",
// "on") would blank out unrelated words, and are no secret to speak of.
const minRedacted = 4

// redactedMark replaces decrypted values in messages.
const redactedMark = "***"

// recordingCipher decrypts like sops' AES cipher and keeps the plaintext
// values, except (in manifests) an object's identity: apiVersion, kind and
// metadata are shown by the inventory and the cluster anyway, and keeping
// them readable keeps messages and diffs useful.
type recordingCipher struct {
	sops.Cipher
	// all records every value (secretGenerator sources are secret whole).
	all    bool
	values []string
}

func (c *recordingCipher) Decrypt(ciphertext string, key []byte, additionalData string) (interface{}, error) {
	v, err := c.Cipher.Decrypt(ciphertext, key, additionalData)
	if err != nil || !c.all && isIdentityPath(additionalData) {
		return v, err
	}
	switch v := v.(type) {
	case string:
		c.values = append(c.values, v)
	case []byte:
		c.values = append(c.values, string(v))
	case sops.Comment:
		c.values = append(c.values, v.Value)
	default:
		c.values = append(c.values, fmt.Sprint(v))
	}
	return v, err
}

// isIdentityPath reports whether a sops value path ("metadata:name:")
// is an object's apiVersion, kind or metadata.
func isIdentityPath(p string) bool {
	return p == "apiVersion:" || p == "kind:" || strings.HasPrefix(p, "metadata:")
}

// remember adds a decrypted value to what Redact removes.
func (d *Decryptor) remember(v string) {
	for _, form := range []string{v, strings.TrimSpace(v)} {
		if len(form) < minRedacted {
			continue
		}
		d.secrets[form] = struct{}{}
		d.secrets[base64.StdEncoding.EncodeToString([]byte(form))] = struct{}{}
		d.replacer = nil
	}
}

// Redact replaces every value d decrypted, and its base64 form, with
// "***" in s. A nil Decryptor returns s.
func (d *Decryptor) Redact(s string) string {
	if d == nil || len(d.secrets) == 0 {
		return s
	}
	if d.replacer == nil {
		olds := make([]string, 0, len(d.secrets))
		for v := range d.secrets {
			olds = append(olds, v)
		}
		// The longest first: a value containing another is replaced whole.
		sort.Slice(olds, func(i, j int) bool {
			if len(olds[i]) != len(olds[j]) {
				return len(olds[i]) > len(olds[j])
			}
			return olds[i] < olds[j]
		})
		pairs := make([]string, 0, 2*len(olds))
		for _, v := range olds {
			pairs = append(pairs, v, redactedMark)
		}
		d.replacer = strings.NewReplacer(pairs...)
	}
	return d.replacer.Replace(s)
}

// Decrypted reports whether d decrypted any value, so callers can skip
// redacting.
func (d *Decryptor) Decrypted() bool { return d != nil && len(d.secrets) > 0 }
