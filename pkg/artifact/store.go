package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultKeep is how many artifacts per object a Store keeps when
// StoreOptions.Keep is zero.
const DefaultKeep = 3

// staleTempAge is how old a leftover temporary file (from a crash during a
// Put) must be before NewStore removes it.
const staleTempAge = time.Hour

// ErrNotFound is wrapped by errors about an artifact or object that the store
// does not hold.
var ErrNotFound = errors.New("artifact not found")

// ErrDigestMismatch is returned at the end of reading an opened artifact
// whose content does not match the digest in its name.
var ErrDigestMismatch = errors.New("artifact content does not match its digest")

// StoreOptions tunes a Store.
type StoreOptions struct {
	// Keep is how many artifacts per object GC leaves (the newest ones);
	// 0 means DefaultKeep.
	Keep int
	// MaxSize caps the uncompressed size of what Put archives, in bytes;
	// 0 means no cap. A smaller ArchiveOptions.MaxSize still applies.
	MaxSize int64
}

// Artifact describes one stored archive.
type Artifact struct {
	// Path is slash-separated and relative to the store's root:
	// "<lowercase kind>/<namespace>/<name>/<sha256 hex>.tar.gz".
	Path string
	// Digest is "sha256:<hex>" of the file's bytes.
	Digest string
	// Size is the file's size in bytes.
	Size int64
	// LastUpdateTime is when the file was last stored (written or reused).
	LastUpdateTime time.Time
}

// Store keeps artifacts content-addressed on local disk under one root
// directory, a few per object. It is safe for concurrent use; operations on
// one key are serialised, and a reader that has opened an artifact keeps
// reading it even if GC or Delete removes it meanwhile (Linux unlink
// semantics). One Store should own a root at a time.
type Store struct {
	root  string
	opts  StoreOptions
	locks keyLocks
}

