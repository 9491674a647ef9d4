package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/netguard"
)

// DefaultRemoteTimeout bounds one remote fetch when RemoteOptions name no
// timeout and the entry no ?timeout=.
const DefaultRemoteTimeout = 60 * time.Second

// maxRemoteFetches bounds the repositories and files one build fetches.
const maxRemoteFetches = 20

// remoteRoot is where fetched repositories and files are put in the build's
// file system; kustomizations are pointed there instead of at the URLs.
const remoteRoot = "/.gitops-apiserver-remote"

// remoteTransport dials through the netguard.Guard of the build's context.
var remoteTransport = netguard.Transport(nil)

// RemoteOptions bound what a build with AllowRemoteBases fetches. The
// network policy is the netguard.Guard of the build's context.
type RemoteOptions struct {
	// TmpDir is where repositories are cloned, each into a private
	// temporary directory removed once loaded; "" is os.TempDir().
	TmpDir string
	// MaxFetchSize caps one clone (bytes written to disk, repository
	// objects included) and one file download; 0 means no cap.
	MaxFetchSize int64
	// MaxSize and MaxFiles cap what all remote bases and files of one build
	// add to the in-memory file system; 0 means
	// artifact.DefaultMaxExtractSize and artifact.DefaultMaxExtractFiles.
	MaxSize  int64
	MaxFiles int
	// Timeout bounds one fetch unless the entry asks otherwise with
	// ?timeout= (at most 10 minutes); 0 means DefaultRemoteTimeout.
	Timeout time.Duration
}

// remoteFetcher fetches the remote entries of the kustomizations of one
// build and rewrites the entries to point at the fetched copies.
type remoteFetcher struct {
	ctx  context.Context
	fs   filesys.FileSystem
	opts RemoteOptions
	// repos maps a repository (URL, ref, submodules) to its copy in fs;
	// files a URL to its copy.
	repos, files map[string]string
	seen         map[string]bool
	// originals holds the kustomization files rewritten, as they were.
	originals   map[string][]byte
	size        int64
	loadedFiles int
}

// fetchRemotes replaces every remote entry of the kustomizations reachable
// from dir: git repositories (resources, bases, components, generators,
// transformers, validators) are cloned anonymously with pkg/git, shallow,
// at the ref asked for, and copied into fs under remoteRoot; http(s) files
// (in those lists and wherever kustomize reads files) are downloaded
// there. Entries are rewritten to relative paths to the copies, so
// kustomize itself never fetches anything (it would, without a timeout,
// a size cap or the network policy, and clone onto the disk). Repositories
// and files fetched are searched for remote entries in turn. restore puts
// the kustomization files back and removes the copies.
func fetchRemotes(ctx context.Context, fsys filesys.FileSystem, dir string, opts RemoteOptions) (restore func(), err error) {
	if fsys.Exists(remoteRoot) {
		return nil, fmt.Errorf("the artifact holds %s, where this server puts remote bases; rename it", remoteRoot)
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = artifact.DefaultMaxExtractSize
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = artifact.DefaultMaxExtractFiles
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultRemoteTimeout
	}
	f := &remoteFetcher{ctx: ctx, fs: fsys, opts: opts,
		repos: map[string]string{}, files: map[string]string{}, seen: map[string]bool{}, originals: map[string][]byte{}}
	restore = func() {
		for file, data := range f.originals {
			_ = fsys.WriteFile(file, data)
		}
		_ = fsys.RemoveAll(remoteRoot)
	}
	return restore, f.visit(dir)
}

// visit fetches the remote entries of the kustomization in dir and of
// those it reaches.
func (f *remoteFetcher) visit(dir string) error {
	if f.seen[dir] {
		return nil
	}
	f.seen[dir] = true
	file, err := findKustomizationFile(f.fs, dir)
	if err != nil || file == "" {
		return err
	}
	k, err := loadKustomization(f.fs, file)
	if err != nil {
		return err
	}
	changed := false
	var next []string
	for _, list := range [][]string{k.Resources, k.Bases, k.Components, k.Generators, k.Transformers, k.Validators} {
		for i, entry := range list {
			if strings.Contains(entry, "\n") {
				continue // an inline plugin configuration
			}
			local, err := f.dirEntry(dir, entry)
			if err != nil {
				what := "remote base"
				if isHTTPURL(entry) && !isGitHTTPURL(entry) {
					what = "remote file"
				}
				return fmt.Errorf("%s %s in %s: %w", what, entry, file, err)
			}
			if local != "" {
				list[i], changed = local, true
				entry = local
			}
			if p := path.Join(dir, entry); !path.IsAbs(entry) && f.fs.IsDir(p) {
				next = append(next, p)
			}
		}
	}
	err = rewriteFileEntries(k, func(entry string) (string, error) {
		if !isHTTPURL(entry) {
			return entry, nil
		}
		local, err := f.fileEntry(dir, entry)
		if err != nil {
			return "", fmt.Errorf("remote file %s in %s: %w", entry, file, err)
		}
		changed = true
		return local, nil
	})
	if err != nil {
		return err
	}
	if changed {
		if err := f.rewrite(file, k); err != nil {
			return err
		}
	}
	for _, p := range next {
		if err := f.visit(p); err != nil {
			return err
		}
	}
	return nil
}

