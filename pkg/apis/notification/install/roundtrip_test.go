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

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification"
	notificationfuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/fuzzer"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1beta3"
)

func newFuzzer(codecs serializer.CodecFactory) *randfill.Filler {
	return fuzzer.FuzzerFor(
		fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, notificationfuzzer.Funcs),
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
		{&v1beta3.Alert{}, &notification.Alert{}},
		{&v1beta3.Provider{}, &notification.Provider{}},
		{&v1.Receiver{}, &notification.Receiver{}},
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
