package build

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

// maxLinkHops bounds symlink chains, as the kernel's ELOOP limit does.
const maxLinkHops = 40

// LoadArchive reads a gzip'd tar artifact into an in-memory kustomize file
// system rooted at "/"; nothing is written to disk. It follows the rules of
// artifact.Extract, except for links:
//
//   - entries with an absolute name or a ".." component, devices, named
//     pipes and unknown entry types fail with artifact.ErrUnsafePath;
//   - a symlink or hard link whose target resolves to a regular file inside
//     the archive becomes a copy of that file; a link that resolves outside
//     the archive fails with artifact.ErrUnsafePath; a link to a directory
//     or a missing target inside the archive is left out, as
//     artifact.Archive does;
//   - the files' total uncompressed size, copies included, may not exceed
//     maxSize bytes (0 means artifact.DefaultMaxExtractSize, negative no
//     cap), nor the entries artifact.DefaultMaxExtractFiles; exceeding
//     either fails with artifact.ErrTooLarge before the content is read.
//
// LoadArchive stops at the end of the tar stream and does not close r.
func LoadArchive(r io.Reader, maxSize int64) (filesys.FileSystem, error) {
	return LoadArchiveLimited(r, maxSize, 0)
}

// LoadArchiveLimited is LoadArchive with a cap on the number of entries too
// (0 means artifact.DefaultMaxExtractFiles): the in-memory file system
// costs memory per file as well as per byte.
func LoadArchiveLimited(r io.Reader, maxSize int64, maxFiles int) (filesys.FileSystem, error) {
	if maxSize == 0 {
		maxSize = artifact.DefaultMaxExtractSize
	}
	if maxFiles <= 0 {
		maxFiles = artifact.DefaultMaxExtractFiles
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading the artifact: %w", err)
	}
	defer zr.Close()

	l := &archiveLoader{
		fs:      filesys.MakeFsInMemory(),
		maxSize: maxSize,
		files:   map[string]bool{},
		dirs:    map[string]bool{"": true},
		links:   map[string]string{},
	}
	tr := tar.NewReader(zr)
	for entries := 1; ; entries++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the artifact: %w", err)
		}
		if entries > maxFiles {
			return nil, fmt.Errorf("%w: the artifact has more than %d entries", artifact.ErrTooLarge, maxFiles)
		}
		if err := l.add(hdr, tr); err != nil {
			return nil, err
		}
	}
	if err := l.materializeLinks(); err != nil {
		return nil, err
	}
	return l.fs, nil
}

// archiveLoader accumulates the entries of one archive. Paths are relative
// and clean ("" is the root).
type archiveLoader struct {
	fs      filesys.FileSystem
	maxSize int64
	total   int64
	files   map[string]bool
	dirs    map[string]bool
	// links maps a link's path to its target, relative to the root.
	links     map[string]string
	linkOrder []string
}

func (l *archiveLoader) add(hdr *tar.Header, content io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // PAX metadata for the whole archive
	}
	name, err := archiveEntryName(hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		l.addDirs(name)
		if name == "" {
			return nil
		}
		return wrapEntry(hdr.Name, l.fs.MkdirAll("/"+name))
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // TypeRegA still appears in old archives
		if name == "" {
			return fmt.Errorf("%w: artifact entry %q is a file named like the root", artifact.ErrUnsafePath, hdr.Name)
		}
		if err := l.count(hdr.Size); err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(content, hdr.Size))
		if err != nil {
			return fmt.Errorf("reading artifact entry %q: %w", hdr.Name, err)
		}
		if int64(len(data)) != hdr.Size {
			return fmt.Errorf("reading artifact entry %q: %w", hdr.Name, io.ErrUnexpectedEOF)
		}
		l.addDirs(path.Dir(name))
		l.files[name] = true
		return wrapEntry(hdr.Name, l.fs.WriteFile("/"+name, data))
	case tar.TypeSymlink, tar.TypeLink:
		return l.addLink(hdr, name)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return fmt.Errorf("%w: artifact entry %q is a device or named pipe; only files, directories and links are allowed",
			artifact.ErrUnsafePath, hdr.Name)
	default:
		return fmt.Errorf("%w: artifact entry %q has unsupported type %q", artifact.ErrUnsafePath, hdr.Name, string(hdr.Typeflag))
	}
}

