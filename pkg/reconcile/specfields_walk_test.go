package reconcile

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
)

// specPaths lists the JSON paths of every field of spec, in declaration
// order: "spec.ref.branch", "spec.include[].toPath". Structs are walked
// into, an element of a list of structs is "[]"; strings, numbers, maps,
// lists of scalars and opaque types (metav1's, anything with its own JSON
// encoding such as common.JSON) are leaves.
func specPaths(spec reflect.Type) []string {
	var out []string
	walkStruct(spec, "spec", map[reflect.Type]bool{}, &out)
	return out
}

func walkStruct(t reflect.Type, path string, seen map[reflect.Type]bool, out *[]string) {
	if seen[t] { // a recursive type: the field is as deep as it goes
		*out = append(*out, path)
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline := jsonName(f)
		if !f.IsExported() || name == "-" {
			continue
		}
		if inline {
			walkStruct(indirect(f.Type), path, seen, out)
			continue
		}
		walkValue(f.Type, path+"."+name, seen, out)
	}
}

func walkValue(t reflect.Type, path string, seen map[reflect.Type]bool, out *[]string) {
	t = indirect(t)
	switch {
	case isOpaque(t):
		*out = append(*out, path)
	case t.Kind() == reflect.Struct:
		walkStruct(t, path, seen, out)
	case t.Kind() == reflect.Slice && indirect(t.Elem()).Kind() == reflect.Struct && !isOpaque(indirect(t.Elem())):
		walkStruct(indirect(t.Elem()), path+"[]", seen, out)
	default:
		*out = append(*out, path)
	}
}

var jsonMarshaler = reflect.TypeFor[json.Marshaler]()

// isOpaque says whether a struct is a leaf: it encodes itself, or it is
// one of apimachinery's meta types.
func isOpaque(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && (t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.PkgPath() == "k8s.io/apimachinery/pkg/apis/meta/v1")
}

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonName is a field's JSON name, and whether its fields are inlined.
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" && (f.Anonymous || strings.Contains(","+opts+",", ",inline,")) {
		return "", true
	}
	if name == "" {
		name = f.Name
	}
	return name, false
}

// setField sets the field at path (as specPaths writes it) of obj, a
// pointer to an object, to value, or to a non-zero sample when value is
// nil. Pointers on the way are allocated and lists get one element.
func setField(t *testing.T, obj any, path string, value any) {
	t.Helper()
	v := reflect.ValueOf(obj).Elem()
	for _, seg := range strings.Split(path, ".") {
		name, list := strings.CutSuffix(seg, "[]")
		v = alloc(fieldByJSONName(v, name))
		if !v.IsValid() {
			t.Fatalf("%s: no field %q", path, name)
		}
		if list {
			if v.Len() == 0 {
				v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
			}
			v = alloc(v.Index(0))
		}
	}
	if value == nil {
		value = sample(t, v.Type(), path)
	}
	v.Set(reflect.ValueOf(value).Convert(v.Type()))
}

// alloc follows pointers, allocating nil ones.
func alloc(v reflect.Value) reflect.Value {
	for v.IsValid() && v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	return v
}

// fieldByJSONName finds the field of struct v named name in JSON, looking
// into inlined structs; the zero Value when there is none.
func fieldByJSONName(v reflect.Value, name string) reflect.Value {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		n, inline := jsonName(f)
		switch {
		case inline && indirect(f.Type).Kind() == reflect.Struct:
			if found := fieldByJSONName(alloc(v.Field(i)), name); found.IsValid() {
				return found
			}
		case n == name && f.IsExported():
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

// sample is a non-zero value of a leaf type.
func sample(t *testing.T, typ reflect.Type, path string) any {
	t.Helper()
	switch {
	case typ == reflect.TypeFor[common.Duration]():
		return "1m"
	case typ.Kind() == reflect.String:
		return "x"
	case typ.Kind() == reflect.Bool:
		return true
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Float64:
		return 1
	case typ == reflect.TypeFor[[]string]():
		return []string{"x"}
	case typ == reflect.TypeFor[map[string]string]():
		return map[string]string{"x": "x"}
	}
	t.Fatalf("%s: no sample value of %s; give the refusal a value", path, typ)
	return nil
}

var (
	testNamesOnce sync.Once
	testNamesSet  map[string]bool
	testNamesErr  error
	testFuncRE    = regexp.MustCompile(`(?m)^func (Test\w*)\(`)
)

// testNames is every Test function declared in a _test.go file of the
// repository.
func testNames(t *testing.T) map[string]bool {
	t.Helper()
	testNamesOnce.Do(func() {
		testNamesSet = map[string]bool{}
		var root string
		if root, testNamesErr = repoRoot(); testNamesErr != nil {
			return
		}
		testNamesErr = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "vendor" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range testFuncRE.FindAllSubmatch(b, -1) {
				testNamesSet[string(m[1])] = true
			}
			return nil
		})
	})
	if testNamesErr != nil {
		t.Fatal(testNamesErr)
	}
	return testNamesSet
}

// repoRoot is the closest directory above the working directory that
// holds go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// controllerKinds are the kinds the manager builds a worker for. Building
// them reaches no server: clients and informers are only created.
func controllerKinds(t *testing.T) []string {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	host := &rest.Config{Host: "https://" + unreachable}
	// Disabled only keeps NewManager from registering metrics, which a
	// second run of the test in one process could not do again.
	m := NewManager(Options{Disabled: true, HostConfig: host, Store: store, TmpDir: t.TempDir()})
	controllers, _, err := m.controllers(host)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range controllers {
		kinds = append(kinds, c.Name())
	}
	return kinds
}
