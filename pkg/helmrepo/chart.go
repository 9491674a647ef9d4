package helmrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"sigs.k8s.io/yaml"
)

// ErrInvalidChart means a downloaded archive is not a Helm chart.
var ErrInvalidChart = errors.New("invalid chart archive")

// maxChartYAML caps the Chart.yaml read from an archive.
const maxChartYAML = 1 << 20

// ChartMetadata is the part of Chart.yaml the workers check.
type ChartMetadata struct {
	APIVersion string `json:"apiVersion"`
	Name       string `json:"name"`
	Version    string `json:"version"`
}

// ReadChartMetadata finds <dir>/Chart.yaml at the top of the packaged
// chart data (a tar.gz) and parses it.
func ReadChartMetadata(data []byte) (*ChartMetadata, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidChart, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no Chart.yaml", ErrInvalidChart)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidChart, err)
		}
		name := strings.TrimPrefix(path.Clean(hdr.Name), "./")
		if dir, file := path.Split(name); file != "Chart.yaml" || strings.Count(dir, "/") != 1 || hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxChartYAML))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidChart, err)
		}
		var md ChartMetadata
		if err := yaml.Unmarshal(b, &md); err != nil {
			return nil, fmt.Errorf("%w: Chart.yaml: %v", ErrInvalidChart, err)
		}
		if md.Name == "" || md.Version == "" {
			return nil, fmt.Errorf("%w: Chart.yaml has no name or version", ErrInvalidChart)
		}
		return &md, nil
	}
}

// ReadIndexArchive reads index.yaml from a tar.gz as the HelmRepository
// worker stores it, reading at most maxSize bytes of it (0: no cap).
func ReadIndexArchive(r io.Reader, maxSize int64) (*Index, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no %s in the artifact", ErrInvalidIndex, IndexFile)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
		}
		if path.Clean(hdr.Name) != IndexFile || hdr.Typeflag != tar.TypeReg {
			continue
		}
		in := io.Reader(tr)
		if maxSize > 0 {
			in = io.LimitReader(tr, maxSize+1)
		}
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
		}
		if maxSize > 0 && int64(len(b)) > maxSize {
			return nil, fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, maxSize)
		}
		return ParseIndex(b)
	}
}
