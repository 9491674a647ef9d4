package helm

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"os"
	"slices"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

// epoch is every packaged file's time, so that the same chart always gives
// the same bytes (the SDK's Save otherwise uses the files' own times).
var epoch = time.Unix(0, 0).UTC()

// Package saves ch as a packaged chart (<name>-<version>.tgz) with the
// SDK's chartutil.Save and returns its bytes; workDir holds the file
// meanwhile. Save writes no owners and a gzip header without name or time;
// what it leaves to the chart is made reproducible first: every time is
// stamped to the Unix epoch (Chart.lock's "generated" too, as Helm does
// for SOURCE_DATE_EPOCH) and dependencies, which the SDK's loader adds in
// map order, are sorted. Equal files give equal bytes (for one Go version:
// compress/flate's output is not specified across versions).
func Package(ch *chart.Chart, workDir string) ([]byte, error) {
	sortDependencies(ch)
	ch.StampModTimes(epoch)
	dir, err := os.MkdirTemp(workDir, "package-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p, err := chartutil.Save(ch, dir)
	if err != nil {
		return nil, fmt.Errorf("%w: packaging chart '%s': %v", ErrInvalidChart, ch.Name(), err)
	}
	return os.ReadFile(p)
}

// sortDependencies orders the dependencies of ch and of its dependencies
// by name and version; equal ones (the same chart vendored twice) by a
// digest of their files.
func sortDependencies(ch *chart.Chart) {
	deps := slices.Clone(ch.Dependencies())
	for _, d := range deps {
		sortDependencies(d)
	}
	slices.SortStableFunc(deps, func(a, b *chart.Chart) int {
		if c := cmp.Or(cmp.Compare(a.Name(), b.Name()), cmp.Compare(a.Metadata.Version, b.Metadata.Version)); c != 0 {
			return c
		}
		return slices.Compare(filesDigest(a), filesDigest(b))
	})
	ch.SetDependencies(deps...)
}

// filesDigest is a sha256 over the names and contents of a chart's files.
func filesDigest(ch *chart.Chart) []byte {
	h := sha256.New()
	for _, f := range ch.Raw {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	return h.Sum(nil)
}
