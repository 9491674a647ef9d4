package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// LoadChartDir loads the chart in dir with the SDK's loader, which
// honours the chart's .helmignore and loads vendored dependencies from its
// charts/ directory.
func LoadChartDir(dir string) (*chart.Chart, error) {
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no Chart.yaml in the chart directory", ErrInvalidChart)
	}
	ch, err := loader.LoadDir(dir)
	if err != nil {
		// The loader's messages name absolute paths of our working
		// directory: show them relative to the chart.
		msg := strings.ReplaceAll(err.Error(), strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator), "")
		return nil, fmt.Errorf("%w: %s", ErrInvalidChart, msg)
	}
	return ch, nil
}

// LoadChartArchive loads a packaged chart (.tgz) with the SDK's loader,
// which refuses absolute and escaping paths and caps the unpacked size.
func LoadChartArchive(data []byte) (*chart.Chart, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidChart, err)
	}
	return ch, nil
}

// CheckChart makes sure data is the packaged chart name at version.
func CheckChart(data []byte, name, version string) error {
	ch, err := LoadChartArchive(data)
	if err != nil {
		return err
	}
	if ch.Name() != name || ch.Metadata.Version != version {
		return fmt.Errorf("%w: the archive holds chart '%s' version %s, not '%s' version %s",
			ErrInvalidChart, ch.Name(), ch.Metadata.Version, name, version)
	}
	return nil
}

// RevisionVersion is Flux's version for the Revision strategy: the chart
// version with its build metadata replaced by the first 12 characters of
// the source revision's hash ("main@sha1:<hex>" or "sha256:<hex>" gives
// <hex>[:12]), so that 0.1.0 from commit abcdef123456… is
// 0.1.0+abcdef123456. (The SDK has no such notion.)
func RevisionVersion(version, sourceRevision string) string {
	rev := sourceRevision
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		rev = rev[i+1:]
	}
	if i := strings.LastIndex(rev, ":"); i >= 0 {
		rev = rev[i+1:]
	}
	if i := strings.LastIndex(rev, "/"); i >= 0 { // legacy "<branch>/<hash>"
		rev = rev[i+1:]
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if i := strings.Index(version, "+"); i >= 0 {
		version = version[:i]
	}
	if rev == "" {
		return version
	}
	return version + "+" + rev
}

// SecureJoin joins the slash-separated rel to root and refuses anything that
// could leave root: ".." components (wherever they are). A leading "/" or
// "./" is read relative to root, as Flux does.
func SecureJoin(root, rel string) (string, error) {
	clean, err := cleanRel(rel)
	if err != nil {
		return "", err
	}
	if clean == "" {
		return root, nil
	}
	return filepath.Join(root, filepath.FromSlash(clean)), nil
}

// cleanRel is rel as a clean relative slash path ("" for the root itself).
func cleanRel(rel string) (string, error) {
	for _, part := range strings.Split(strings.ReplaceAll(rel, "\\", "/"), "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: %q has a '..' component", ErrUnsafePath, rel)
		}
	}
	return strings.TrimPrefix(path.Clean("/"+rel), "/"), nil
}
