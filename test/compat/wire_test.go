// Package compat proves wire compatibility with Flux without starting
// anything: every Flux object in the examples and in the users' seed
// documents decodes strictly into our Go types (an unknown field fails),
// survives a round trip through the internal hub version, and re-encodes
// with nothing the user wrote lost.
package compat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apiserver"
	"github.com/gitops-apiserver/gitops-apiserver/test/framework"
)

// notFlux lists example documents that Flux's own API rejects (see
// docs/examples.md); they are checked by the integration tests instead.
var notFlux = map[string]bool{
	"guide/45-gitrepository-webapp.yaml": true, // spec.verify.provider is no GitRepository field
}

func TestWire_ExamplesRoundTripWithNoFieldLost(t *testing.T) {
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	strict := serializer.NewCodecFactory(apiserver.Scheme, serializer.EnableStrict).UniversalDeserializer()
	files, err := filepath.Glob(filepath.Join(root, "artifacts", "examples", "*", "*.yaml"))
	if err != nil || len(files) < 60 {
		t.Fatalf("found %d example files (%v)", len(files), err)
	}
	checked := 0
	for _, file := range files {
		rel, _ := filepath.Rel(filepath.Join(root, "artifacts", "examples"), file)
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range strings.Split(string(raw), "\n---") {
			var original map[string]interface{}
			if err := yaml.Unmarshal([]byte(doc), &original); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			apiVersion, _ := original["apiVersion"].(string)
			if !strings.Contains(apiVersion, ".toolkit.fluxcd.io/") || notFlux[rel] {
				continue
			}
			checked++
			t.Run(fmt.Sprintf("%s#%d", rel, i), func(t *testing.T) {
				roundTrip(t, strict, []byte(doc), original)
			})
		}
	}
	if checked < 60 {
		t.Errorf("checked %d Flux objects, expected at least 60", checked)
	}
}

func roundTrip(t *testing.T, strict runtime.Decoder, doc []byte, original map[string]interface{}) {
	obj, gvk, err := strict.Decode(doc, nil, nil)
	if err != nil {
		t.Fatalf("strict decode: %v", err)
	}
	check := func(stage string, o runtime.Object) {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]interface{}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for _, p := range framework.SubsetProblems(original["spec"], got["spec"]) {
			t.Errorf("%s: spec%s", stage, p)
		}
		for _, p := range framework.SubsetProblems(original["metadata"], got["metadata"]) {
			t.Errorf("%s: metadata%s", stage, p)
		}
	}
	check("decode", obj)

	internal, err := apiserver.Scheme.ConvertToVersion(obj, schema.GroupVersion{Group: gvk.Group, Version: runtime.APIVersionInternal})
	if err != nil {
		t.Fatalf("to internal: %v", err)
	}
	back, err := apiserver.Scheme.ConvertToVersion(internal, gvk.GroupVersion())
	if err != nil {
		t.Fatalf("back to %s: %v", gvk.GroupVersion(), err)
	}
	check("through the hub", back)
}
