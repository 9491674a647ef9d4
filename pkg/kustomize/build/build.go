package build

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// Options are the fields of a Kustomization spec that shape the build.
type Options struct {
	// Path is spec.path: the directory to build, relative to the artifact
	// root ("./apps/prod", "apps", "" for the root). It may not leave the
	// root.
	Path string
	// TargetNamespace, NamePrefix and NameSuffix replace the kustomization's
	// namespace, namePrefix and nameSuffix when set.
	TargetNamespace, NamePrefix, NameSuffix string
	// CommonLabels and CommonAnnotations are spec.commonMetadata: set on
	// every built object's metadata (not on selectors or templates),
	// overriding keys the objects already have.
	CommonLabels, CommonAnnotations map[string]string
	// Patches are appended to the kustomization's patches.
	Patches []common.Patch
	// Images replace the kustomization's entries of the same name, or are
	// appended.
	Images []common.Image
	// Components are paths relative to Path, appended to the
	// kustomization's components.
	Components []string
	// IgnoreMissingComponents drops Components missing from the artifact
	// instead of failing the build.
	IgnoreMissingComponents bool
	// BuildMetadata adds kustomize build metadata options:
	// "originAnnotations" and/or "transformerAnnotations".
	BuildMetadata []string
	// AllowRemoteBases lets kustomizations name git repositories (as
	// resources, bases and components) and http(s) files: they are fetched
	// before kustomize runs, bounded by Remote and the network policy of
	// the build's context, and built from memory (see fetchRemotes). When
	// false (the default) they fail the build before anything is fetched.
	AllowRemoteBases bool
	// Remote bounds the fetches of AllowRemoteBases.
	Remote RemoteOptions
	// Decryptor, when set, decrypts SOPS-encrypted resource files and
	// secretGenerator sources before kustomize reads them (see
	// decryptFiles); its errors are returned as they are.
	Decryptor Decryptor
}

var buildMetadataOptions = []string{types.OriginAnnotations, types.TransformerAnnotations}

// krustyMu serializes kustomize runs: kustomize keeps its OpenAPI schema in
// package state and has had concurrent map access bugs. kustomize never
// fetches anything itself (remote entries are fetched before it runs), so
// a slow server cannot hold the lock.
var krustyMu sync.Mutex

// Build runs kustomize on fs at opts.Path, with the spec's fields layered
// onto the kustomization found there, or onto one generated from the plain
// manifests there (see generateKustomization), as Flux does. It returns the
// objects in kustomize's legacy order (namespaces and CRDs first, webhooks
// last), unless the kustomization sets sortOptions.
//
// Builtin transformers only: plugins, KRM functions and Helm charts are
// refused, and so are remote bases unless opts.AllowRemoteBases. Loads are
// not restricted to each kustomization's directory (overlays may read
// "../base/patch.yaml", as in Flux), but nothing outside fs can be read.
//
// Build writes the effective kustomization file (and, with a Decryptor,
// the decrypted files) into fs and restores the originals before
// returning, so fs must not be used by anything else during the call. A
// path with nothing to build gives no objects, as in Flux.
func Build(fs filesys.FileSystem, opts Options) ([]*unstructured.Unstructured, error) {
	return BuildContext(context.Background(), fs, opts)
}

// BuildContext is Build with a context for the fetches of remote bases:
// its deadline and its netguard.Guard apply to them.
func BuildContext(ctx context.Context, fs filesys.FileSystem, opts Options) ([]*unstructured.Unstructured, error) {
	for _, m := range opts.BuildMetadata {
		if !contains(buildMetadataOptions, m) {
			return nil, fmt.Errorf("unsupported buildMetadata option %q: use %s", m, strings.Join(buildMetadataOptions, " or "))
		}
	}
	dir, err := buildDir(fs, opts.Path)
	if err != nil {
		return nil, err
	}
	restore, empty, err := prepareKustomization(fs, dir, opts)
	if restore != nil {
		defer restore()
	}
	if err != nil || empty {
		return nil, err
	}
	if opts.AllowRemoteBases {
		restoreRemote, err := fetchRemotes(ctx, fs, dir, opts.Remote)
		if restoreRemote != nil {
			defer restoreRemote()
		}
		if err != nil {
			return nil, err
		}
	}
	if err := checkKustomizations(fs, dir, opts.AllowRemoteBases); err != nil {
		return nil, err
	}
	if opts.Decryptor != nil {
		restorePlain, err := decryptFiles(fs, dir, opts.Decryptor)
		if restorePlain != nil {
			defer restorePlain()
		}
		if err != nil {
			return nil, err
		}
	}
	m, err := runKustomize(fs, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build of %s: %w", dir, err)
	}
	objs, err := toUnstructured(m)
	if err != nil {
		return nil, err
	}
	for _, obj := range objs {
		setCommonMetadata(obj, opts.CommonLabels, opts.CommonAnnotations)
	}
	return objs, nil
}

