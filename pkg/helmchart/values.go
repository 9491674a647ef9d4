package helmchart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// ErrUnsafePath means a path in the spec points outside the source.
var ErrUnsafePath = errors.New("path escapes the source root")

// SecureJoin joins the slash-separated rel to root and refuses anything that
// could leave root: ".." components (wherever they are) and empty paths.
// A leading "/" or "./" is read relative to root, as Flux does.
func SecureJoin(root, rel string) (string, error) {
	for _, part := range strings.Split(strings.ReplaceAll(rel, "\\", "/"), "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: %q has a '..' component", ErrUnsafePath, rel)
		}
	}
	clean := strings.TrimPrefix(path.Clean("/"+rel), "/")
	if clean == "" {
		return root, nil
	}
	return filepath.Join(root, filepath.FromSlash(clean)), nil
}

// MergeValues deep-merges over into base and returns base: maps merge
// recursively, any other value (lists included) in over replaces base's.
// base may be nil.
func MergeValues(base, over map[string]interface{}) map[string]interface{} {
	if base == nil {
		base = map[string]interface{}{}
	}
	for k, v := range over {
		if vm, ok := v.(map[string]interface{}); ok {
			if bm, ok := base[k].(map[string]interface{}); ok {
				base[k] = MergeValues(bm, vm)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// MergeValuesFiles reads the files (slash-separated, relative to root) in
// order and deep-merges them, later files winning. It returns the merged
// YAML and the files it used. A missing file is an error unless
// ignoreMissing, when it is skipped (and not listed as used).
func MergeValuesFiles(root string, files []string, ignoreMissing bool) ([]byte, []string, error) {
	var merged map[string]interface{}
	var used []string
	for _, f := range files {
		p, err := SecureJoin(root, f)
		if err != nil {
			return nil, nil, err
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			if ignoreMissing {
				continue
			}
			return nil, nil, fmt.Errorf("values file %q not found", f)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("values file %q: %w", f, err)
		}
		var values map[string]interface{}
		if err := yaml.Unmarshal(b, &values); err != nil {
			return nil, nil, fmt.Errorf("values file %q: %w", f, err)
		}
		merged = MergeValues(merged, values)
		used = append(used, f)
	}
	if merged == nil {
		merged = map[string]interface{}{}
	}
	out, err := yaml.Marshal(merged)
	if err != nil {
		return nil, nil, err
	}
	return out, used, nil
}
