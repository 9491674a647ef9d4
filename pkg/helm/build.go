package helm

import (
	"context"
	"errors"
	"fmt"
	"os"

	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// BuildOptions tune BuildDir and BuildArchive.
type BuildOptions struct {
	// ValuesFiles are merged in order (later wins) and replace the chart's
	// values.yaml; the chart's own values.yaml counts only when listed.
	// They are slash-separated paths relative to ValuesRoot for BuildDir
	// (the source's root, as Flux reads them for charts from GitRepository
	// or Bucket) and relative to the chart for BuildArchive.
	ValuesFiles []string
	ValuesRoot  string
	// IgnoreMissingValuesFiles skips missing values files.
	IgnoreMissingValuesFiles bool
	// SourceRevision, when set, is stamped on the version (Flux's Revision
	// reconcile strategy, see RevisionVersion).
	SourceRevision string
	// MaxSize caps the packaged chart (0: no cap).
	MaxSize int64
	// WorkDir holds temporary files (required).
	WorkDir string
	// Dependencies, for BuildDir, say how to build dependencies that are not
	// vendored in charts/; nil means they must all be vendored.
	Dependencies *DependencyOptions
}

// Result is a packaged chart.
type Result struct {
	Name, Version string
	// Data is the packaged chart (.tgz).
	Data []byte
	// ValuesFiles are the values files that were merged.
	ValuesFiles []string
	// Built counts the dependencies that were downloaded or packaged from
	// file:// paths.
	Built int
}

// BuildDir packages the chart in dir with opts applied: the chart as the
// SDK's loader reads it (.helmignore honoured), dependencies that are not
// vendored built, values files merged, the version stamped.
func BuildDir(ctx context.Context, dir string, opts BuildOptions) (*Result, error) {
	ch, err := LoadChartDir(dir)
	if err != nil {
		return nil, err
	}
	built, err := buildDependencies(ctx, ch, dir, opts)
	if err != nil {
		return nil, err
	}
	root := opts.ValuesRoot
	if root == "" {
		root = dir
	}
	res, err := finish(ch, opts, func(name string) ([]byte, error) {
		p, err := SecureJoin(root, name)
		if err != nil {
			return nil, err
		}
		return os.ReadFile(p)
	})
	if err != nil {
		return nil, err
	}
	res.Built = built
	return res, nil
}

// BuildArchive re-packages a packaged chart with opts applied (values files
// are read from the chart itself). Dependencies are not built: a packaged
// chart carries its own.
func BuildArchive(data []byte, opts BuildOptions) (*Result, error) {
	ch, err := LoadChartArchive(data)
	if err != nil {
		return nil, err
	}
	return finish(ch, opts, chartFileReader(ch))
}

// finish merges values, stamps the version and packages ch.
func finish(ch *chart.Chart, opts BuildOptions, read func(string) ([]byte, error)) (*Result, error) {
	if opts.WorkDir == "" {
		return nil, errors.New("helm: BuildOptions.WorkDir is required")
	}
	res := &Result{Name: ch.Name(), Version: ch.Metadata.Version}
	if opts.SourceRevision != "" {
		res.Version = RevisionVersion(ch.Metadata.Version, opts.SourceRevision)
		ch.Metadata.Version = res.Version
	}
	if len(opts.ValuesFiles) > 0 {
		values, used, err := mergeValues(opts.ValuesFiles, opts.IgnoreMissingValuesFiles, read)
		if err != nil {
			return nil, err
		}
		if err := setValues(ch, values); err != nil {
			return nil, err
		}
		res.ValuesFiles = used
	}
	data, err := Package(ch, opts.WorkDir)
	if err != nil {
		return nil, err
	}
	if opts.MaxSize > 0 && int64(len(data)) > opts.MaxSize {
		return nil, fmt.Errorf("%w: chart '%s' packages to %d bytes, more than %d", ErrTooLarge, res.Name, len(data), opts.MaxSize)
	}
	res.Data = data
	return res, nil
}
