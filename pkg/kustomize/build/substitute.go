package build

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// SubstituteKey is the label or annotation that, set to SubstituteDisabled,
// keeps an object out of post-build substitution.
const (
	SubstituteKey      = "kustomize.toolkit.fluxcd.io/substitute"
	SubstituteDisabled = "disabled"
)

// varNameRegexp is the rule Flux applies to variable names.
var varNameRegexp = regexp.MustCompile(`^[_[:alpha:]][_[:alpha:][:digit:]]*$`)

// Substitute replaces ${VAR}, ${VAR:=default}, ${VAR:-default} and the
// other bash-style forms that Flux supports (${VAR=default}, ${#VAR},
// ${VAR^^}, ${VAR,,}, ${VAR:offset:length}, ${VAR#glob}, ${VAR%%glob},
// ${VAR/old/new}, ...) in the YAML of every object, and returns new
// objects; objs are not modified.
//
// As in Flux:
//   - values are inserted as-is into the YAML text, so "replicas: ${N}" with
//     N=2 becomes an integer, and newlines are removed from values first;
//   - "$VAR" without braces is left alone and "$${VAR}" gives "${VAR}";
//   - objects labelled or annotated kustomize.toolkit.fluxcd.io/substitute:
//     disabled are returned unchanged;
//   - an undefined variable without a default becomes "", unless strict is
//     true, in which case it is an error naming the variable and the object.
//
// Every variable name must match ^[_[:alpha:]][_[:alpha:][:digit:]]*$. An
// object whose substituted YAML no longer parses is an error naming it.
// Deciding whether to substitute at all (Flux's substituteStrategy) is the
// caller's business: this function always expands.
func Substitute(objs []*unstructured.Unstructured, vars map[string]string, strict bool) ([]*unstructured.Unstructured, error) {
	if err := validateVarNames(vars); err != nil {
		return nil, err
	}
	values := make(map[string]string, len(vars))
	for k, v := range vars {
		values[k] = strings.ReplaceAll(v, "\n", "")
	}
	lookup := func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	}

	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		if obj.GetLabels()[SubstituteKey] == SubstituteDisabled ||
			obj.GetAnnotations()[SubstituteKey] == SubstituteDisabled {
			out = append(out, obj.DeepCopy())
			continue
		}
		res, err := substituteObject(obj, lookup, strict)
		if err != nil {
			return nil, fmt.Errorf("substituting variables in %s: %w", objectRef(obj), err)
		}
		out = append(out, res)
	}
	return out, nil
}

func validateVarNames(vars map[string]string) error {
	var bad []string
	for k := range vars {
		if !varNameRegexp.MatchString(k) {
			bad = append(bad, fmt.Sprintf("%q", k))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("invalid variable name %s: names must match %s (letters, digits and underscores, not starting with a digit)",
		strings.Join(bad, ", "), varNameRegexp)
}

func substituteObject(obj *unstructured.Unstructured, lookup lookupFunc, strict bool) (*unstructured.Unstructured, error) {
	data, err := yaml.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	expanded, err := envsubst(string(data), lookup, strict)
	if err != nil {
		var undef *undefinedError
		if errors.As(err, &undef) {
			return nil, fmt.Errorf("%w (strict substitution: define it or give it a default, as in ${%s:=value})", err, undef.name)
		}
		return nil, err
	}
	if expanded == string(data) {
		return obj.DeepCopy(), nil
	}
	j, err := yaml.YAMLToJSON([]byte(expanded))
	if err != nil {
		return nil, fmt.Errorf("the substituted YAML does not parse (check the variables' values): %w", err)
	}
	res := &unstructured.Unstructured{}
	// The decoder's error quotes the whole object, which may hold secrets.
	if err := res.UnmarshalJSON(j); err != nil || res.GetKind() == "" {
		return nil, errors.New("the substituted YAML is no longer a Kubernetes object (check the variables' values)")
	}
	return res, nil
}

// objectRef names an object for error messages: Kind/namespace/name.
func objectRef(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s/%s/%s", obj.GetKind(), ns, obj.GetName())
	}
	return fmt.Sprintf("%s/%s", obj.GetKind(), obj.GetName())
}
