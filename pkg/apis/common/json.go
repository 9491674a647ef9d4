package common

import (
	"bytes"
	"errors"

	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// JSON holds arbitrary JSON (e.g. Helm values), kept byte for byte.
// It plays the role of apiextensions-apiserver's JSON type without that
// dependency.
// +k8s:deepcopy-gen=true
type JSON struct {
	Raw []byte `json:"-"`
}

// MarshalJSON returns the stored bytes, or null when empty.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j.Raw) == 0 {
		return []byte("null"), nil
	}
	return j.Raw, nil
}

// UnmarshalJSON keeps a copy of data; JSON null leaves the value empty.
func (j *JSON) UnmarshalJSON(data []byte) error {
	if j == nil {
		return errors.New("common.JSON: UnmarshalJSON on nil pointer")
	}
	if bytes.Equal(data, []byte("null")) {
		j.Raw = nil
		return nil
	}
	j.Raw = append(j.Raw[:0], data...)
	return nil
}

// OpenAPIDefinition describes JSON as an object whose fields are not checked,
// so server-side apply treats it as one opaque, deduced value.
func (JSON) OpenAPIDefinition() common.OpenAPIDefinition {
	return common.OpenAPIDefinition{
		Schema: spec.Schema{
			SchemaProps: spec.SchemaProps{
				Type: []string{"object"},
			},
			VendorExtensible: spec.VendorExtensible{
				Extensions: spec.Extensions{"x-kubernetes-preserve-unknown-fields": true},
			},
		},
	}
}
