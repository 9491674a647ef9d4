package helm

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"helm.sh/helm/v4/pkg/getter"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// dependencyGetter is the downloader.Manager's getter for HTTP/S
// repositories (it implements the SDK's getter.Getter). It exists because
// the SDK's HTTPGetter takes no context (no cancellation, no
// netguard.Guard), reads bodies without a cap, and the Manager downloads
// dependencies by absolute URL, which its ChartDownloader never checks
// against the index digest. Here:
//   - an index URL is fetched with its repository's client (capped like
//     any index) and its chart URLs are remembered with their digests;
//   - a chart URL is fetched only if an index listed it, with the
//     credentials of that repository (to its host only, unless
//     PassCredentials), and checked against the listed digest.
//
// The getter.Options the Manager passes (credentials from
// repositories.yaml, which holds none) are not used.
type dependencyGetter struct {
	ctx   context.Context
	repos []*Repository

	mu     sync.Mutex
	charts map[string]listedChart // absolute chart URL → where it is listed
	err    error                  // the first failure
}

type listedChart struct {
	repo                  *Repository
	name, version, digest string
}

var _ getter.Getter = &dependencyGetter{}

// Get implements getter.Getter.
func (g *dependencyGetter) Get(href string, _ ...getter.Option) (*bytes.Buffer, error) {
	data, err := g.get(href)
	if err != nil {
		g.mu.Lock()
		if g.err == nil {
			g.err = err
		}
		g.mu.Unlock()
		return nil, err
	}
	return bytes.NewBuffer(data), nil
}

func (g *dependencyGetter) get(href string) ([]byte, error) {
	for _, r := range g.repos {
		if href == r.IndexURL() {
			data, err := r.fetchIndex(g.ctx)
			if err != nil {
				return nil, err
			}
			g.list(r, data)
			return data, nil
		}
	}
	g.mu.Lock()
	c, ok := g.charts[href]
	g.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s is not listed in the index of a dependency's repository", ErrChartNotFound, redact(href))
	}
	data, err := c.repo.get(g.ctx, href, c.repo.opts.MaxSize)
	if err != nil {
		return nil, err
	}
	if err := checkDigest(data, c.digest, fmt.Sprintf("dependency '%s' version %s", c.name, c.version)); err != nil {
		return nil, err
	}
	return data, nil
}

// list remembers the chart URLs of an index. A first, lenient read is
// enough: the Manager loads the index with the SDK right after and reports
// what is wrong with it.
func (g *dependencyGetter) list(r *Repository, data []byte) {
	var ix repo.IndexFile
	if yaml.Unmarshal(data, &ix) != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, versions := range ix.Entries {
		for _, cv := range versions {
			if cv == nil || cv.Metadata == nil || len(cv.URLs) == 0 {
				continue
			}
			u, err := repo.ResolveReferenceURL(r.URL(), cv.URLs[0])
			if err != nil {
				continue
			}
			if _, dup := g.charts[u]; !dup {
				g.charts[u] = listedChart{repo: r, name: cv.Name, version: cv.Version, digest: cv.Digest}
			}
		}
	}
}

func (g *dependencyGetter) firstError() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}