// NewStore opens (creating if needed) the store under root and removes
// temporary files that an interrupted Put left behind.
func NewStore(root string, opts StoreOptions) (*Store, error) {
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("artifact store root: %w", err)
	}
	tmp := filepath.Join(abs, tmpDirName)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("artifact store root: %w", err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("artifact store root: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTempAge {
			_ = os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
	return &Store{root: abs, opts: opts}, nil
}

// Root returns the store's absolute root directory.
func (s *Store) Root() string { return s.root }

// Put archives srcDir (see Archive) as the newest artifact of key. The
// archive is written to a temporary file on the store's filesystem while its
// sha256 is computed, then renamed into place atomically. When the object
// already has an identical archive, that file is reused and marked newest.
func (s *Store) Put(ctx context.Context, key Key, srcDir string, opts ArchiveOptions) (*Artifact, error) {
	if s.opts.MaxSize > 0 && (opts.MaxSize <= 0 || opts.MaxSize > s.opts.MaxSize) {
		opts.MaxSize = s.opts.MaxSize
	}
	return s.put(key, func(w io.Writer) error {
		_, err := Archive(ctx, srcDir, w, opts)
		return err
	})
}

// PutArchive stores the bytes read from r, an archive made elsewhere (a
// packaged Helm chart, an OCI layer), as the newest artifact of key. r is
// stored as it is; nothing checks that it is a tar.gz.
func (s *Store) PutArchive(ctx context.Context, key Key, r io.Reader) (*Artifact, error) {
	return s.put(key, func(w io.Writer) error {
		_, err := io.Copy(w, &ctxReader{ctx: ctx, r: r})
		return err
	})
}

// put runs write into a temporary file and moves the result into key's
// directory under its digest.
func (s *Store) put(key Key, write func(io.Writer) error) (*Artifact, error) {
	dir, err := key.dir()
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, tmpDirName), "put-*"+archiveExt)
	if err != nil {
		return nil, fmt.Errorf("storing artifact of %s: %w", key, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmpName != "" { // not renamed into place
			_ = os.Remove(tmpName)
		}
	}()
	h := sha256.New()
	err = write(io.MultiWriter(tmp, h))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("storing artifact of %s: %w", key, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rel := path.Join(dir, sum+archiveExt)

	unlock := s.locks.lock(key.normalize())
	defer unlock()
	objDir := filepath.Join(s.root, filepath.FromSlash(dir))
	if err := os.MkdirAll(objDir, 0o755); err != nil {
		return nil, fmt.Errorf("storing artifact of %s: %w", key, err)
	}
	final := filepath.Join(s.root, filepath.FromSlash(rel))
	renamed, err := place(tmpName, final)
	if renamed {
		tmpName = "" // the name is free again; never remove another Put's file
	}
	if err != nil {
		return nil, fmt.Errorf("storing artifact of %s: %w", key, err)
	}
	info, err := os.Stat(final)
	if err != nil {
		return nil, fmt.Errorf("storing artifact of %s: %w", key, err)
	}
	return newArtifact(rel, sum, info), nil
}

// place moves the temporary file tmp to final, or, when final already holds
// the same content (same name, same size), keeps final and marks it newest
// so that GC counts it as the current artifact. It reports whether tmp was
// renamed.
func place(tmp, final string) (bool, error) {
	tmpInfo, err := os.Stat(tmp)
	if err != nil {
		return false, err
	}
	if info, err := os.Lstat(final); err == nil && info.Mode().IsRegular() && info.Size() == tmpInfo.Size() {
		now := time.Now()
		return false, os.Chtimes(final, now, now)
	}
	if err := os.Chmod(tmp, 0o644); err != nil { // CreateTemp makes 0600
		return false, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return false, err
	}
	return true, syncDir(filepath.Dir(final))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open opens the artifact at the relative path p (as in Artifact.Path). It
// refuses anything that is not a well-formed artifact path inside the root.
// The reader checks the content against the digest in the file name as it
// goes and returns ErrDigestMismatch instead of io.EOF when they differ.
func (s *Store) Open(p string) (io.ReadCloser, *Artifact, error) {
	sum, err := parseArtifactPath(p)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenInRoot(s.root, filepath.FromSlash(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("opening artifact %s: %w", p, err)
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("opening artifact %s: %w", p, err)
	}
	return &verifyingReader{f: f, h: sha256.New(), want: sum, path: p}, newArtifact(p, sum, info), nil
}

// Exists reports whether the artifact at the relative path p is stored.
func (s *Store) Exists(p string) bool {
	if _, err := parseArtifactPath(p); err != nil {
		return false
	}
	info, err := os.Lstat(filepath.Join(s.root, filepath.FromSlash(p)))
	return err == nil && info.Mode().IsRegular()
}

// Latest returns the newest artifact of key, or an ErrNotFound error.
func (s *Store) Latest(key Key) (*Artifact, error) {
	list, err := s.list(key)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no artifact for %s", ErrNotFound, key)
	}
	return list[0], nil
}

// GC removes all but the newest Keep artifacts of key, and never the one at
// keepPath (normally the artifact the object's status points to). It returns
// the paths it removed.
func (s *Store) GC(key Key, keepPath string) ([]string, error) {
	unlock := s.locks.lock(key.normalize())
	defer unlock()
	list, err := s.list(key)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for i, a := range list {
		if i < s.opts.Keep || a.Path == keepPath {
			continue
		}
		if err := os.Remove(filepath.Join(s.root, filepath.FromSlash(a.Path))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, a.Path)
	}
	return removed, errors.Join(errs...)
}

// Delete removes every artifact of key, with its directory. Deleting a key
// with no artifacts is not an error.
func (s *Store) Delete(key Key) error {
	dir, err := key.dir()
	if err != nil {
		return err
	}
	unlock := s.locks.lock(key.normalize())
	defer unlock()
	if err := os.RemoveAll(filepath.Join(s.root, filepath.FromSlash(dir))); err != nil {
		return fmt.Errorf("deleting artifacts of %s: %w", key, err)
	}
	return nil
}

// Keys lists the objects of kind that have a directory in the store (the
// kind as given; it is matched lower-cased, as stored).
func (s *Store) Keys(kind string) ([]Key, error) {
	kindDir := filepath.Join(s.root, strings.ToLower(kind))
	namespaces, err := os.ReadDir(kindDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s artifacts: %w", kind, err)
	}
	var keys []Key
	for _, ns := range namespaces {
		if !ns.IsDir() {
			continue
		}
		names, err := os.ReadDir(filepath.Join(kindDir, ns.Name()))
		if err != nil {
			return nil, fmt.Errorf("listing %s artifacts: %w", kind, err)
		}
		for _, n := range names {
			if n.IsDir() {
				keys = append(keys, Key{Kind: kind, Namespace: ns.Name(), Name: n.Name()})
			}
		}
	}
	return keys, nil
}

// list returns key's artifacts, newest first (ties broken by path, so the
// order is stable).
func (s *Store) list(key Key) ([]*Artifact, error) {
	dir, err := key.dir()
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(s.root, filepath.FromSlash(dir)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing artifacts of %s: %w", key, err)
	}
	var list []*Artifact
	for _, e := range entries {
		sum, ok := digestFromFileName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("listing artifacts of %s: %w", key, err)
		}
		list = append(list, newArtifact(path.Join(dir, e.Name()), sum, info))
	}
	sort.Slice(list, func(i, j int) bool {
		if ti, tj := list[i].LastUpdateTime, list[j].LastUpdateTime; !ti.Equal(tj) {
			return ti.After(tj)
		}
		return list[i].Path < list[j].Path
	})
	return list, nil
}

func newArtifact(rel, sum string, info fs.FileInfo) *Artifact {
	return &Artifact{Path: rel, Digest: digestPrefix + sum, Size: info.Size(), LastUpdateTime: info.ModTime()}
}

// verifyingReader hashes what is read and checks it at EOF.
type verifyingReader struct {
	f    *os.File
	h    hash.Hash
	want string
	path string
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) && hex.EncodeToString(v.h.Sum(nil)) != v.want {
		return n, fmt.Errorf("%w: %s", ErrDigestMismatch, v.path)
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.f.Close() }

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// OpenFor opens p only if it is one of key's own artifacts, so a status
// naming another object's artifact cannot be used to read that one.
func (s *Store) OpenFor(key Key, p string) (io.ReadCloser, *Artifact, error) {
	dir, err := key.dir()
	if err != nil {
		return nil, nil, err
	}
	if path.Dir(p) != dir {
		return nil, nil, fmt.Errorf("%w: %s is not an artifact of %s", ErrUnsafePath, p, key)
	}
	return s.Open(p)
}
