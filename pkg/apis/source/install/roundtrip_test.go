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

	sourcefuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/fuzzer"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1beta1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1beta2"
)

func newScheme() (*runtime.Scheme, serializer.CodecFactory) {
	scheme := runtime.NewScheme()
	Install(scheme)
	return scheme, serializer.NewCodecFactory(scheme)
}

var fuzzerFuncs = fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, sourcefuzzer.Funcs)

// TestRoundTripExternalTypes checks that every served version survives JSON
// encoding and decoding unchanged.
func TestRoundTripExternalTypes(t *testing.T) {
	scheme, codecs := newScheme()
	roundtrip.RoundTripExternalTypesWithoutProtobuf(t, scheme, codecs, fuzzer.FuzzerFor(fuzzerFuncs, rand.NewSource(rand.Int63()), codecs), nil)
}

// TestRoundTripInternalTypes checks that internal objects survive conversion
// to each served version, JSON, defaulting and conversion back. Versions that
// cannot express a hub field by design are covered by the conversion tests
// of their packages instead.
func TestRoundTripInternalTypes(t *testing.T) {
	scheme, codecs := newScheme()
	lossy := map[schema.GroupVersionKind]bool{}
	for _, gvk := range []schema.GroupVersionKind{
		v1.SchemeGroupVersion.WithKind("OCIRepository"), // no status.contentConfigChecksum
		v1.SchemeGroupVersion.WithKind("Bucket"),        // no spec.accessFrom
		v1beta2.SchemeGroupVersion.WithKind("Bucket"),   // no spec.serviceAccountName
		// No spec.provider, serviceAccountName, proxySecretRef,
		// sparseCheckout, ref.name, status.observed*, artifact size and
		// metadata; see v1beta1/conversion.go.
		v1beta1.SchemeGroupVersion.WithKind("GitRepository"),
	} {
		lossy[gvk] = true
		lossy[gvk.GroupVersion().WithKind(gvk.Kind+"List")] = true
	}
	roundtrip.RoundTripTypesWithoutProtobuf(t, scheme, codecs, fuzzer.FuzzerFor(fuzzerFuncs, rand.NewSource(rand.Int63()), codecs), lossy)
}
