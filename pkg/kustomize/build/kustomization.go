package build

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"
)

// findKustomizationFile returns the kustomization file in dir, or "" when
// there is none.
func findKustomizationFile(fs filesys.FileSystem, dir string) (string, error) {
	var found []string
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if p := path.Join(dir, name); fs.Exists(p) && !fs.IsDir(p) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%s holds more than one kustomization file (%s); keep only one",
			dir, strings.Join(found, ", "))
	}
}

// loadKustomization reads a kustomization file as kustomize does (unknown
// fields are errors).
func loadKustomization(fs filesys.FileSystem, file string) (*types.Kustomization, error) {
	data, err := fs.ReadFile(file)
	if err != nil {
		return nil, err
	}
	k := &types.Kustomization{}
	if err := k.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return k, nil
}

// generateKustomization lists the manifests under dir as Flux does when the
// path holds no kustomization file: every *.yaml, *.yml and *.json file,
// recursively, except that a subdirectory with its own kustomization file is
// listed as a directory and not descended into. Hidden directories are
// skipped, and so are files none of whose documents is a Kubernetes object
// (no apiVersion and no kind: CI configs, Helm values...), where Flux would
// fail the build. Unparsable YAML, and files mixing objects with other
// documents, are errors naming the file.
func generateKustomization(fs filesys.FileSystem, dir string) (*types.Kustomization, error) {
	var resources []string
	err := fs.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if info.IsDir() {
			if strings.HasPrefix(path.Base(p), ".") {
				return filepath.SkipDir
			}
			kfile, err := findKustomizationFile(fs, p)
			if err != nil {
				return err
			}
			if kfile != "" {
				resources = append(resources, rel)
				return filepath.SkipDir
			}
			return nil
		}
		switch path.Ext(p) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		data, err := fs.ReadFile(p)
		if err != nil {
			return err
		}
		ok, err := holdsObjects(data)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if ok {
			resources = append(resources, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("generating a kustomization for %s: %w", dir, err)
	}
	return &types.Kustomization{
		TypeMeta:  types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Resources: resources,
	}, nil
}

// holdsObjects reports whether a manifest file holds Kubernetes objects: true
// when every non-empty document has an apiVersion and a kind, false when
// none has either, and an error otherwise.
func holdsObjects(data []byte) (bool, error) {
	docs, err := yamlDocuments(data)
	if err != nil {
		return false, err
	}
	objects, others := 0, 0
	for i, doc := range docs {
		m, _ := doc.(map[string]interface{})
		apiVersion, _ := m["apiVersion"].(string)
		kind, _ := m["kind"].(string)
		switch {
		case apiVersion != "" && kind != "":
			objects++
		case apiVersion == "" && kind == "":
			others++
		default:
			return false, fmt.Errorf("document %d has an apiVersion or a kind but not both", i+1)
		}
	}
	if objects > 0 && others > 0 {
		return false, errors.New("the file mixes Kubernetes objects with documents that have no apiVersion and kind")
	}
	return objects > 0, nil
}

// yamlDocuments decodes every non-empty document of a YAML (or JSON) stream.
func yamlDocuments(data []byte) ([]interface{}, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []interface{}
	for i := 1; ; i++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading YAML: %w", err)
		}
		var doc interface{}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("invalid YAML in document %d: %w", i, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// layersOnto reports whether opts change the kustomization itself
// (commonMetadata is applied to the built objects instead, as Flux does).
func (o Options) layersOnto() bool {
	return o.TargetNamespace != "" || o.NamePrefix != "" || o.NameSuffix != "" ||
		len(o.Patches) > 0 || len(o.Images) > 0 || len(o.Components) > 0 || len(o.BuildMetadata) > 0
}

// layer applies the spec's fields to the kustomization at dir the way
// Flux's generator edits kustomization.yaml: targetNamespace, namePrefix and
// nameSuffix replace the file's values, patches and components are
// appended, an image replaces the file's entry of the same name or is
// appended, and buildMetadata options are added.
func layer(k *types.Kustomization, opts Options, fs filesys.FileSystem, dir string) error {
	if opts.TargetNamespace != "" {
		k.Namespace = opts.TargetNamespace
	}
	if opts.NamePrefix != "" {
		k.NamePrefix = opts.NamePrefix
	}
	if opts.NameSuffix != "" {
		k.NameSuffix = opts.NameSuffix
	}
	for _, p := range opts.Patches {
		patch := types.Patch{Patch: p.Patch}
		if t := p.Target; t != nil {
			patch.Target = &types.Selector{
				ResId: resid.ResId{
					Gvk:       resid.Gvk{Group: t.Group, Version: t.Version, Kind: t.Kind},
					Name:      t.Name,
					Namespace: t.Namespace,
				},
				LabelSelector:      t.LabelSelector,
				AnnotationSelector: t.AnnotationSelector,
			}
		}
		k.Patches = append(k.Patches, patch)
	}
	for _, img := range opts.Images {
		layerImage(k, types.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	for _, c := range opts.Components {
		if escapes(path.Join(strings.TrimPrefix(dir, "/"), c)) || path.IsAbs(c) {
			return fmt.Errorf("component %q is outside the artifact; components are paths relative to the path", c)
		}
		if opts.IgnoreMissingComponents && !fs.Exists(path.Join(dir, c)) {
			continue
		}
		k.Components = append(k.Components, c)
	}
	for _, m := range opts.BuildMetadata {
		if !contains(k.BuildMetadata, m) {
			k.BuildMetadata = append(k.BuildMetadata, m)
		}
	}
	return nil
}

func layerImage(k *types.Kustomization, img types.Image) {
	for i := range k.Images {
		if k.Images[i].Name == img.Name {
			k.Images[i] = img
			return
		}
	}
	k.Images = append(k.Images, img)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isEmpty reports whether kustomize would refuse k as empty.
func isEmpty(k *types.Kustomization) (bool, error) {
	// FixKustomization edits slices in place: work on a deep copy.
	data, err := json.Marshal(k)
	if err != nil {
		return false, err
	}
	var c types.Kustomization
	if err := json.Unmarshal(data, &c); err != nil {
		return false, err
	}
	c.FixKustomization()
	return c.CheckEmpty() != nil, nil
}
