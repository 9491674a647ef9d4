package helm

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/downloader"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// DependencyOptions say how to build the dependencies of a chart directory
// that are not vendored in its charts/ directory.
type DependencyOptions struct {
	// SourceRoot is the unpacked source holding the chart: file://
	// dependencies must resolve inside it.
	SourceRoot string
	// Repository returns how to reach the HTTP/S repository at url (a
	// dependency's repository as Chart.yaml writes it): the credentials of
	// the HelmRepository with that URL, or no credentials. Its URL is
	// replaced by url. Nil: anonymous, with Timeout, MaxSize and UserAgent.
	Repository func(url string) (RepositoryOptions, error)
	// Registry returns how to reach the registry of the oci:// url: the
	// credentials of the HelmRepository with that URL, or none. Its Host is
	// replaced by url's. Nil: anonymous HTTPS.
	Registry func(url string) (RegistryHost, error)
	// Timeout, MaxSize and UserAgent apply to OCI registries, and to HTTP/S
	// repositories when Repository is nil.
	Timeout   time.Duration
	MaxSize   int64
	UserAgent string
}

// missingDependencies lists the dependencies of Chart.yaml (their version
// pinned by Chart.lock when it lists them) without a chart of that name in
// charts/, as Flux's dependency manager does.
func missingDependencies(ch *chart.Chart) []*chart.Dependency {
	vendored := map[string]bool{}
	for _, d := range ch.Dependencies() {
		vendored[d.Name()] = true
	}
	pinned := map[string]string{}
	if ch.Lock != nil {
		for _, d := range ch.Lock.Dependencies {
			if d != nil {
				pinned[d.Name+"\x00"+d.Repository] = d.Version
			}
		}
	}
	var missing []*chart.Dependency
	seen := map[string]bool{}
	for _, d := range ch.Metadata.Dependencies {
		if d == nil || vendored[d.Name] || seen[d.Name] {
			continue
		}
		seen[d.Name] = true // aliases of one chart share it
		version := d.Version
		if v, ok := pinned[d.Name+"\x00"+d.Repository]; ok && v != "" {
			version = v
		}
		if version == "" {
			version = "*"
		}
		missing = append(missing, &chart.Dependency{Name: d.Name, Version: version, Repository: d.Repository})
	}
	return missing
}

