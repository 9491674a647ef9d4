package install

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
	imagefuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/fuzzer"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1beta2"
)

func newFuzzer(codecs serializer.CodecFactory) *randfill.Filler {
	return fuzzer.FuzzerFor(
		fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, imagefuzzer.Funcs),
		rand.NewSource(rand.Int63()),
		codecs,
	)
}

func TestRoundTripTypes(t *testing.T) {
	scheme := runtime.NewScheme()
	Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	roundtrip.RoundTripExternalTypesWithoutProtobuf(t, scheme, codecs, newFuzzer(codecs), nil)
}

// TestConversionThroughHub_KeepsEveryField converts fuzzed objects of each
// served version to the internal version and back.
func TestConversionThroughHub_KeepsEveryField(t *testing.T) {
	scheme := runtime.NewScheme()
	Install(scheme)
	f := newFuzzer(serializer.NewCodecFactory(scheme))
	tests := []struct {
		external, internal runtime.Object
	}{
		{&v1.ImageRepository{}, &image.ImageRepository{}},
		{&v1.ImagePolicy{}, &image.ImagePolicy{}},
		{&v1.ImageUpdateAutomation{}, &image.ImageUpdateAutomation{}},
		{&v1beta2.ImageRepository{}, &image.ImageRepository{}},
		{&v1beta2.ImagePolicy{}, &image.ImagePolicy{}},
		{&v1beta2.ImageUpdateAutomation{}, &image.ImageUpdateAutomation{}},
	}
	for _, tt := range tests {
		t.Run(reflect.TypeOf(tt.external).Elem().PkgPath()+"."+reflect.TypeOf(tt.external).Elem().Name(), func(t *testing.T) {
			for range 20 {
				in, hub, out := newLike(tt.external), newLike(tt.internal), newLike(tt.external)
				f.Fill(in)
				if err := scheme.Convert(in, hub, nil); err != nil {
					t.Fatalf("to internal: %v", err)
				}
				if err := scheme.Convert(hub, out, nil); err != nil {
					t.Fatalf("from internal: %v", err)
				}
				if !apiequality.Semantic.DeepEqual(in, out) {
					t.Fatalf("round trip through the hub changed the object: %s", cmp.Diff(in, out))
				}
			}
		})
	}
}

// newLike returns a new zero object of obj's type.
func newLike(obj runtime.Object) runtime.Object {
	return reflect.New(reflect.TypeOf(obj).Elem()).Interface().(runtime.Object)
}

// TestConvertSigningKeyToV1beta2_DropsType documents the one field v1beta2
// cannot carry.
func TestConvertSigningKeyToV1beta2_DropsType(t *testing.T) {
	scheme := runtime.NewScheme()
	Install(scheme)
	in := &image.SigningKey{Type: image.SigningKeyTypeSSH}
	in.SecretRef.Name = "signing"
	out := &v1beta2.SigningKey{}
	if err := scheme.Convert(in, out, nil); err != nil {
		t.Fatal(err)
	}
	if out.SecretRef.Name != "signing" {
		t.Errorf("secretRef lost: %+v", out)
	}
}
