package helmchart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrDependenciesNotBuilt means Chart.yaml lists dependencies that are not
// vendored in charts/; building them (downloading) is not supported.
var ErrDependenciesNotBuilt = errors.New("dependencies are not built yet")

// Options tunes Build.
type Options struct {
	// ValuesFiles are merged in order (later wins) and replace the chart's
	// values.yaml; the chart's own values.yaml counts only when listed.
	// They are slash-separated paths relative to ValuesRoot.
	ValuesFiles []string
	// ValuesRoot is what ValuesFiles are relative to: the source's root
	// for charts from GitRepository or Bucket, the chart for charts from a
	// HelmRepository (as in Flux).
	ValuesRoot string
	// IgnoreMissingValuesFiles skips missing values files.
	IgnoreMissingValuesFiles bool
	// SourceRevision, when set, is stamped on the version (Flux's Revision
	// reconcile strategy, see RevisionVersion).
	SourceRevision string
	// MaxSize caps the packaged files' total size (0: no cap).
	MaxSize int64
}

// Result is a packaged chart.
type Result struct {
	Name, Version string
	// Data is the packaged chart (.tgz).
	Data []byte
	// ValuesFiles are the values files that were merged.
	ValuesFiles []string
}

// Build packages the chart in dir with opts applied.
func Build(dir string, opts Options) (*Result, error) {
	md, err := LoadMetadata(dir)
	if err != nil {
		return nil, err
	}
	if missing := MissingDependencies(dir, md); len(missing) > 0 {
		return nil, fmt.Errorf("%w: chart '%s' needs %s; vendor them in charts/", ErrDependenciesNotBuilt, md.Name, strings.Join(missing, ", "))
	}
	res := &Result{Name: md.Name, Version: md.Version}
	replace := map[string][]byte{}
	if opts.SourceRevision != "" {
		res.Version = RevisionVersion(md.Version, opts.SourceRevision)
	}
	if res.Version != md.Version {
		b, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
		if err != nil {
			return nil, err
		}
		if replace["Chart.yaml"], err = SetVersion(b, res.Version); err != nil {
			return nil, err
		}
	}
	if len(opts.ValuesFiles) > 0 {
		values, used, err := MergeValuesFiles(opts.ValuesRoot, opts.ValuesFiles, opts.IgnoreMissingValuesFiles)
		if err != nil {
			return nil, err
		}
		replace["values.yaml"] = values
		res.ValuesFiles = used
	}
	if res.Data, err = Package(dir, md.Name, replace, opts.MaxSize); err != nil {
		return nil, err
	}
	return res, nil
}
