package install

import (
	"math/rand"
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	kustomizefuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/fuzzer"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize/v1beta2"
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
	f := fuzzer.FuzzerFor(fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kustomizefuzzer.Funcs), rand.NewSource(rand.Int63()), codecs)
	roundtrip.RoundTripExternalTypesWithoutProtobuf(t, scheme, codecs, f, nil)
}

// TestRoundTripInternalTypes checks that internal objects survive conversion
// to every served version, JSON, defaulting and conversion back. v1beta2
// cannot express the fields Flux added in v1 (see v1beta2/conversion.go), so
// it is skipped here and covered by the conversion tests of its package.
func TestRoundTripInternalTypes(t *testing.T) {
	scheme, codecs := newScheme()
	f := fuzzer.FuzzerFor(fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kustomizefuzzer.Funcs), rand.NewSource(rand.Int63()), codecs)
	lossy := map[schema.GroupVersionKind]bool{
		v1beta2.SchemeGroupVersion.WithKind("Kustomization"):     true,
		v1beta2.SchemeGroupVersion.WithKind("KustomizationList"): true,
	}
	roundtrip.RoundTripTypesWithoutProtobuf(t, scheme, codecs, f, lossy)
}
