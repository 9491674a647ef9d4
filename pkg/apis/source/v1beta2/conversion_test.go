package v1beta2

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
)

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{source.AddToScheme, v1.AddToScheme, AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return scheme
}

func TestConversion_OCIRepositoryKeepsV1beta2OnlyStatusInHub(t *testing.T) {
	scheme := newScheme(t)
	in := &OCIRepository{
		Spec:   OCIRepositorySpec{URL: "oci://ghcr.io/x", Verify: &OCIRepositoryVerification{Provider: "cosign"}},
		Status: OCIRepositoryStatus{ContentConfigChecksum: "sha256:abc"},
	}
	hub := &source.OCIRepository{}
	if err := scheme.Convert(in, hub, nil); err != nil {
		t.Fatal(err)
	}
	if hub.Status.ContentConfigChecksum != "sha256:abc" || hub.Spec.Verify.Provider != "cosign" {
		t.Errorf("hub lost v1beta2 data: %+v", hub)
	}
	out := &v1.OCIRepository{}
	if err := scheme.Convert(hub, out, nil); err != nil {
		t.Fatalf("hub to v1: %v", err)
	}
	if out.Spec.URL != in.Spec.URL {
		t.Errorf("v1 spec.url = %q", out.Spec.URL)
	}
}

func TestConversion_BucketFieldsOfOneVersionOnly(t *testing.T) {
	scheme := newScheme(t)
	hub := &source.Bucket{Spec: source.BucketSpec{
		BucketName:         "b",
		ServiceAccountName: "reader",
		AccessFrom:         &common.AccessFrom{NamespaceSelectors: []common.NamespaceSelector{{MatchLabels: map[string]string{"a": "b"}}}},
	}}

	beta := &Bucket{}
	if err := scheme.Convert(hub, beta, nil); err != nil {
		t.Fatalf("hub to v1beta2: %v", err)
	}
	if beta.Spec.BucketName != "b" || beta.Spec.AccessFrom == nil {
		t.Errorf("v1beta2 lost shared or v1beta2 fields: %+v", beta.Spec)
	}

	stored := &v1.Bucket{}
	if err := scheme.Convert(hub, stored, nil); err != nil {
		t.Fatalf("hub to v1: %v", err)
	}
	if stored.Spec.ServiceAccountName != "reader" {
		t.Errorf("v1 lost serviceAccountName: %+v", stored.Spec)
	}
}
