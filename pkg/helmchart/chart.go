package helmchart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// ErrInvalidChart means a directory is not a usable Helm chart.
var ErrInvalidChart = errors.New("invalid chart")

// Metadata is the part of Chart.yaml a build needs.
type Metadata struct {
	Name         string       `json:"name"`
	Version      string       `json:"version"`
	Dependencies []Dependency `json:"dependencies,omitempty"`
}

// Dependency is one entry of Chart.yaml's dependencies.
type Dependency struct {
	Name       string `json:"name"`
	Repository string `json:"repository,omitempty"`
}

// LoadMetadata reads dir/Chart.yaml.
func LoadMetadata(dir string) (*Metadata, error) {
	b, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no Chart.yaml in the chart directory", ErrInvalidChart)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidChart, err)
	}
	var md Metadata
	if err := yaml.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("%w: Chart.yaml: %v", ErrInvalidChart, err)
	}
	if md.Name == "" || md.Version == "" {
		return nil, fmt.Errorf("%w: Chart.yaml has no name or version", ErrInvalidChart)
	}
	return &md, nil
}

// MissingDependencies lists the dependencies that would have to be
// downloaded: those not vendored in dir/charts (as a directory named after
// the dependency or a <name>-<version>.tgz).
func MissingDependencies(dir string, md *Metadata) []string {
	var missing []string
	for _, d := range md.Dependencies {
		if fi, err := os.Stat(filepath.Join(dir, "charts", d.Name, "Chart.yaml")); err == nil && fi.Mode().IsRegular() {
			continue
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "charts", globEscape(d.Name)+"-*.tgz")); len(m) > 0 {
			continue
		}
		missing = append(missing, d.Name)
	}
	return missing
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`)
	return r.Replace(s)
}

// SetVersion returns Chart.yaml content with version replaced. The file is
// re-serialised (keys sorted), as helm package does when it rewrites it.
func SetVersion(chartYAML []byte, version string) ([]byte, error) {
	var m map[string]interface{}
	if err := yaml.Unmarshal(chartYAML, &m); err != nil {
		return nil, fmt.Errorf("%w: Chart.yaml: %v", ErrInvalidChart, err)
	}
	m["version"] = version
	return yaml.Marshal(m)
}

// RevisionVersion is Flux's version for the Revision strategy: the chart
// version with its build metadata replaced by the first 12 characters of
// the source revision's hash ("main@sha1:<hex>" or "sha256:<hex>" gives
// <hex>[:12]), so that 0.1.0 from commit abcdef123456… is
// 0.1.0+abcdef123456.
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
