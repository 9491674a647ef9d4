package helmrelease

import (
	"fmt"
	"strings"

	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// MergeValues deep-merges overlay over base (overlay wins; maps merge, any
// other value replaces) into a new map. Either may be nil; neither is
// changed.
func MergeValues(base, overlay map[string]any) map[string]any {
	// MergeTables keeps what its first map has and copies into it what
	// only the second has.
	return chartutil.MergeTables(copyMap(overlay), copyMap(base))
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = copyMap(sub)
		}
		out[k] = v
	}
	return out
}

// ParseValues reads a YAML document of values (a ConfigMap or Secret key).
func ParseValues(data []byte) (map[string]any, error) {
	out := map[string]any{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		// The YAML error may quote the document, which may be a Secret's.
		return nil, fmt.Errorf("not a YAML map of values")
	}
	return out, nil
}

// SetValue sets value at path (dot-separated, Helm's --set syntax) in
// values. A literal value is always a string; otherwise it is typed as
// --set types it (numbers, booleans, null).
func SetValue(values map[string]any, path, value string, literal bool) error {
	if literal {
		return strvals.ParseLiteralInto(path+"="+value, values)
	}
	// --set would split the value at commas; it is one value here.
	escaped := strings.NewReplacer(`\`, `\\`, `,`, `\,`).Replace(value)
	if err := strvals.ParseInto(path+"="+escaped, values); err != nil {
		return fmt.Errorf("setting %s: %w", path, redactValue(err, value))
	}
	return nil
}

// redactValue keeps a value (maybe a Secret's) out of an error message.
func redactValue(err error, value string) error {
	if value == "" {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), value, "<value>"))
}