// dirEntry fetches a resources-like entry when it is remote and returns
// the relative path to its copy; "" leaves the entry as it is.
func (f *remoteFetcher) dirEntry(dir, entry string) (string, error) {
	if p := path.Join(dir, entry); !path.IsAbs(entry) && f.fs.Exists(p) {
		return "", nil // a local file or directory, whatever its name looks like
	}
	if isHTTPURL(entry) && !isGitHTTPURL(entry) {
		return f.fileEntry(dir, entry)
	}
	spec, ok, err := parseGitSpec(entry)
	if err != nil || !ok {
		return "", err
	}
	local, err := f.clone(spec)
	if err != nil {
		return "", err
	}
	return relativeTo(dir, local)
}

// fileEntry downloads an http(s) file entry and returns the relative path
// to its copy. A generator source "key=URL" keeps its key.
func (f *remoteFetcher) fileEntry(dir, entry string) (string, error) {
	local, ok := f.files[entry]
	if !ok {
		var err error
		if local, err = f.download(entry); err != nil {
			return "", err
		}
		f.files[entry] = local
	}
	return relativeTo(dir, local)
}

// download fetches one file into fs.
func (f *remoteFetcher) download(rawURL string) (string, error) {
	if err := f.count(); err != nil {
		return "", err
	}
	limit := f.opts.MaxSize - f.size
	if f.opts.MaxFetchSize > 0 {
		limit = min(limit, f.opts.MaxFetchSize)
	}
	if limit <= 0 {
		return "", f.tooLarge()
	}
	var buf bytes.Buffer
	_, err := artifact.Download(f.ctx, rawURL, &buf, artifact.DownloadOptions{
		Transport: remoteTransport, MaxSize: limit, Timeout: f.opts.Timeout, UserAgent: "gitops-apiserver/kustomize-controller",
	})
	if err != nil {
		return "", err
	}
	name := "resource.yaml"
	if u, err := url.Parse(rawURL); err == nil {
		if base := path.Base(u.Path); base != "." && base != "/" {
			name = base
		}
	}
	local := path.Join(remoteRoot, "files", strconv.Itoa(len(f.files)), name)
	if err := f.add(local, buf.Bytes()); err != nil {
		return "", err
	}
	return local, nil
}

// clone checks out a repository (once per URL, ref and submodules) into a
// private temporary directory, copies its working tree into fs and
// returns the directory the entry names in the copy.
func (f *remoteFetcher) clone(spec *gitSpec) (string, error) {
	switch spec.scheme {
	case "file":
		return "", errors.New("file:// repositories would be read from this server's disk; they are never allowed")
	case "ssh":
		return "", fmt.Errorf("%s is an SSH address: SSH needs keys, and remote bases are fetched anonymously (as in Flux); use the repository's https:// URL", spec.cloneURL)
	}
	id := fmt.Sprintf("%s\x00%s\x00%t", spec.cloneURL, spec.ref, spec.submodules)
	root, ok := f.repos[id]
	if !ok {
		if err := f.count(); err != nil {
			return "", err
		}
		tmp, err := os.MkdirTemp(f.opts.TmpDir, "remote-base-*")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		checkout := filepath.Join(tmp, "repo")
		if err := f.checkout(checkout, spec); err != nil {
			return "", err
		}
		root = path.Join(remoteRoot, strconv.Itoa(len(f.repos)))
		if err := f.loadTree(checkout, root); err != nil {
			return "", err
		}
		f.repos[id] = root
	}
	local := path.Join(root, spec.dir)
	if !f.fs.IsDir(local) {
		return "", fmt.Errorf("%q is not a directory of %s", spec.dir, spec.cloneURL)
	}
	return local, nil
}

// checkout fetches spec's ref the way `git fetch <ref>` would find it: a
// commit, a full reference name, or a tag, else a branch of that name;
// without a ref, branch main, else master (pkg/git lists no HEAD).
func (f *remoteFetcher) checkout(dir string, spec *gitSpec) error {
	var refs []git.Ref
	switch {
	case spec.ref == "":
		refs = []git.Ref{{Branch: "main"}, {Branch: "master"}}
	case len(spec.ref) == 40 && strings.Trim(spec.ref, "0123456789abcdef") == "":
		refs = []git.Ref{{Commit: spec.ref}}
	case strings.HasPrefix(spec.ref, "refs/"):
		refs = []git.Ref{{Name: spec.ref}}
	default:
		refs = []git.Ref{{Tag: spec.ref}, {Branch: spec.ref}}
	}
	timeout := f.opts.Timeout
	if spec.timeout > 0 {
		timeout = spec.timeout
	}
	var err error
	for _, ref := range refs {
		_, err = git.Checkout(f.ctx, dir, git.Options{
			URL: spec.cloneURL, Ref: ref, RecurseSubmodules: spec.submodules,
			Guard: netguard.FromContext(f.ctx), Timeout: timeout, MaxFetchSize: f.opts.MaxFetchSize,
		})
		if !errors.Is(err, git.ErrReferenceNotFound) {
			break
		}
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			return rmErr
		}
	}
	if err != nil && spec.ref == "" && errors.Is(err, git.ErrReferenceNotFound) {
		return fmt.Errorf("no ?ref= given and the repository has neither branch main nor master: %w", err)
	}
	return err
}

