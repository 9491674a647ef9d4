package artifact

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Usage is how much disk the store takes, and what is left on its volume.
type Usage struct {
	// Bytes is the size of every file under the root (in-flight writes
	// included).
	Bytes int64
	// Artifacts counts the stored archives by lowercase kind.
	Artifacts map[string]int
	// VolumeBytes and VolumeAvailableBytes are the size of the filesystem
	// holding the root and what an unprivileged writer may still use of it;
	// both zero when the platform cannot tell.
	VolumeBytes, VolumeAvailableBytes int64
}

// Usage walks the store. It costs a stat per file, so callers that poll
// (metrics) should not call it more often than every few seconds.
func (s *Store) Usage() (Usage, error) {
	u := Usage{Artifacts: map[string]int{}}
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		u.Bytes += info.Size()
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		if kind, _, ok := strings.Cut(filepath.ToSlash(rel), "/"); ok && kind != tmpDirName {
			if _, isArchive := digestFromFileName(d.Name()); isArchive {
				u.Artifacts[kind]++
			}
		}
		return nil
	})
	if err != nil {
		return u, fmt.Errorf("measuring the artifact store: %w", err)
	}
	u.VolumeBytes, u.VolumeAvailableBytes = volumeUsage(s.root)
	return u, nil
}
