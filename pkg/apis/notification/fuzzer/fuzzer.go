// Package fuzzer holds the fuzzer functions of the notification group used by
// the round-trip tests.
package fuzzer

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"
)

// Funcs returns the fuzzer functions for the notification group.
func Funcs(_ runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		// Durations travel as Go duration strings; keep them positive and
		// millisecond-grained so the string form parses back exactly.
		func(d *metav1.Duration, c randfill.Continue) {
			d.Duration = time.Duration(c.Int63n(int64(72*time.Hour/time.Millisecond))) * time.Millisecond
		},
	}
}
