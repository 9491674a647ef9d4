package build

import (
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Decryptor decrypts the files a build reads (Flux's spec.decryption). Each
// method returns the content unchanged and false when it is not encrypted;
// path is relative to the artifact root, for messages.
type Decryptor interface {
	// DecryptManifest decrypts a resource file.
	DecryptManifest(path string, data []byte) ([]byte, bool, error)
	// DecryptFile decrypts a secretGenerator source: a file or an env
	// file.
	DecryptFile(path string, data []byte) ([]byte, bool, error)
}

// decryptFiles decrypts, in fs, the resource files and the secretGenerator
// sources of the kustomizations reachable from dir, before kustomize reads
// them, as Flux does. Other files (patches, configMapGenerator sources,
// files no kustomization names) are left as they are. It returns a function
// putting the encrypted contents back, so no plaintext stays in fs.
func decryptFiles(fs filesys.FileSystem, dir string, d Decryptor) (restore func(), err error) {
	w := &decryptWalker{fs: fs, seen: map[string]bool{}, manifests: map[string]bool{}, sources: map[string]bool{}}
	if err := w.walk(dir); err != nil {
		return nil, err
	}
	originals := map[string][]byte{}
	restore = func() {
		for p, data := range originals {
			_ = fs.WriteFile(p, data)
		}
	}
	for _, files := range []struct {
		set     map[string]bool
		decrypt func(string, []byte) ([]byte, bool, error)
	}{{w.manifests, d.DecryptManifest}, {w.sources, d.DecryptFile}} {
		for _, p := range sortedKeys(files.set) {
			if _, done := originals[p]; done {
				continue // both a resource and a source: decrypted once
			}
			data, err := fs.ReadFile(p)
			if err != nil {
				return restore, err
			}
			plain, ok, err := files.decrypt(strings.TrimPrefix(p, "/"), data)
			if err != nil {
				return restore, err
			}
			if !ok {
				continue
			}
			originals[p] = data
			if err := fs.WriteFile(p, plain); err != nil {
				return restore, err
			}
		}
	}
	return restore, nil
}

// decryptWalker collects the files to decrypt: resource files and
// secretGenerator sources, through resources, bases and components that
// are directories. Entries kustomize would fetch remotely are skipped
// (checkKustomizations has vetted them already).
type decryptWalker struct {
	fs                 filesys.FileSystem
	seen               map[string]bool
	manifests, sources map[string]bool
}

func (w *decryptWalker) walk(dir string) error {
	if w.seen[dir] {
		return nil
	}
	w.seen[dir] = true
	file, err := findKustomizationFile(w.fs, dir)
	if err != nil || file == "" {
		return err
	}
	k, err := loadKustomization(w.fs, file)
	if err != nil {
		return err
	}
	for _, list := range [][]string{k.Resources, k.Bases, k.Components} {
		for _, entry := range list {
			p, ok := w.local(dir, entry)
			switch {
			case !ok:
			case w.fs.IsDir(p):
				if err := w.walk(p); err != nil {
					return err
				}
			default:
				w.manifests[p] = true
			}
		}
	}
	for _, g := range k.SecretGenerator {
		entries := append(append([]string{g.EnvSource}, g.EnvSources...), g.FileSources...)
		for _, entry := range entries {
			if _, src, ok := strings.Cut(entry, "="); ok {
				entry = src // "key=path"
			}
			if p, ok := w.local(dir, entry); ok && !w.fs.IsDir(p) {
				w.sources[p] = true
			}
		}
	}
	return nil
}

// local resolves a kustomization entry to an existing path in fs; false
// for empty, inline, remote or missing entries (kustomize reports those).
func (w *decryptWalker) local(dir, entry string) (string, bool) {
	if entry == "" || strings.Contains(entry, "\n") || path.IsAbs(entry) || looksRemote(entry) {
		return "", false
	}
	p := path.Join(dir, entry)
	return p, w.fs.Exists(p)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
