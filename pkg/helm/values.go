package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"sigs.k8s.io/yaml"
)

// valuesFile is the name of a chart's default values.
const valuesFile = "values.yaml"

// MergeValuesFiles reads the files (slash-separated, relative to root) in
// order and deep-merges them, later files winning. It returns the merged
// YAML and the files it used. A missing file is an error unless
// ignoreMissing, when it is skipped (and not listed as used).
func MergeValuesFiles(root string, files []string, ignoreMissing bool) ([]byte, []string, error) {
	values, used, err := mergeValues(files, ignoreMissing, func(name string) ([]byte, error) {
		p, err := SecureJoin(root, name)
		if err != nil {
			return nil, err
		}
		return os.ReadFile(p)
	})
	if err != nil {
		return nil, nil, err
	}
	out, err := yaml.Marshal(values)
	return out, used, err
}

// chartFileReader reads a file of a loaded chart by its path in the chart,
// for values files of a packaged chart (relative to the chart, as Flux).
func chartFileReader(ch *chart.Chart) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		clean, err := cleanRel(name)
		if err != nil {
			return nil, err
		}
		for _, f := range ch.Raw {
			if f.Name == clean {
				return f.Data, nil
			}
		}
		return nil, fs.ErrNotExist
	}
}

// mergeValues merges the values files read by read with the SDK's
// loader.MergeMaps (maps merge recursively, anything else in a later file
// replaces; Flux's rule). Each file is read with loader.LoadValues, so a file
// of several YAML documents counts as their merge.
func mergeValues(files []string, ignoreMissing bool, read func(string) ([]byte, error)) (map[string]any, []string, error) {
	merged := map[string]any{}
	var used []string
	for _, f := range files {
		b, err := read(f)
		switch {
		case errors.Is(err, fs.ErrNotExist) && ignoreMissing:
			continue
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("values file %q not found", f)
		case errors.Is(err, ErrUnsafePath):
			return nil, nil, err
		case err != nil:
			return nil, nil, fmt.Errorf("values file %q: %w", f, err)
		}
		values, err := loader.LoadValues(bytes.NewReader(b))
		if err != nil {
			return nil, nil, fmt.Errorf("values file %q: %w", f, err)
		}
		merged = loader.MergeMaps(merged, values)
		used = append(used, f)
	}
	return merged, used, nil
}

// setValues replaces the chart's default values (values.yaml), as Flux
// does with merged values files.
func setValues(ch *chart.Chart, values map[string]any) error {
	data, err := yaml.Marshal(values)
	if err != nil {
		return err
	}
	ch.Values = values
	for _, f := range ch.Raw {
		if f.Name == valuesFile {
			f.Data = data
			return nil
		}
	}
	ch.Raw = append(ch.Raw, &common.File{Name: valuesFile, Data: data})
	return nil
}
