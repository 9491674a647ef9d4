package helm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

// IndexFile is the name of a repository's index below its URL.
const IndexFile = "index.yaml"

// IndexURL is where the index of the repository at repoURL is.
func IndexURL(repoURL string) string {
	u, err := repo.ResolveReferenceURL(repoURL, IndexFile)
	if err != nil {
		return strings.TrimSuffix(repoURL, "/") + "/" + IndexFile
	}
	return u
}

// LoadIndex loads an index.yaml file with the SDK (entries it cannot use are
// skipped, as Helm does; versions sorted newest first).
func LoadIndex(path string) (*repo.IndexFile, error) {
	ix, err := repo.LoadIndexFile(path)
	if err != nil {
		var perr *fs.PathError
		if errors.As(err, &perr) {
			return nil, err
		}
		// The SDK's message names our temporary file: leave it out.
		return nil, fmt.Errorf("%w: %s", ErrInvalidIndex, strings.TrimPrefix(err.Error(), "error loading "+path+": "))
	}
	return ix, nil
}

// ReadIndexArchive reads index.yaml from a tar.gz as the HelmRepository
// worker stores it, unpacking it into dir (which must be empty) and reading
// at most maxSize bytes (0: no cap).
func ReadIndexArchive(r io.Reader, maxSize int64, dir string) (*repo.IndexFile, error) {
	if err := artifact.Extract(r, dir, artifact.ExtractOptions{MaxSize: maxSize}); err != nil {
		if errors.Is(err, artifact.ErrTooLarge) {
			return nil, fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, maxSize)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
	}
	p := filepath.Join(dir, IndexFile)
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: no %s in the artifact", ErrInvalidIndex, IndexFile)
	}
	return LoadIndex(p)
}

// Revision is Flux's HelmRepository revision: the sha256 of the index
// marshalled as YAML with its entries sorted, as "sha256:<hex>".
func Revision(ix *repo.IndexFile) string {
	ix.SortEntries()
	// Only plain data: marshalling cannot fail.
	b, _ := yaml.Marshal(ix)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SelectVersion returns the highest version of chart matching the semver
// range constraint ("" means the latest stable version), with the SDK's
// IndexFile.Get. Entries without a URL are skipped first, as Helm's
// dependency resolver does (Get alone would pick them).
func SelectVersion(ix *repo.IndexFile, chart, constraint string) (*repo.ChartVersion, error) {
	var usable repo.ChartVersions
	for _, cv := range ix.Entries[chart] {
		if cv != nil && len(cv.URLs) > 0 {
			usable = append(usable, cv)
		}
	}
	if len(usable) == 0 {
		return nil, fmt.Errorf("%w: no chart '%s' in the repository index", ErrChartNotFound, chart)
	}
	if constraint != "" {
		if _, err := semver.NewConstraint(constraint); err != nil {
			return nil, fmt.Errorf("%w: invalid version range '%s' for chart '%s': %v", ErrVersionNotFound, constraint, chart, err)
		}
	}
	only := repo.IndexFile{Entries: map[string]repo.ChartVersions{chart: usable}}
	cv, err := only.Get(chart, constraint)
	if err != nil {
		if constraint == "" {
			constraint = "*"
		}
		return nil, fmt.Errorf("%w: no '%s' chart with version matching '%s'", ErrVersionNotFound, chart, constraint)
	}
	return cv, nil
}