// addLink records a link; links are materialized once every entry is known,
// since a target may come later in the archive.
func (l *archiveLoader) addLink(hdr *tar.Header, name string) error {
	if name == "" {
		return fmt.Errorf("%w: artifact entry %q is a link named like the root", artifact.ErrUnsafePath, hdr.Name)
	}
	target := hdr.Linkname
	if hdr.Typeflag == tar.TypeSymlink && !strings.HasPrefix(target, "/") {
		target = path.Join(path.Dir(name), target) // relative to the link's directory
	}
	// Hard links name an archive path; absolute symlinks point at the host.
	if strings.HasPrefix(target, "/") || escapes(target) {
		return linkEscapeError(hdr.Name, hdr.Linkname)
	}
	if _, dup := l.links[name]; !dup {
		l.linkOrder = append(l.linkOrder, name)
	}
	l.links[name] = path.Clean(target)
	l.addDirs(path.Dir(name))
	return nil
}

// materializeLinks writes a copy of each link's target file.
func (l *archiveLoader) materializeLinks() error {
	for _, name := range l.linkOrder {
		target, err := l.resolve(l.links[name])
		if err != nil {
			return fmt.Errorf("artifact entry %q: %w", name, err)
		}
		if target == "" || !l.files[target] {
			continue // a directory or a missing target: left out
		}
		data, err := l.fs.ReadFile("/" + target)
		if err != nil {
			return wrapEntry(name, err)
		}
		if err := l.count(int64(len(data))); err != nil {
			return err
		}
		if err := l.fs.WriteFile("/"+name, data); err != nil {
			return wrapEntry(name, err)
		}
	}
	return nil
}

// resolve follows links in every component of p, which is relative to the
// root, and returns the real path, or "" when it does not exist.
func (l *archiveLoader) resolve(p string) (string, error) {
	hops := 0
	resolved := ""
	rest := strings.Split(p, "/")
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if resolved == "" {
				return "", fmt.Errorf("%w: a link resolves outside the artifact", artifact.ErrUnsafePath)
			}
			resolved = path.Dir(resolved)
			if resolved == "." {
				resolved = ""
			}
			continue
		}
		next := path.Join(resolved, part)
		target, isLink := l.links[next]
		if !isLink {
			if !l.files[next] && !l.dirs[next] {
				return "", nil
			}
			resolved = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", fmt.Errorf("%w: too many levels of links", artifact.ErrUnsafePath)
		}
		// Targets are stored relative to the root: start over from there.
		rest = append(strings.Split(target, "/"), rest...)
		resolved = ""
	}
	return resolved, nil
}

func (l *archiveLoader) count(n int64) error {
	l.total += n
	if l.maxSize > 0 && l.total > l.maxSize {
		return fmt.Errorf("%w: the artifact unpacks to more than the limit of %d bytes", artifact.ErrTooLarge, l.maxSize)
	}
	return nil
}

// addDirs records dir and its parents as directories.
func (l *archiveLoader) addDirs(dir string) {
	for dir != "" && dir != "." && !l.dirs[dir] {
		l.dirs[dir] = true
		dir = path.Dir(dir)
	}
}

// archiveEntryName checks an entry's name and returns it clean and
// relative ("" for the root).
func archiveEntryName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("%w: artifact entry with an empty name", artifact.ErrUnsafePath)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("%w: artifact entry %q has a NUL byte in its name", artifact.ErrUnsafePath, name)
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("%w: artifact entry %q has an absolute path", artifact.ErrUnsafePath, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: artifact entry %q has a \"..\" component", artifact.ErrUnsafePath, name)
		}
	}
	name = path.Clean(name)
	if name == "." {
		return "", nil
	}
	return name, nil
}

// escapes reports whether the relative path p climbs above its root.
func escapes(p string) bool {
	p = path.Clean(p)
	return p == ".." || strings.HasPrefix(p, "../")
}

func linkEscapeError(name, target string) error {
	return fmt.Errorf("%w: artifact entry %q links to %q, outside the artifact", artifact.ErrUnsafePath, name, target)
}

func wrapEntry(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("loading artifact entry %q: %w", name, err)
}
