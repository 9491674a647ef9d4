// Package fuzzer holds the fuzzer functions of the image group used by
// the round-trip tests.
package fuzzer

import (
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"

	commonfuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/fuzzer"
)

// Funcs returns the fuzzer functions for the image group.
func Funcs(_ runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		// Spec durations are text kept as written; fill them with valid text.
		commonfuzzer.Duration,
	}
}
