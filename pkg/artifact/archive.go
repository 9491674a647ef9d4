package artifact

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ErrTooLarge is wrapped by every error about a size or entry-count cap, so
// callers can tell "the source is too big" from a transient failure.
var ErrTooLarge = errors.New("artifact too large")

// ErrUnsafePath is wrapped by every error about a path that would leave the
// directory it belongs to: an escaping symlink when archiving, an absolute,
// "..", link or device entry when extracting.
var ErrUnsafePath = errors.New("unsafe path")

// compressionLevel is fixed: the digest of an artifact depends on it.
const compressionLevel = gzip.DefaultCompression

// epoch is the modification time of every entry. The zero time.Time does not
// fit a USTAR header and would make the writer switch formats.
var epoch = time.Unix(0, 0)

// ArchiveOptions tunes Archive.
type ArchiveOptions struct {
	// Ignore holds patterns in .gitignore syntax (an object's spec.ignore);
	// an element may hold several lines. Any pattern here or in a
	// .sourceignore file replaces DefaultExclusions, as in Flux.
	Ignore []string
	// MaxSize caps the total size of the archived files' contents in bytes
	// (before compression); 0 means no cap.
	MaxSize int64
}

// ArchiveStats describes an archive that was written.
type ArchiveStats struct {
	// Files and Dirs count the entries written.
	Files, Dirs int
	// Size is the total size of the files' contents, before compression.
	Size int64
	// CompressedSize is the number of bytes written to the writer.
	CompressedSize int64
}

// Archive writes srcDir to w as a deterministic tar.gz: the same tree (names,
// contents, executable bits) always gives the same bytes, whatever the
// files' times, owners or permissions otherwise. Entries are sorted by path;
// directories get mode 0755, files 0644 or 0755 when any executable bit is
// set; times are the Unix epoch, owners 0 with no names; the gzip header has
// no name or time. (The bytes also depend on Go's compress/flate, so a
// digest is stable for one build, not necessarily across Go releases.)
//
// Left out: .git (directories and submodule files) at any depth; paths
// excluded by the ignore rules (see ArchiveOptions.Ignore and
// SourceIgnoreFile); devices, sockets and named pipes.
//
// Symlinks: one whose target resolves inside srcDir is archived as a copy of
// the regular file it points to; one that points to a directory inside
// srcDir, or dangles inside it, is skipped (following directory links would
// duplicate content and allow cycles; Flux skips every symlink). A symlink
// that resolves outside srcDir fails the whole archive with ErrUnsafePath.
//
// The tree is checked in full before the first byte is written, so on an
// escaping symlink or an exceeded MaxSize nothing is written to w.
func Archive(ctx context.Context, srcDir string, w io.Writer, opts ArchiveOptions) (ArchiveStats, error) {
	root, err := filepath.EvalSymlinks(srcDir)
	if err != nil {
		return ArchiveStats{}, fmt.Errorf("source directory: %w", err)
	}
	if root, err = filepath.Abs(root); err != nil {
		return ArchiveStats{}, fmt.Errorf("source directory: %w", err)
	}
	if fi, err := os.Stat(root); err != nil {
		return ArchiveStats{}, fmt.Errorf("source directory: %w", err)
	} else if !fi.IsDir() {
		return ArchiveStats{}, fmt.Errorf("source directory %s is not a directory", srcDir)
	}

	sourceIgnore, err := loadSourceIgnore(root)
	if err != nil {
		return ArchiveStats{}, fmt.Errorf("loading %s files: %w", SourceIgnoreFile, err)
	}
	rules := newIgnoreRules(sourceIgnore, opts.Ignore)

	entries, err := collect(ctx, root, rules, opts.MaxSize)
	if err != nil {
		return ArchiveStats{}, err
	}
	return writeArchive(ctx, root, entries, w, opts.MaxSize)
}

// entry is one path to archive.
type entry struct {
	// rel is the slash-separated path relative to the root, as archived.
	rel string
	dir bool
	// source is the OS path, relative to the root, to read a file's content
	// from: rel itself, or the resolved target of a symlink.
	source string
}

