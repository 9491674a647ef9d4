package artifact

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Defaults for ExtractOptions. The size matches Flux's default cap on
// unpacked artifacts (100 MiB).
const (
	DefaultMaxExtractSize  int64 = 100 << 20
	DefaultMaxExtractFiles       = 100_000
)

// ExtractOptions caps what Extract unpacks.
type ExtractOptions struct {
	// MaxSize caps the total size of the files' contents in bytes; 0 means
	// DefaultMaxExtractSize, a negative value means no cap.
	MaxSize int64
	// MaxFiles caps the number of archive entries (files, directories and
	// metadata headers); 0 means DefaultMaxExtractFiles, negative no cap.
	MaxFiles int
}

func (o ExtractOptions) limits() (maxSize int64, maxFiles int) {
	maxSize, maxFiles = o.MaxSize, o.MaxFiles
	if maxSize == 0 {
		maxSize = DefaultMaxExtractSize
	}
	if maxFiles == 0 {
		maxFiles = DefaultMaxExtractFiles
	}
	return maxSize, maxFiles
}

// Extract unpacks the tar.gz read from r into dstDir, creating dstDir if
// needed. Only regular files and directories are accepted: an entry with an
// absolute name, a ".." component, a symlink or hard link, a device or a
// named pipe fails the extraction with ErrUnsafePath. Directories are
// created 0755, files 0644, or 0755 when the entry has an executable bit.
//
// Every path is checked before anything is created for it, and all writes go
// through an os.Root opened on dstDir, so nothing is ever written outside
// dstDir, even through a symlink that was already there. Each entry's
// declared size is counted against MaxSize before its content is read, so
// a gzip bomb fails at its first oversized header with ErrTooLarge.
//
// On error, what was extracted so far stays in dstDir; callers normally
// extract into a fresh temporary directory and remove it on failure.
func Extract(r io.Reader, dstDir string, opts ExtractOptions) error {
	maxSize, maxFiles := opts.limits()
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return fmt.Errorf("creating the destination: %w", err)
	}
	root, err := os.OpenRoot(dstDir)
	if err != nil {
		return fmt.Errorf("opening the destination: %w", err)
	}
	defer root.Close()

	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("reading the archive: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)

	var total int64
	for entries := 1; ; entries++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		if maxFiles > 0 && entries > maxFiles {
			return fmt.Errorf("%w: the archive has more than the limit of %d entries", ErrTooLarge, maxFiles)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // PAX metadata for the whole archive, nothing to create
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if name == "." {
				continue
			}
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("extracting %q: %w", hdr.Name, err)
			}
		case tar.TypeReg:
			if name == "." {
				return fmt.Errorf("%w: archive entry %q is a file named like the destination itself", ErrUnsafePath, hdr.Name)
			}
			total += hdr.Size
			if maxSize > 0 && total > maxSize {
				return fmt.Errorf("%w: the archive unpacks to more than the limit of %d bytes", ErrTooLarge, maxSize)
			}
			if err := extractFile(root, name, tr, hdr); err != nil {
				return fmt.Errorf("extracting %q: %w", hdr.Name, err)
			}
		case tar.TypeSymlink, tar.TypeLink:
			return fmt.Errorf("%w: archive entry %q is a link (to %q); links are not allowed in artifacts",
				ErrUnsafePath, hdr.Name, hdr.Linkname)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return fmt.Errorf("%w: archive entry %q is a device or named pipe; only files and directories are allowed",
				ErrUnsafePath, hdr.Name)
		default:
			return fmt.Errorf("%w: archive entry %q has unsupported type %q; only files and directories are allowed",
				ErrUnsafePath, hdr.Name, string(hdr.Typeflag))
		}
	}
}

// entryName checks an archive entry's name and returns it cleaned, relative
// and slash-separated ("." for the archive's root).
func entryName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("%w: archive entry with an empty name", ErrUnsafePath)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("%w: archive entry %q has a NUL byte in its name", ErrUnsafePath, name)
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("%w: archive entry %q has an absolute path", ErrUnsafePath, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: archive entry %q has a \"..\" component", ErrUnsafePath, name)
		}
	}
	return path.Clean(name), nil
}

// extractFile writes one regular file through root.
func extractFile(root *os.Root, name string, content io.Reader, hdr *tar.Header) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	mode := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, content)
	if err == nil && n != hdr.Size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = f.Chmod(mode) // exact, whatever the umask or an earlier file
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
