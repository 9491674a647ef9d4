package helmrelease

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
)

// Objects parses a release manifest (or any YAML stream) into objects.
// Objects without a namespace get releaseNamespace when their kind is
// namespaced in the cluster of key (see Clusters); kinds the cluster does
// not serve (yet) are taken as namespaced, as Helm does.
func (c *Clusters) Objects(key string, cfg *rest.Config, manifest, releaseNamespace string) ([]*unstructured.Unstructured, error) {
	cl, err := c.get(key, cfg)
	if err != nil {
		return nil, err
	}
	return parseObjects(manifest, releaseNamespace, cl.mapper)
}

func parseObjects(manifest, releaseNamespace string, mapper meta.RESTMapper) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifest)), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the release manifest: %w", err)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" {
			continue
		}
		if u.GetNamespace() == "" && namespaced(mapper, u) {
			u.SetNamespace(releaseNamespace)
		}
		out = append(out, u)
	}
	return out, nil
}

func namespaced(mapper meta.RESTMapper, u *unstructured.Unstructured) bool {
	if mapper == nil {
		return true
	}
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return true
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace
}

// Digest is "sha256:<hex>" of v's JSON (map keys sorted, so stable).
func Digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