// collect walks root and returns what to archive, sorted by path, with the
// parents of every entry present. It fails on an escaping symlink or when
// the files add up to more than maxSize.
func collect(ctx context.Context, root string, rules ignoreRules, maxSize int64) ([]entry, error) {
	var entries []entry
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		osRel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(osRel)
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if rules.ignored(rel, d.IsDir()) {
			if d.IsDir() && !rules.negations {
				return filepath.SkipDir
			}
			return nil
		}

		e := entry{rel: rel, dir: d.IsDir(), source: osRel}
		var size int64
		switch {
		case d.IsDir():
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			size = info.Size()
		case d.Type()&fs.ModeSymlink != 0:
			target, info, err := resolveSymlink(root, p, rel)
			if err != nil {
				return err
			}
			if info == nil || !info.Mode().IsRegular() {
				return nil // directory, dangling or special target: skipped
			}
			e.source, size = target, info.Size()
		default:
			return nil // device, socket, named pipe
		}

		total += size
		if maxSize > 0 && total > maxSize {
			return sizeLimitError(maxSize)
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return withParents(entries), nil
}

// withParents sorts entries by their name in the archive (so a directory
// comes before its contents) and adds the directories that an
// included path needs but that the ignore rules excluded themselves (a
// negated pattern can include a file inside an excluded directory).
func withParents(entries []entry) []entry {
	have := make(map[string]bool, len(entries))
	for _, e := range entries {
		have[e.rel] = true
	}
	for _, e := range entries {
		for dir := parentDir(e.rel); dir != "" && !have[dir]; dir = parentDir(dir) {
			have[dir] = true
			entries = append(entries, entry{rel: dir, dir: true})
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name() < entries[j].name() })
	return entries
}

// name is the entry's name in the archive: directories end in a slash.
func (e entry) name() string {
	if e.dir {
		return e.rel + "/"
	}
	return e.rel
}

func parentDir(rel string) string {
	for i := len(rel) - 1; i >= 0; i-- {
		if rel[i] == '/' {
			return rel[:i]
		}
	}
	return ""
}

// resolveSymlink follows the symlink at p (archived as rel). It returns the
// target's path relative to root and its FileInfo, or a nil FileInfo when the
// link dangles inside root. A target outside root is an ErrUnsafePath error.
func resolveSymlink(root, p, rel string) (string, fs.FileInfo, error) {
	target, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		// Dangling: nothing to leak, but still refuse a link that plainly
		// points away, so such trees fail the same way whether or not the
		// target happens to exist on this machine.
		link, lerr := os.Readlink(p)
		if lerr != nil {
			return "", nil, lerr
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		if _, ok := within(root, filepath.Clean(link)); !ok {
			return "", nil, escapeError(rel, link)
		}
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("symlink %q: %w", rel, err)
	}
	targetRel, ok := within(root, target)
	if !ok {
		return "", nil, escapeError(rel, target)
	}
	info, err := os.Stat(target)
	if err != nil {
		return "", nil, fmt.Errorf("symlink %q: %w", rel, err)
	}
	return targetRel, info, nil
}

// within reports whether the absolute, clean path p lies inside root, and
// its path relative to root.
func within(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || filepath.IsAbs(rel) || len(rel) > 2 && rel[:3] == ".."+string(filepath.Separator) {
		return "", false
	}
	return rel, true
}

func escapeError(rel, target string) error {
	return fmt.Errorf("%w: symlink %q points to %q, outside the source directory; "+
		"replace it with the file it links to or remove it", ErrUnsafePath, rel, target)
}

func sizeLimitError(limit int64) error {
	return fmt.Errorf("%w: the files add up to more than the limit of %d bytes; "+
		"exclude paths with spec.ignore or a .sourceignore file", ErrTooLarge, limit)
}

// writeArchive writes the collected entries as a tar.gz. Files are opened
// through an os.Root so that a tree changed since collect (a file replaced
// by a symlink, say) still cannot make it read outside root.
func writeArchive(ctx context.Context, root string, entries []entry, w io.Writer, maxSize int64) (ArchiveStats, error) {
	dir, err := os.OpenRoot(root)
	if err != nil {
		return ArchiveStats{}, err
	}
	defer dir.Close()

	var stats ArchiveStats
	cw := &countingWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, compressionLevel)
	if err != nil {
		return stats, err
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		if e.dir {
			if err := tw.WriteHeader(dirHeader(e.name())); err != nil {
				return stats, err
			}
			stats.Dirs++
			continue
		}
		n, err := writeFile(tw, dir, e)
		if err != nil {
			return stats, err
		}
		stats.Files++
		stats.Size += n
		if maxSize > 0 && stats.Size > maxSize {
			return stats, sizeLimitError(maxSize)
		}
	}
	if err := tw.Close(); err != nil {
		return stats, err
	}
	if err := zw.Close(); err != nil {
		return stats, err
	}
	stats.CompressedSize = cw.n
	return stats, nil
}

func dirHeader(name string) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch}
}

// writeFile writes one file entry and returns its size.
func writeFile(tw *tar.Writer, dir *os.Root, e entry) (int64, error) {
	f, err := dir.Open(e.source)
	if err != nil {
		return 0, fmt.Errorf("archiving %q: %w", e.rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("archiving %q: %w", e.rel, err)
	}
	if !info.Mode().IsRegular() {
		return 0, fmt.Errorf("archiving %q: no longer a regular file (the tree changed while it was archived)", e.rel)
	}
	mode := int64(0o644)
	if info.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.rel, Mode: mode, Size: info.Size(), ModTime: epoch}
	if err := tw.WriteHeader(hdr); err != nil {
		return 0, fmt.Errorf("archiving %q: %w", e.rel, err)
	}
	if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("file shrank while it was archived")
		}
		return 0, fmt.Errorf("archiving %q: %w", e.rel, err)
	}
	return hdr.Size, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