// loadTree copies the working tree in dir (not .git) into fs at dst.
// Links are followed only to regular files inside dir; others are left
// out, like the artifacts of git sources.
func (f *remoteFetcher) loadTree(dir, dst string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.Name() == ".git":
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil // a submodule's pointer file
		case d.IsDir():
			return f.fs.MkdirAll(path.Join(dst, p))
		}
		info, err := root.Stat(p) // follows links, never out of dir
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		if f.loadedFiles++; f.loadedFiles > f.opts.MaxFiles {
			return fmt.Errorf("%w: remote bases hold more than %d files", artifact.ErrTooLarge, f.opts.MaxFiles)
		}
		if f.opts.MaxSize > 0 && f.size+info.Size() > f.opts.MaxSize {
			return f.tooLarge()
		}
		data, err := root.ReadFile(p)
		if err != nil {
			return err
		}
		return f.add(path.Join(dst, p), data)
	})
}

// add writes one fetched file into fs, counting it.
func (f *remoteFetcher) add(p string, data []byte) error {
	f.size += int64(len(data))
	if f.opts.MaxSize > 0 && f.size > f.opts.MaxSize {
		return f.tooLarge()
	}
	return f.fs.WriteFile(p, data)
}

func (f *remoteFetcher) tooLarge() error {
	return fmt.Errorf("%w: remote bases and files add more than %d bytes to the build", artifact.ErrTooLarge, f.opts.MaxSize)
}

// count counts one fetch against maxRemoteFetches.
func (f *remoteFetcher) count() error {
	if len(f.repos)+len(f.files) >= maxRemoteFetches {
		return fmt.Errorf("a build may fetch at most %d remote repositories and files", maxRemoteFetches)
	}
	return nil
}

// rewrite writes k as the kustomization file, keeping the original for
// restore.
func (f *remoteFetcher) rewrite(file string, k *types.Kustomization) error {
	if _, ok := f.originals[file]; !ok {
		original, err := f.fs.ReadFile(file)
		if err != nil {
			return err
		}
		f.originals[file] = original
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return err
	}
	return f.fs.WriteFile(file, data)
}

// relativeTo is target as an entry of the kustomization in dir (kustomize
// refuses absolute roots).
func relativeTo(dir, target string) (string, error) {
	rel, err := filepath.Rel(dir, target)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

// rewriteFileEntries replaces each entry of k that kustomize reads as a
// file (those fileEntries lists) with what fn returns for it; a generator
// source "key=path" keeps its key.
func rewriteFileEntries(k *types.Kustomization, fn func(string) (string, error)) error {
	var errs []error
	set := func(p *string) {
		v, err := fn(*p)
		if err != nil {
			errs = append(errs, err)
			return
		}
		*p = v
	}
	for i := range k.Crds {
		set(&k.Crds[i])
	}
	for i := range k.Configurations {
		set(&k.Configurations[i])
	}
	if p, ok := k.OpenAPI["path"]; ok {
		set(&p)
		k.OpenAPI["path"] = p
	}
	for i := range k.PatchesStrategicMerge {
		p := string(k.PatchesStrategicMerge[i])
		set(&p)
		k.PatchesStrategicMerge[i] = types.PatchStrategicMerge(p)
	}
	for i := range k.Patches {
		set(&k.Patches[i].Path)
	}
	for i := range k.PatchesJson6902 {
		set(&k.PatchesJson6902[i].Path)
	}
	for i := range k.Replacements {
		set(&k.Replacements[i].Path)
	}
	var generators []*types.GeneratorArgs
	for i := range k.ConfigMapGenerator {
		generators = append(generators, &k.ConfigMapGenerator[i].GeneratorArgs)
	}
	for i := range k.SecretGenerator {
		generators = append(generators, &k.SecretGenerator[i].GeneratorArgs)
	}
	for _, g := range generators {
		for i := range g.EnvSources {
			set(&g.EnvSources[i])
		}
		set(&g.EnvSource)
		for i, source := range g.FileSources {
			key, p, keyed := strings.Cut(source, "=")
			if !keyed {
				p = source
			}
			set(&p)
			if keyed {
				p = key + "=" + p
			}
			g.FileSources[i] = p
		}
	}
	return errors.Join(errs...)
}
