// Package helmrepo reads Helm HTTP/S chart repositories: it fetches and
// parses index.yaml, picks chart versions and downloads chart archives. It
// implements only what the source workers need, without helm.sh/helm.
package helmrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"
)

// IndexFile is the name of a repository's index below its URL.
const IndexFile = "index.yaml"

var (
	// ErrChartNotFound means the index has no entry for the chart.
	ErrChartNotFound = errors.New("chart not found")
	// ErrVersionNotFound means no version of the chart matches the range.
	ErrVersionNotFound = errors.New("no chart version found")
	// ErrInvalidIndex means index.yaml could not be understood.
	ErrInvalidIndex = errors.New("invalid repository index")
)

// Index is the part of a Helm repository index the workers use.
type Index struct {
	APIVersion string                     `json:"apiVersion"`
	Generated  *time.Time                 `json:"generated,omitempty"`
	Entries    map[string][]*ChartVersion `json:"entries"`
}

// ChartVersion is one entry of the index.
type ChartVersion struct {
	Name    string     `json:"name,omitempty"`
	Version string     `json:"version"`
	URLs    []string   `json:"urls"`
	Digest  string     `json:"digest,omitempty"`
	Created *time.Time `json:"created,omitempty"`
}

// ParseIndex parses index.yaml.
func ParseIndex(data []byte) (*Index, error) {
	var ix Index
	if err := yaml.Unmarshal(data, &ix); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
	}
	if ix.APIVersion == "" {
		return nil, fmt.Errorf("%w: no apiVersion", ErrInvalidIndex)
	}
	for name, versions := range ix.Entries {
		kept := versions[:0]
		for _, v := range versions {
			// Helm skips entries it cannot use rather than failing the index.
			if v == nil || v.Version == "" || len(v.URLs) == 0 {
				continue
			}
			if v.Name == "" {
				v.Name = name
			}
			kept = append(kept, v)
		}
		ix.Entries[name] = kept
	}
	ix.sortEntries()
	return &ix, nil
}

// sortEntries orders every chart's versions newest first, as Helm's
// SortEntries does; versions that are not semver go last, by string.
func (ix *Index) sortEntries() {
	for _, versions := range ix.Entries {
		sort.SliceStable(versions, func(i, j int) bool {
			a, errA := semver.NewVersion(versions[i].Version)
			b, errB := semver.NewVersion(versions[j].Version)
			switch {
			case errA != nil && errB != nil:
				return versions[i].Version > versions[j].Version
			case errA != nil:
				return false
			case errB != nil:
				return true
			}
			return a.GreaterThan(b)
		})
	}
}

// Revision is Flux's HelmRepository revision: the sha256 of the index after
// stable sorting of its entries (here: of its JSON form, as Flux digests
// the marshalled index), as "sha256:<hex>".
func (ix *Index) Revision() string {
	// Only plain data: marshalling cannot fail.
	b, _ := json.Marshal(ix)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Select returns the highest version of chart matching the semver range
// constraint ("" means "*"). An exact version that is not semver matches
// itself only.
func (ix *Index) Select(chart, constraint string) (*ChartVersion, error) {
	versions, ok := ix.Entries[chart]
	if !ok || len(versions) == 0 {
		return nil, fmt.Errorf("%w: no chart '%s' in the repository index", ErrChartNotFound, chart)
	}
	if constraint == "" {
		constraint = "*"
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		for _, v := range versions {
			if v.Version == constraint {
				return v, nil
			}
		}
		return nil, fmt.Errorf("%w: invalid version range '%s' for chart '%s': %v", ErrVersionNotFound, constraint, chart, err)
	}
	var best *ChartVersion
	var bestV *semver.Version
	for _, v := range versions {
		sv, err := semver.NewVersion(v.Version)
		if err != nil || !c.Check(sv) {
			continue
		}
		if bestV == nil || sv.GreaterThan(bestV) {
			best, bestV = v, sv
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: no '%s' chart with version matching '%s'", ErrVersionNotFound, chart, constraint)
	}
	return best, nil
}

// ResolveURL resolves a chart URL of the index against the repository URL:
// absolute URLs are kept, relative ones are relative to the repository's
// directory (its URL with a trailing slash), as Helm resolves them.
func ResolveURL(repoURL, chartURL string) (string, error) {
	ref, err := url.Parse(chartURL)
	if err != nil {
		return "", fmt.Errorf("invalid chart URL '%s': %w", chartURL, err)
	}
	if ref.IsAbs() {
		return ref.String(), nil
	}
	base, err := url.Parse(repoURL)
	if err != nil {
		return "", fmt.Errorf("invalid repository URL '%s': %w", repoURL, err)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	// Query parameters of the repository URL (tokens) carry over when the
	// chart URL has none.
	resolved := base.ResolveReference(ref)
	if ref.RawQuery == "" {
		resolved.RawQuery = base.RawQuery
	}
	return resolved.String(), nil
}

// IndexURL is where the index of the repository at repoURL is.
func IndexURL(repoURL string) string {
	u, err := ResolveURL(repoURL, IndexFile)
	if err != nil {
		return strings.TrimSuffix(repoURL, "/") + "/" + IndexFile
	}
	return u
}
