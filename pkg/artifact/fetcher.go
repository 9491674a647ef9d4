package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// FetcherOptions configure a Fetcher.
type FetcherOptions struct {
	// Dir holds the cached files; it is created (0700) when needed. Use a
	// directory of its own: files the Fetcher does not know are left alone,
	// but never read.
	Dir string
	// MaxCacheSize caps the bytes of cached files; the least recently used
	// go first. The newest download is always kept, whatever its size.
	// 0 or less keeps only the newest one.
	MaxCacheSize int64
	// Download bounds every download (size, time, network policy).
	Download DownloadOptions
}

// Fetcher downloads artifacts that other servers publish (the
// status.artifact of an ExternalArtifact: a tar.gz at an http(s) URL, with
// its digest), checks them against their digest, and keeps them on disk,
// so an artifact whose digest has not changed is downloaded once. Cached
// files are keyed by the object and the digest, so one object's download
// never stands in for another's. It is safe for concurrent use; downloads
// for one object are serialised.
type Fetcher struct {
	opts  FetcherOptions
	locks keyLocks

	mu      sync.Mutex
	entries map[string]*cached
	size    int64

	downloads atomic.Int64
}

// cached is one verified file.
type cached struct {
	key      Key
	file     string
	size     int64
	sha256   string // of the file, re-checked on every read
	lastUsed time.Time
}

// NewFetcher returns a Fetcher with opts.
func NewFetcher(opts FetcherOptions) *Fetcher {
	return &Fetcher{opts: opts, entries: map[string]*cached{}}
}

// Downloads counts the downloads started so far (cache misses).
func (f *Fetcher) Downloads() int64 { return f.downloads.Load() }

// Open returns the content of key's artifact published at rawURL with
// digest ("<algorithm>:<hex>"; sha256, sha384, sha512 or sha1): the cached
// file when key's artifact with that digest was downloaded before,
// otherwise a fresh download, refused unless it matches the digest
// (ErrDigestMismatch) and fits DownloadOptions.MaxSize (ErrTooLarge). The
// reader returns ErrDigestMismatch instead of io.EOF if the cached file
// changed on disk since it was checked.
func (f *Fetcher) Open(ctx context.Context, key Key, rawURL, digest string) (io.ReadCloser, error) {
	if _, err := key.dir(); err != nil {
		return nil, err
	}
	if _, err := newDigestVerifier(digest); err != nil {
		return nil, err
	}
	key = key.normalize()
	unlock := f.locks.lock(key)
	defer unlock()
	id := key.String() + "\n" + digest
	if rc, err := f.openCached(id); err == nil {
		return rc, nil
	}
	c, err := f.download(ctx, key, rawURL, digest)
	if err != nil {
		return nil, err
	}
	f.add(id, c)
	return f.openCached(id)
}

// openCached opens the entry id, forgetting it when its file is gone.
func (f *Fetcher) openCached(id string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.entries[id]
	if c == nil {
		return nil, fs.ErrNotExist
	}
	file, err := os.Open(c.file)
	if err != nil {
		f.remove(id)
		return nil, err
	}
	c.lastUsed = time.Now()
	return &verifyingReader{f: file, h: sha256.New(), want: c.sha256, path: c.file}, nil
}

// download writes the artifact to a new file in Dir, checking it against
// digest as it streams.
func (f *Fetcher) download(ctx context.Context, key Key, rawURL, digest string) (*cached, error) {
	f.downloads.Add(1)
	verifier, err := newDigestVerifier(digest)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(f.opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("artifact cache: %w", err)
	}
	tmp, err := os.CreateTemp(f.opts.Dir, "fetch-*"+archiveExt)
	if err != nil {
		return nil, fmt.Errorf("artifact cache: %w", err)
	}
	name := tmp.Name()
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(name)
		}
	}()
	sum := sha256.New()
	n, err := Download(ctx, rawURL, io.MultiWriter(tmp, verifier, sum), f.opts.Download)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("artifact cache: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	if err := verifier.verify(); err != nil {
		return nil, fmt.Errorf("%s: %w", redactURL(rawURL), err)
	}
	keep = true
	return &cached{key: key, file: name, size: n, sha256: hex.EncodeToString(sum.Sum(nil)), lastUsed: time.Now()}, nil
}

// add records c as the entry id, replaces key's older downloads (an
// object has one current artifact) and evicts the least recently used
// entries beyond MaxCacheSize.
func (f *Fetcher) add(id string, c *cached) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for other, e := range f.entries {
		if e.key == c.key {
			f.remove(other)
		}
	}
	f.entries[id] = c
	f.size += c.size
	for f.size > f.opts.MaxCacheSize && len(f.entries) > 1 {
		var oldest string
		for other, e := range f.entries {
			if other != id && (oldest == "" || e.lastUsed.Before(f.entries[oldest].lastUsed)) {
				oldest = other
			}
		}
		f.remove(oldest)
	}
}

// remove forgets id and deletes its file; a reader that has it open keeps
// reading. f.mu is held.
func (f *Fetcher) remove(id string) {
	c := f.entries[id]
	if c == nil {
		return
	}
	delete(f.entries, id)
	f.size -= c.size
	_ = os.Remove(c.file)
}

// CachedSize returns the bytes the cached files take.
func (f *Fetcher) CachedSize() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}
