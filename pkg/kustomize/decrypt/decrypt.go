package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/logging"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	"github.com/getsops/sops/v3/stores/json"
	"github.com/getsops/sops/v3/stores/yaml"
)

// ErrTooLarge is returned when the plaintext of the decrypted files exceeds
// Options.MaxSize.
var ErrTooLarge = errors.New("the decrypted files exceed the size limit")

// Options tune a Decryptor.
type Options struct {
	// MaxSize caps the plaintext of all the files decrypted, in bytes; zero
	// or less means no cap.
	MaxSize int64
}

// FileError is a file that could not be decrypted.
type FileError struct {
	// Path names the file as the caller gave it (relative to the source
	// root).
	Path string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("decrypting '%s': %v", e.Path, e.Err) }
func (e *FileError) Unwrap() error { return e.Err }

// Decryptor decrypts the files of one build with one Secret's keys. It is
// not safe for concurrent use.
type Decryptor struct {
	svc     *keyService
	maxSize int64
	size    int64
	// secrets are the decrypted values (and their base64 forms) that
	// Redact removes; replacer is built from them when needed.
	secrets  map[string]struct{}
	replacer *strings.Replacer
}

// silenceSops keeps sops' package-global loggers out of the server's log.
var silenceSops sync.Once

// New returns a Decryptor using keys, which may be empty (nil too): then
// every encrypted file fails, naming the keys it needs.
func New(keys *Keys, opts Options) *Decryptor {
	silenceSops.Do(func() {
		for _, l := range logging.Loggers {
			l.SetOutput(discard{})
		}
	})
	if keys == nil {
		keys = &Keys{}
	}
	return &Decryptor{svc: &keyService{keys: keys}, maxSize: opts.MaxSize, secrets: map[string]struct{}{}}
}

// DecryptManifest decrypts a Kubernetes manifest file, YAML or (named
// *.json) JSON, when it carries sops metadata; otherwise it returns data
// unchanged and false. path names the file in errors.
func (d *Decryptor) DecryptManifest(path string, data []byte) ([]byte, bool, error) {
	format := formats.Yaml
	if formats.IsJSONFile(path) {
		format = formats.Json
	}
	return d.decrypt(path, data, format, false)
}

// DecryptFile decrypts a secretGenerator source (an env file or a file)
// when it carries sops metadata, in the format sops picks from its name:
// dotenv (*.env), INI (*.ini), JSON (*.json), YAML (*.yaml, *.yml) or
// binary (anything else); otherwise it returns data unchanged and false.
func (d *Decryptor) DecryptFile(path string, data []byte) ([]byte, bool, error) {
	return d.decrypt(path, data, formats.FormatForPath(path), true)
}

func (d *Decryptor) decrypt(path string, data []byte, format formats.Format, wholeIsSecret bool) (out []byte, decrypted bool, err error) {
	// sops parses what a tenant wrote; a panic there must not take the
	// server down.
	defer func() {
		if r := recover(); r != nil {
			out, decrypted, err = nil, false, &FileError{Path: path, Err: fmt.Errorf("sops failed on it: %v", r)}
		}
	}()
	// Every sops document names its metadata "sops" (or "sops_..."); most
	// files do not mention it and are not parsed twice.
	if !bytes.Contains(data, []byte("sops")) {
		return data, false, nil
	}
	store, probe := storesFor(format)
	branches, err := probe.LoadPlainFile(data)
	if err != nil || len(branches) == 0 || !hasSopsMAC(branches[0]) {
		// Not a sops document of this format: kustomize reads it as it is.
		return data, false, nil
	}
	fail := func(err error) ([]byte, bool, error) { return nil, false, &FileError{Path: path, Err: err} }
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return fail(fmt.Errorf("invalid sops metadata: %v", err))
	}
	key, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{d.svc.client()}, nil)
	if err != nil {
		return fail(noKeyError(tree.Metadata))
	}
	cipher := &recordingCipher{Cipher: aes.NewCipher(), all: wholeIsSecret}
	mac, err := tree.Decrypt(key, cipher)
	if err != nil {
		return fail(errors.New("a value cannot be decrypted with the file's data key: the file is corrupted"))
	}
	originalMAC, err := aes.NewCipher().Decrypt(tree.Metadata.MessageAuthenticationCode, key,
		tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return fail(errors.New("its MAC cannot be decrypted: the file is corrupted"))
	}
	if originalMAC != mac {
		return fail(errors.New("its MAC does not match its content: the file was changed after it was encrypted " +
			"(edit encrypted files with sops)"))
	}
	out, err = store.EmitPlainFile(tree.Branches)
	if err != nil {
		return fail(fmt.Errorf("writing it in plain %s: %v", store.Name(), err))
	}
	d.size += int64(len(out))
	if d.maxSize > 0 && d.size > d.maxSize {
		return fail(fmt.Errorf("%w of %d bytes", ErrTooLarge, d.maxSize))
	}
	for _, v := range cipher.values {
		d.remember(v)
	}
	if wholeIsSecret {
		d.remember(string(out))
	}
	return out, true, nil
}

