package git

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/go-git/go-billy/v5"
)

// errClosed is returned by writes to a limitFS after the operation that owned it returned.
var errClosed = errors.New("checkout already finished")

// limitFS wraps the checkout directory's filesystem and counts every byte written through
// it: the fetched pack, its index, the git index and the working tree files. A write that
// takes the total past max fails, which aborts the fetch or checkout in progress, so an
// oversized repository never fills the disk. Chroot'ed views (the .git storage, submodules)
// share the counter.
type limitFS struct {
	billy.Filesystem
	state *limitState
}

// limitState is shared by a limitFS and its chroots.
type limitState struct {
	max      int64 // 0: unlimited
	written  atomic.Int64
	exceeded atomic.Bool
	closed   atomic.Bool
}

func newLimitFS(fs billy.Filesystem, max int64) *limitFS {
	return &limitFS{Filesystem: fs, state: &limitState{max: max}}
}

// close makes every later write fail; a fetch still running in the background after its
// context ended must not write into a directory its caller may already have removed.
func (l *limitFS) close() { l.state.closed.Store(true) }

// written returns how many bytes have been written so far.
func (l *limitFS) written() int64 { return l.state.written.Load() }

// exceeded reports whether a write was refused because of the size limit.
func (l *limitFS) exceeded() bool { return l.state.exceeded.Load() }

func (l *limitFS) check() error {
	if l.state.closed.Load() {
		return errClosed
	}
	return nil
}

// Create implements billy.Basic.
func (l *limitFS) Create(filename string) (billy.File, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	f, err := l.Filesystem.Create(filename)
	return l.wrap(f, err)
}

// OpenFile implements billy.Basic.
func (l *limitFS) OpenFile(filename string, flag int, perm os.FileMode) (billy.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_APPEND|os.O_TRUNC) != 0 {
		if err := l.check(); err != nil {
			return nil, err
		}
	}
	f, err := l.Filesystem.OpenFile(filename, flag, perm)
	return l.wrap(f, err)
}

// TempFile implements billy.TempFile.
func (l *limitFS) TempFile(dir, prefix string) (billy.File, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	f, err := l.Filesystem.TempFile(dir, prefix)
	return l.wrap(f, err)
}

// MkdirAll implements billy.Dir.
func (l *limitFS) MkdirAll(filename string, perm os.FileMode) error {
	if err := l.check(); err != nil {
		return err
	}
	return l.Filesystem.MkdirAll(filename, perm)
}

// Symlink implements billy.Symlink.
func (l *limitFS) Symlink(target, link string) error {
	if err := l.check(); err != nil {
		return err
	}
	return l.Filesystem.Symlink(target, link)
}

// Chroot implements billy.Chroot; the new view shares the byte counter.
func (l *limitFS) Chroot(path string) (billy.Filesystem, error) {
	fs, err := l.Filesystem.Chroot(path)
	if err != nil {
		return nil, err
	}
	return &limitFS{Filesystem: fs, state: l.state}, nil
}

// Chmod forwards to the wrapped filesystem when it supports it (go-git marks pack files
// read-only through it).
func (l *limitFS) Chmod(name string, mode os.FileMode) error {
	if c, ok := l.Filesystem.(billy.Chmod); ok {
		return c.Chmod(name, mode)
	}
	return nil
}

// Capabilities forwards to the wrapped filesystem.
func (l *limitFS) Capabilities() billy.Capability {
	return billy.Capabilities(l.Filesystem)
}

func (l *limitFS) wrap(f billy.File, err error) (billy.File, error) {
	if err != nil {
		return nil, err
	}
	return &limitFile{File: f, state: l.state}, nil
}

// limitFile counts the bytes written to one file.
type limitFile struct {
	billy.File
	state *limitState
}

// Write implements io.Writer, refusing writes past the limit.
func (f *limitFile) Write(p []byte) (int, error) {
	if f.state.closed.Load() {
		return 0, errClosed
	}
	n := f.state.written.Add(int64(len(p)))
	if f.state.max > 0 && n > f.state.max {
		f.state.exceeded.Store(true)
		return 0, fmt.Errorf("%w: more than %d bytes", ErrFetchTooLarge, f.state.max)
	}
	return f.File.Write(p)
}
