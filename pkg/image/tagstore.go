package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNoTags is returned (wrapped) by TagStore.Get for a key that was never stored.
var ErrNoTags = errors.New("no tags stored")

// TagStore keeps tag lists outside etcd: one file per key, "<dir>/<namespace>/<name>.tags",
// one tag per line. Writes go to a temporary file renamed over the old one, so a reader or
// a restart sees the old list or the new one, never a part. Safe for concurrent use by
// several goroutines and processes (the last Put wins).
type TagStore struct {
	dir string
}

// NewTagStore returns a store under dir, creating it if needed.
func NewTagStore(dir string) (*TagStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating the tag store: %w", err)
	}
	return &TagStore{dir: dir}, nil
}

// keyPart is a Kubernetes namespace or object name (DNS subdomain): no "/", no "..", no
// leading dot, so a key can never leave the store's directory.
var keyPart = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// path maps "namespace/name" to its file.
func (s *TagStore) path(key string) (string, error) {
	ns, name, ok := strings.Cut(key, "/")
	if !ok || !keyPart.MatchString(ns) || !keyPart.MatchString(name) || strings.Contains(key, "..") {
		return "", fmt.Errorf("%w: tag store key '%s' is not '<namespace>/<name>'", ErrInvalidOptions, key)
	}
	return filepath.Join(s.dir, ns, name+".tags"), nil
}

// Put replaces the tags stored under key ("namespace/name").
func (s *TagStore) Put(key string, tags []string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, t := range tags {
		if t == "" || strings.ContainsAny(t, "\r\n") {
			return fmt.Errorf("%w: tag %q cannot be stored", ErrInvalidOptions, t)
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("storing the tags of %s: %w", key, err)
	}
	if err := writeAtomic(p, []byte(b.String())); err != nil {
		return fmt.Errorf("storing the tags of %s: %w", key, err)
	}
	return nil
}

// Get returns the tags stored under key, in the order they were put; the error wraps
// ErrNoTags when there are none.
func (s *TagStore) Get(key string) ([]string, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, ErrNoTags)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the tags of %s: %w", key, err)
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return []string{}, nil
	}
	return strings.Split(text, "\n"), nil
}

// Has reports whether tags are stored under key (a data directory that was lost, or a
// replica that never scanned, has none).
func (s *TagStore) Has(key string) bool {
	p, err := s.path(key)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// Delete removes the tags stored under key; deleting a missing key is not an error.
func (s *TagStore) Delete(key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting the tags of %s: %w", key, err)
	}
	return nil
}

// writeAtomic writes data to a temporary file next to path, syncs it and renames it over
// path.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
