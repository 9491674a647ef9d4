// Package fuzzer holds the fuzzer functions used by the round-trip tests of
// the kustomize.toolkit.fluxcd.io API group.
package fuzzer

import (
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
)

// Funcs returns fuzzer functions that only produce objects which survive a
// JSON round trip and on which defaulting is a no-op.
var Funcs = func(_ runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		// Durations travel as strings; keep them whole seconds in a sane range.
		func(d *metav1.Duration, c randfill.Continue) {
			d.Duration = time.Duration(c.Int63n(7*24*3600)) * time.Second
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
