package framework

import (
	"fmt"
	"reflect"
)

// SubsetProblems lists how got differs from want, where want is what a user
// wrote and got what the server returned (both decoded from JSON): every
// value set in want must be in got, unchanged. Fields written as false,
// zero or empty may be omitted (Flux's own Go types omit them too).
func SubsetProblems(want, got interface{}) []string {
	return subsetProblems("", want, got)
}

func subsetProblems(path string, want, got interface{}) []string {
	switch w := want.(type) {
	case map[string]interface{}:
		g, _ := got.(map[string]interface{})
		var problems []string
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				if isZero(v) {
					continue
				}
				problems = append(problems, fmt.Sprintf("%s.%s lost (was %v)", path, k, v))
				continue
			}
			problems = append(problems, subsetProblems(path+"."+k, v, gv)...)
		}
		return problems
	case []interface{}:
		g, _ := got.([]interface{})
		if len(g) != len(w) {
			return []string{fmt.Sprintf("%s: %d items, want %d", path, len(g), len(w))}
		}
		var problems []string
		for i := range w {
			problems = append(problems, subsetProblems(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return problems
	default:
		// YAML decodes numbers as float64, clients as int64: compare values.
		if wn, ok := number(want); ok {
			if gn, ok := number(got); ok && wn == gn {
				return nil
			}
		}
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s = %v, want %v", path, got, want)}
		}
		return nil
	}
}

func isZero(v interface{}) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	case []interface{}:
		return len(x) == 0
	case map[string]interface{}:
		return len(x) == 0
	}
	return false
}

// number returns v as a float64 when it is a number of any Go type.
func number(v interface{}) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