// hasSopsMAC reports whether a document's top level holds sops metadata
// with a MAC: a "sops" mapping with a "mac" (YAML, JSON, INI) or a
// "sops_mac" entry (dotenv). Files that merely have a "sops" key are no
// sops documents.
func hasSopsMAC(branch sops.TreeBranch) bool {
	for _, item := range branch {
		switch item.Key {
		case "sops_mac":
			return true
		case "sops":
			if meta, ok := item.Value.(sops.TreeBranch); ok {
				for _, m := range meta {
					if m.Key == "mac" {
						return true
					}
				}
			}
		}
	}
	return false
}

// storesFor returns the sops store that decrypts format and the one that
// tells whether a file is a sops document (the binary store wraps any
// input, its encrypted form is JSON).
func storesFor(format formats.Format) (store, probe sops.Store) {
	switch format {
	case formats.Yaml:
		store = yaml.NewStore(&config.YAMLStoreConfig{})
	case formats.Json:
		store = json.NewStore(&config.JSONStoreConfig{})
	case formats.Dotenv:
		store = dotenv.NewStore(&config.DotenvStoreConfig{})
	case formats.Ini:
		store = ini.NewStore(&config.INIStoreConfig{})
	default:
		return json.NewBinaryStore(&config.JSONBinaryStoreConfig{}), json.NewStore(&config.JSONStoreConfig{})
	}
	return store, store
}

// noKeyError says why no data key came out of m: which keys the file is
// encrypted for (public identifiers only), and whether this server could
// use any of them.
func noKeyError(m sops.Metadata) error {
	var usable []string
	others := map[string]bool{}
	for _, group := range m.KeyGroups {
		for _, k := range group {
			id := k.TypeToIdentifier()
			if offline(id) {
				usable = append(usable, typeName(id)+" "+k.ToString())
			} else {
				others[typeName(id)] = true
			}
		}
	}
	var otherNames []string
	for n := range others {
		otherNames = append(otherNames, n)
	}
	sort.Strings(otherNames)
	if len(usable) == 0 {
		if len(otherNames) == 0 {
			return errors.New("its sops metadata lists no key")
		}
		return fmt.Errorf("it is encrypted only for %s, which is %w; encrypt it for an age or OpenPGP key too (sops updatekeys)",
			strings.Join(otherNames, " and "), ErrUnsupported)
	}
	msg := "no key of the decryption Secret can decrypt it (it is encrypted for " + strings.Join(usable, ", ")
	if len(otherNames) > 0 {
		msg += "; and for " + strings.Join(otherNames, " and ") + ", which this server cannot use"
	}
	msg += ")"
	if n := len(m.KeyGroups); n > 1 {
		need := m.ShamirThreshold
		if need <= 0 || need > n {
			need = n
		}
		msg += fmt.Sprintf("; keys must open %d of its %d key groups", need, n)
	}
	return errors.New(msg)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
