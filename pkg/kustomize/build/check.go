package build

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// helmGeneratorKind is the kind of kustomize's builtin Helm generator
// configuration, usable from a kustomization's generators list.
const helmGeneratorKind = "HelmChartInflationGenerator"

// scpLikeRegexp matches git's "user@host:path" form, which kustomize clones.
var scpLikeRegexp = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@[^/:]+:`)

// checker walks every kustomization reachable from the built one before
// kustomize runs, refusing what this server does not do: remote bases and
// files (unless allowed) and Helm charts.
type checker struct {
	fs          filesys.FileSystem
	allowRemote bool
	seen        map[string]bool
}

func checkKustomizations(fs filesys.FileSystem, dir string, allowRemote bool) error {
	c := &checker{fs: fs, allowRemote: allowRemote, seen: map[string]bool{}}
	return c.checkDir(dir)
}

func (c *checker) checkDir(dir string) error {
	if c.seen[dir] {
		return nil
	}
	c.seen[dir] = true
	file, err := findKustomizationFile(c.fs, dir)
	if err != nil || file == "" {
		return err // without a file the directory is no kustomization: kustomize says so
	}
	k, err := loadKustomization(c.fs, file)
	if err != nil {
		return err
	}
	if len(k.HelmCharts) > 0 || len(k.HelmChartInflationGenerator) > 0 {
		return helmError(file)
	}

	// Entries that kustomize may load as a directory or a git repository;
	// generators and transformers may also be plugin configurations.
	for _, list := range []struct {
		entries []string
		plugins bool
	}{
		{k.Resources, false}, {k.Bases, false}, {k.Components, false},
		{k.Generators, true}, {k.Transformers, true}, {k.Validators, true},
	} {
		for _, entry := range list.entries {
			if err := c.checkDirEntry(dir, file, entry, list.plugins); err != nil {
				return err
			}
		}
	}
	// Entries that kustomize reads as files, over HTTP for URLs.
	for _, entry := range fileEntries(k) {
		if isHTTPURL(entry) && !c.allowRemote {
			return remoteError(entry, file)
		}
	}
	return nil
}

func (c *checker) checkDirEntry(dir, file, entry string, plugins bool) error {
	if strings.Contains(entry, "\n") {
		if plugins { // an inline plugin configuration
			return c.checkPluginConfig(file, []byte(entry))
		}
		return nil
	}
	p := path.Join(dir, entry)
	isFile := !path.IsAbs(entry) && c.fs.Exists(p) && !c.fs.IsDir(p)
	// kustomize fetches http(s) URLs, and tries any other entry as a git
	// repository before looking for a local directory.
	if isHTTPURL(entry) || looksRemote(entry) && !isFile {
		if c.allowRemote {
			return nil
		}
		return remoteError(entry, file)
	}
	switch {
	case path.IsAbs(entry):
		return nil // kustomize refuses absolute roots itself
	case isFile && plugins:
		data, err := c.fs.ReadFile(p)
		if err != nil {
			return err
		}
		return c.checkPluginConfig(p, data)
	case c.fs.IsDir(p):
		return c.checkDir(p)
	}
	return nil
}

// checkPluginConfig refuses a builtin Helm generator configuration.
func (c *checker) checkPluginConfig(file string, data []byte) error {
	if !strings.Contains(string(data), helmGeneratorKind) {
		return nil
	}
	docs, err := yamlDocuments(data)
	if err != nil {
		return nil // not configuration: kustomize reports what it is
	}
	for _, doc := range docs {
		if m, ok := doc.(map[string]interface{}); ok && m["kind"] == helmGeneratorKind {
			return helmError(file)
		}
	}
	return nil
}

// fileEntries lists the paths that a kustomization reads as files.
func fileEntries(k *types.Kustomization) []string {
	var entries []string
	entries = append(entries, k.Crds...)
	entries = append(entries, k.Configurations...)
	if p := k.OpenAPI["path"]; p != "" {
		entries = append(entries, p)
	}
	for _, p := range k.PatchesStrategicMerge {
		entries = append(entries, string(p))
	}
	for _, list := range [][]types.Patch{k.Patches, k.PatchesJson6902} {
		for _, p := range list {
			entries = append(entries, p.Path)
		}
	}
	for _, r := range k.Replacements {
		entries = append(entries, r.Path)
	}
	var generators []types.GeneratorArgs
	for _, g := range k.ConfigMapGenerator {
		generators = append(generators, g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		generators = append(generators, g.GeneratorArgs)
	}
	for _, g := range generators {
		entries = append(entries, g.EnvSources...)
		entries = append(entries, g.EnvSource)
		for _, f := range g.FileSources {
			if _, p, ok := strings.Cut(f, "="); ok {
				f = p
			}
			entries = append(entries, f)
		}
	}
	return entries
}

// looksRemote reports whether kustomize would treat a resource, base or
// component entry as a remote git repository or URL.
func looksRemote(entry string) bool {
	e := strings.ToLower(entry)
	for _, prefix := range []string{"github.com/", "github.com:", "git@", "git::", "ssh://", "https://", "http://", "file://"} {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return strings.Contains(e, "://") || strings.Contains(e, "?ref=") || scpLikeRegexp.MatchString(entry)
}

func isHTTPURL(entry string) bool {
	u, err := url.Parse(entry)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

func remoteError(entry, file string) error {
	return fmt.Errorf("remote bases are not allowed: %s in %s", entry, file)
}

func helmError(file string) error {
	return fmt.Errorf("helm charts are not supported: %s uses helmCharts or %s; "+
		"use a HelmRelease instead", file, helmGeneratorKind)
}