// buildDir turns spec.path into a clean absolute directory in fs.
func buildDir(fs filesys.FileSystem, p string) (string, error) {
	rel := strings.TrimPrefix(p, "/")
	if escapes(rel) {
		return "", fmt.Errorf("path %q leaves the artifact root; use a path inside the source", p)
	}
	dir := path.Join("/", rel)
	switch {
	case !fs.Exists(dir):
		return "", fmt.Errorf("path %q not found in the artifact", p)
	case !fs.IsDir(dir):
		return "", fmt.Errorf("path %q is a file, not a directory", p)
	}
	return dir, nil
}

// prepareKustomization writes the kustomization to build at dir: the
// existing one with opts layered onto it, or a generated one. It returns a
// function restoring fs, and whether there is nothing to build.
func prepareKustomization(fs filesys.FileSystem, dir string, opts Options) (restore func(), empty bool, err error) {
	file, err := findKustomizationFile(fs, dir)
	if err != nil {
		return nil, false, err
	}
	var k *types.Kustomization
	if file == "" {
		if k, err = generateKustomization(fs, dir); err != nil {
			return nil, false, err
		}
		file = path.Join(dir, konfig.DefaultKustomizationFileName())
		if fs.Exists(file) {
			return nil, false, fmt.Errorf("%s is a directory; it cannot hold the generated kustomization", file)
		}
		restore = func() { _ = fs.RemoveAll(file) }
	} else {
		if !opts.layersOnto() {
			k, err = loadKustomization(fs, file)
			if err != nil {
				return nil, false, err
			}
			empty, err = isEmpty(k)
			return nil, empty, err
		}
		original, err := fs.ReadFile(file)
		if err != nil {
			return nil, false, err
		}
		if k, err = loadKustomization(fs, file); err != nil {
			return nil, false, err
		}
		restore = func() { _ = fs.WriteFile(file, original) }
	}

	if err := layer(k, opts, fs, dir); err != nil {
		return restore, false, err
	}
	if empty, err = isEmpty(k); err != nil || empty {
		return restore, empty, err
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return restore, false, err
	}
	return restore, false, fs.WriteFile(file, data)
}

// runKustomize runs krusty with builtin plugins only, no Helm and no load
// restrictions within fs.
func runKustomize(fs filesys.FileSystem, dir string) (m resmap.ResMap, err error) {
	krustyMu.Lock()
	defer krustyMu.Unlock()
	// kustomize panics on some malformed input; one object must not take
	// the server down.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kustomize panicked: %v", r)
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder:          krusty.ReorderOptionUnspecified, // legacy order unless sortOptions says otherwise
		LoadRestrictions: types.LoadRestrictionsNone,
		PluginConfig:     types.DisabledPluginConfig(),
	})
	return k.Run(fs, dir)
}

func toUnstructured(m resmap.ResMap) ([]*unstructured.Unstructured, error) {
	objs := make([]*unstructured.Unstructured, 0, m.Size())
	for _, res := range m.Resources() {
		data, err := res.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", res.CurId(), err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", res.CurId(), err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// setCommonMetadata sets labels and annotations on obj's metadata,
// overriding existing keys.
func setCommonMetadata(obj *unstructured.Unstructured, labels, annotations map[string]string) {
	if len(labels) > 0 {
		l := obj.GetLabels()
		if l == nil {
			l = make(map[string]string, len(labels))
		}
		for k, v := range labels {
			l[k] = v
		}
		obj.SetLabels(l)
	}
	if len(annotations) > 0 {
		a := obj.GetAnnotations()
		if a == nil {
			a = make(map[string]string, len(annotations))
		}
		for k, v := range annotations {
			a[k] = v
		}
		obj.SetAnnotations(a)
	}
}
