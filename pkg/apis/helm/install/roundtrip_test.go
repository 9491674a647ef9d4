package install

import (
	"math/rand"
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	helmfuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/fuzzer"
)

func newScheme() (*runtime.Scheme, serializer.CodecFactory) {
	scheme := runtime.NewScheme()
	Install(scheme)
	return scheme, serializer.NewCodecFactory(scheme)
}

// TestRoundTripExternalTypes checks that every served version survives
// JSON encoding and decoding unchanged.
func TestRoundTripExternalTypes(t *testing.T) {
	scheme, codecs := newScheme()
	f := fuzzer.FuzzerFor(fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, helmfuzzer.Funcs), rand.NewSource(rand.Int63()), codecs)
	roundtrip.RoundTripExternalTypesWithoutProtobuf(t, scheme, codecs, f, nil)
}

// TestRoundTripInternalTypes checks that internal objects survive conversion
// to every served version, JSON, defaulting and conversion back.
func TestRoundTripInternalTypes(t *testing.T) {
	scheme, codecs := newScheme()
	f := fuzzer.FuzzerFor(fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, helmfuzzer.Funcs), rand.NewSource(rand.Int63()), codecs)
	roundtrip.RoundTripTypesWithoutProtobuf(t, scheme, codecs, f, nil)
}
