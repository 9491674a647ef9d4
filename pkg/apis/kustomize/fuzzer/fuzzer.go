// Package fuzzer holds the fuzzer functions used by the round-trip tests of
// the kustomize.toolkit.fluxcd.io API group.
package fuzzer

import (
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonfuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/fuzzer"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
)

// Funcs returns fuzzer functions that only produce objects which survive a
// JSON round trip and on which defaulting is a no-op.
var Funcs = func(_ runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		// Status durations travel as strings; keep them whole seconds in a
		// sane range.
		func(d *metav1.Duration, c randfill.Continue) {
			d.Duration = time.Duration(c.Int63n(7*24*3600)) * time.Second
		},
		// Spec durations are text kept as written; fill them with valid text.
		commonfuzzer.Duration,
		// Inline JSON (v1beta2 strategic merge patches and JSON 6902
		// values) must be valid and compact to survive encoding, and not
		// null: a null value decodes to a nil pointer.
		func(j *common.JSON, c randfill.Continue) {
			switch c.Intn(3) {
			case 0:
				j.Raw = []byte(`"text"`)
			case 1:
				j.Raw = []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app"},"spec":{"replicas":2}}`)
			default:
				j.Raw = []byte(`["a",1,true,null]`)
			}
		},
		// A missing status defaults to observedGeneration -1.
		func(s *kustomize.KustomizationStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			if apiequality.Semantic.DeepEqual(*s, kustomize.KustomizationStatus{}) {
				s.ObservedGeneration = -1
			}
		},
	}
}
