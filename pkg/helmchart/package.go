package helmchart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// epoch is every entry's time, so that the same chart gives the same bytes.
var epoch = time.Unix(0, 0)

// Package writes the chart in dir as a packaged chart: a gzipped tar whose
// file entries are named <name>/<path>, sorted by path, mode 0644 (0755 when
// executable), epoch times, no owners; the gzip header has no name or time.
// replace maps slash-separated paths (relative to dir) to the content to
// archive instead of the file's (a file that does not exist is added).
// Directories called .git, symlinks and special files are left out. The
// files' total size may not exceed maxSize (0: no cap).
func Package(dir, name string, replace map[string][]byte, maxSize int64) ([]byte, error) {
	files := map[string]string{} // rel → OS path ("" when replaced)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("packaging chart %q: %w", name, err)
	}
	for rel := range replace {
		files[rel] = ""
	}
	names := make([]string, 0, len(files))
	for rel := range files {
		names = append(names, rel)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	var total int64
	for _, rel := range names {
		content, mode, err := fileContent(files[rel], replace[rel])
		if err != nil {
			return nil, fmt.Errorf("packaging chart %q: %w", name, err)
		}
		if total += int64(len(content)); maxSize > 0 && total > maxSize {
			return nil, fmt.Errorf("packaging chart %q: larger than the limit of %d bytes", name, maxSize)
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name + "/" + rel, Mode: mode, Size: int64(len(content)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func fileContent(osPath string, replaced []byte) ([]byte, int64, error) {
	if osPath == "" {
		return replaced, 0o644, nil
	}
	info, err := os.Stat(osPath)
	if err != nil {
		return nil, 0, err
	}
	mode := int64(0o644)
	if info.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	if replaced != nil {
		return replaced, mode, nil
	}
	b, err := os.ReadFile(osPath)
	return b, mode, err
}