// buildDependencies adds the missing dependencies of ch (loaded from dir)
// to it, downloaded from their repositories or packaged from file:// paths
// by the SDK's downloader.Manager. It returns how many it added.
//
// The Manager works on the files of a Helm home. Each build gets a private
// one in opts.WorkDir, removed afterwards: repositories.yaml names the
// repositories (no credentials: the getter knows them), the index cache and
// the content cache are there, and the Manager builds a scratch chart whose
// Chart.yaml lists only the missing dependencies (it would otherwise
// download every dependency, vendored or not).
func buildDependencies(ctx context.Context, ch *chart.Chart, dir string, opts BuildOptions) (int, error) {
	missing := missingDependencies(ch)
	if len(missing) == 0 {
		return 0, nil
	}
	dopts := opts.Dependencies
	if dopts == nil {
		names := make([]string, len(missing))
		for i, d := range missing {
			names[i] = d.Name
		}
		return 0, fmt.Errorf("%w: chart '%s' needs %s; vendor them in charts/", ErrDependency, ch.Name(), strings.Join(names, ", "))
	}
	home, err := os.MkdirTemp(opts.WorkDir, "helm-home-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(home)

	plan, err := planDependencies(ctx, ch.Name(), missing, dir, home, dopts)
	if err != nil {
		return 0, err
	}
	scratch := filepath.Join(home, "chart")
	if err := writeScratchChart(scratch, ch, missing); err != nil {
		return 0, err
	}
	m := &downloader.Manager{
		// The Manager prints progress (from several goroutines); failures
		// reach us as its error or through the getter.
		Out:              io.Discard,
		ChartPath:        scratch,
		Getters:          plan.providers(),
		RegistryClient:   plan.registryClient(),
		RepositoryConfig: filepath.Join(home, "repositories.yaml"),
		RepositoryCache:  filepath.Join(home, "cache"),
		ContentCache:     filepath.Join(home, "content"),
		SourceDateEpoch:  &epoch,
	}
	if err := plan.writeRepositories(m.RepositoryConfig); err != nil {
		return 0, err
	}
	if err := m.Update(); err != nil {
		// The Manager prints index failures and goes on; the getter kept
		// the first one with its kind (authentication, size, digest).
		if gerr := plan.getter.firstError(); gerr != nil {
			return 0, fmt.Errorf("failed to build the dependencies of chart '%s': %w", ch.Name(), gerr)
		}
		// Registry answers keep their kind (the Manager wraps them).
		return 0, registryError(err, fmt.Sprintf("failed to build the dependencies of chart '%s'", ch.Name()))
	}
	return addBuilt(ch, filepath.Join(scratch, "charts"), missing)
}

// dependencyPlan is what the Manager gets: a getter for HTTP/S
// repositories and, when needed, a registry client.
type dependencyPlan struct {
	repoURLs []string
	getter   *dependencyGetter
	registry *Registry
}

func planDependencies(ctx context.Context, chartName string, missing []*chart.Dependency, dir, home string, opts *DependencyOptions) (*dependencyPlan, error) {
	p := &dependencyPlan{getter: &dependencyGetter{ctx: ctx, charts: map[string]listedChart{}}}
	var hosts []RegistryHost
	seen := map[string]bool{}
	for _, d := range missing {
		u, err := url.Parse(d.Repository)
		scheme := ""
		if err == nil {
			scheme = u.Scheme
		}
		switch {
		case d.Repository == "":
			return nil, fmt.Errorf("%w: chart '%s' needs '%s', which names no repository: vendor it in charts/", ErrDependency, chartName, d.Name)
		case scheme == "file":
			local, err := localDependency(opts.SourceRoot, dir, d.Repository)
			if err != nil {
				return nil, fmt.Errorf("dependency '%s' of chart '%s': %w", d.Name, chartName, err)
			}
			d.Repository = "file://" + local
		case scheme == "http" || scheme == "https":
			if seen[d.Repository] {
				continue
			}
			seen[d.Repository] = true
			ro := RepositoryOptions{Timeout: opts.Timeout, MaxSize: opts.MaxSize, UserAgent: opts.UserAgent}
			if opts.Repository != nil {
				if ro, err = opts.Repository(d.Repository); err != nil {
					return nil, err
				}
			}
			ro.URL = d.Repository
			r, err := NewRepository(ro)
			if err != nil {
				return nil, fmt.Errorf("dependency '%s' of chart '%s': %w", d.Name, chartName, err)
			}
			p.repoURLs = append(p.repoURLs, d.Repository)
			p.getter.repos = append(p.getter.repos, r)
		case scheme == registry.OCIScheme:
			host, err := RegistryHostOf(d.Repository)
			if err != nil {
				return nil, fmt.Errorf("dependency '%s' of chart '%s': %w", d.Name, chartName, err)
			}
			var h RegistryHost
			if opts.Registry != nil {
				if h, err = opts.Registry(d.Repository); err != nil {
					return nil, err
				}
			}
			h.Host = host
			hosts = append(hosts, h)
		default:
			return nil, fmt.Errorf("%w: dependency '%s' of chart '%s' has repository '%s': use the repository's http(s):// or oci:// URL, or a file:// path (aliases such as @name are not supported)",
				ErrDependency, d.Name, chartName, redact(d.Repository))
		}
	}
	if len(hosts) > 0 {
		reg, err := NewRegistry(ctx, RegistryOptions{Hosts: hosts, Timeout: opts.Timeout, MaxSize: opts.MaxSize, UserAgent: opts.UserAgent, WorkDir: home})
		if err != nil {
			return nil, err
		}
		p.registry = reg
	}
	return p, nil
}

// providers are the Manager's getters: ours for HTTP/S, the SDK's OCI
// getter with our registry client. No plugins.
func (p *dependencyPlan) providers() getter.Providers {
	providers := getter.Providers{{
		Schemes: []string{"http", "https"},
		New:     func(...getter.Option) (getter.Getter, error) { return p.getter, nil },
	}}
	if p.registry != nil {
		providers = append(providers, getter.Provider{
			Schemes: []string{registry.OCIScheme},
			New: func(options ...getter.Option) (getter.Getter, error) {
				return getter.NewOCIGetter(append(options, getter.WithRegistryClient(p.registry.client))...)
			},
		})
	}
	return providers
}

func (p *dependencyPlan) registryClient() *registry.Client {
	if p.registry == nil {
		return nil
	}
	return p.registry.client
}

// writeRepositories lists every HTTP/S repository in repositories.yaml, so
// that the Manager never falls back to FindChartInRepoURL (which caches in
// the server's own Helm home).
func (p *dependencyPlan) writeRepositories(path string) error {
	f := repo.NewFile()
	for i, u := range p.repoURLs {
		f.Add(&repo.Entry{Name: fmt.Sprintf("dependency-%d", i), URL: u})
	}
	return f.WriteFile(path, 0o600)
}

// localDependency resolves a file:// repository against the chart
// directory and refuses paths outside the source root.
func localDependency(root, chartDir, repository string) (string, error) {
	p := filepath.FromSlash(strings.TrimPrefix(repository, "file://"))
	if filepath.IsAbs(p) || root == "" {
		return "", fmt.Errorf("%w: '%s' is not a path inside the source", ErrUnsafePath, repository)
	}
	abs := filepath.Join(chartDir, p)
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: '%s' points outside the source", ErrUnsafePath, repository)
	}
	if fi, err := os.Stat(filepath.Join(abs, "Chart.yaml")); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: no chart at '%s' in the source", ErrDependency, repository)
	}
	return abs, nil
}

// writeScratchChart writes a Chart.yaml naming ch and its missing
// dependencies.
func writeScratchChart(dir string, ch *chart.Chart, missing []*chart.Dependency) error {
	md := &chart.Metadata{APIVersion: chart.APIVersionV2, Name: ch.Name(), Version: ch.Metadata.Version, Dependencies: missing}
	data, err := yaml.Marshal(md)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "Chart.yaml"), data, 0o600)
}

// addBuilt loads the charts the Manager saved and adds them to ch.
func addBuilt(ch *chart.Chart, dir string, missing []*chart.Dependency) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var built []*chart.Chart
	got := map[string]bool{}
	for _, e := range entries {
		if !e.Type().IsRegular() || filepath.Ext(e.Name()) != ".tgz" {
			continue
		}
		dep, err := loader.LoadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, fmt.Errorf("%w: dependency %s: %v", ErrInvalidChart, e.Name(), err)
		}
		built = append(built, dep)
		got[dep.Name()] = true
	}
	for _, d := range missing {
		if !got[d.Name] {
			return 0, fmt.Errorf("%w: dependency '%s' of chart '%s' was not built", ErrChartNotFound, d.Name, ch.Name())
		}
	}
	sort.Slice(built, func(i, j int) bool { return built[i].Name() < built[j].Name() })
	ch.AddDependency(built...)
	return len(built), nil
}
