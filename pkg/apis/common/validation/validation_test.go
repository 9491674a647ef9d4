package validation

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

func TestValidateInterval(t *testing.T) {
	for _, tc := range []struct {
		d       time.Duration
		wantErr bool
	}{{time.Minute, false}, {0, true}, {-time.Second, true}} {
		errs := ValidateInterval(metav1.Duration{Duration: tc.d}, field.NewPath("spec", "interval"))
		if (len(errs) > 0) != tc.wantErr {
			t.Errorf("%v: got %v, wantErr %v", tc.d, errs, tc.wantErr)
		}
		if tc.wantErr && errs[0].Field != "spec.interval" {
			t.Errorf("field = %q", errs[0].Field)
		}
	}
}

func TestValidateNamespacedObjectKindReference(t *testing.T) {
	fld := field.NewPath("spec", "sourceRef")
	for _, tc := range []struct {
		name   string
		ref    common.NamespacedObjectKindReference
		fields []string
	}{
		{"valid", common.NamespacedObjectKindReference{Kind: "GitRepository", Name: "podinfo"}, nil},
		{"bad kind", common.NamespacedObjectKindReference{Kind: "Secret", Name: "x"}, []string{"spec.sourceRef.kind"}},
		{"missing everything", common.NamespacedObjectKindReference{}, []string{"spec.sourceRef.kind", "spec.sourceRef.name"}},
		{"bad namespace", common.NamespacedObjectKindReference{Kind: "Bucket", Name: "x", Namespace: "Not_OK"}, []string{"spec.sourceRef.namespace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidateNamespacedObjectKindReference(tc.ref, fld, "GitRepository", "Bucket")
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
			}
			if len(got) != len(tc.fields) {
				t.Fatalf("got %v, want %v", errs, tc.fields)
			}
			for i := range got {
				if got[i] != tc.fields[i] {
					t.Errorf("got %v, want %v", got, tc.fields)
				}
			}
		})
	}
}

func TestValidateKubeConfigReference(t *testing.T) {
	fld := field.NewPath("spec", "kubeConfig")
	if errs := ValidateKubeConfigReference(&common.KubeConfigReference{}, fld); len(errs) != 1 {
		t.Errorf("empty: %v", errs)
	}
	both := &common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "a"}, ConfigMapRef: &common.LocalObjectReference{Name: "b"}}
	if errs := ValidateKubeConfigReference(both, fld); len(errs) != 1 || errs[0].Field != "spec.kubeConfig.configMapRef" {
		t.Errorf("both: %v", errs)
	}
	if errs := ValidateKubeConfigReference(&common.KubeConfigReference{SecretRef: &common.SecretKeyReference{Name: "kc"}}, fld); len(errs) != 0 {
		t.Errorf("valid: %v", errs)
	}
}

func TestValidateOptionalEnum(t *testing.T) {
	fld := field.NewPath("spec", "provider")
	if errs := ValidateOptionalEnum("", fld, "generic", "aws"); len(errs) != 0 {
		t.Errorf("empty: %v", errs)
	}
	if errs := ValidateEnum("", fld, "generic", "aws"); len(errs) != 1 || errs[0].Type != field.ErrorTypeRequired {
		t.Errorf("required: %v", errs)
	}
	if errs := ValidateOptionalEnum("gcp", fld, "generic", "aws"); len(errs) != 1 || errs[0].Type != field.ErrorTypeNotSupported {
		t.Errorf("unsupported: %v", errs)
	}
}
