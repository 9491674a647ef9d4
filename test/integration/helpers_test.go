package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

// document is one YAML document of an example file.
type document struct {
	text string
	obj  map[string]interface{}
}

func (d document) apiVersion() string { s, _ := d.obj["apiVersion"].(string); return s }
func (d document) kind() string       { s, _ := d.obj["kind"].(string); return s }
func (d document) meta(field string) string {
	m, _ := d.obj["metadata"].(map[string]interface{})
	s, _ := m[field].(string)
	return s
}

// isFlux reports whether the document is a Flux object.
func (d document) isFlux() bool { return strings.Contains(d.apiVersion(), ".toolkit.fluxcd.io/") }

// resource is the kubectl resource name that pins the document's version.
func (d document) resource() string {
	gv := strings.SplitN(d.apiVersion(), "/", 2)
	return strings.ToLower(d.kind()) + "." + gv[1] + "." + gv[0]
}

// readDocuments splits a YAML file into its documents, keeping each text as
// written.
func readDocuments(t *testing.T, file string) []document {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []document
	for _, text := range splitYAML(string(b)) {
		var obj map[string]interface{}
		if err := yaml.Unmarshal([]byte(text), &obj); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(obj) == 0 {
			continue
		}
		docs = append(docs, document{text: text, obj: obj})
	}
	return docs
}

func splitYAML(s string) []string {
	var docs []string
	var cur []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " ") == "---" {
			docs = append(docs, strings.Join(cur, "\n"))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return append(docs, strings.Join(cur, "\n"))
}

func exampleFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "artifacts", "examples", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example files match %s (%v)", pattern, err)
	}
	return files
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// getObject reads an object back through kube-apiserver as JSON.
func getObject(t *testing.T, resource, namespace, name string) map[string]interface{} {
	t.Helper()
	args := []string{"get", resource, name, "-o", "json"}
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	var obj map[string]interface{}
	if err := json.Unmarshal([]byte(kubectl(t, args...)), &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// assertSubset checks that every value set in want is in got, unchanged.
func assertSubset(t *testing.T, where string, want, got interface{}) {
	t.Helper()
	for _, problem := range framework.SubsetProblems(want, got) {
		t.Errorf("%s: %s", where, problem)
	}
}
