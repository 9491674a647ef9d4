package validation

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

func TestValidateInterval(t *testing.T) {
	fld := field.NewPath("spec", "interval")
	for _, tc := range []struct {
		in      common.Duration
		errType field.ErrorType // "" for valid
		detail  string
	}{
		{"1m", "", ""},
		{"2m", "", ""},
		{"1h30m", "", ""},
		{"", field.ErrorTypeRequired, ""},
		{"0s", field.ErrorTypeInvalid, "must be greater than zero"},
		{"-1s", field.ErrorTypeInvalid, "must be a duration such as 30s, 5m or 1h30m"},
		{"bogus", field.ErrorTypeInvalid, "must be a duration such as 30s, 5m or 1h30m"},
		{"1d", field.ErrorTypeInvalid, "must be a duration such as 30s, 5m or 1h30m"},
		{"3000000h", field.ErrorTypeInvalid, "must be less than"},
	} {
		errs := ValidateInterval(tc.in, fld)
		checkDurationErrors(t, fld, tc.in, errs, tc.errType, tc.detail)
	}
}

func TestValidateOptionalDuration(t *testing.T) {
	fld := field.NewPath("spec", "timeout")
	if errs := ValidateOptionalDuration(nil, fld); len(errs) != 0 {
		t.Errorf("nil: %v", errs)
	}
	for _, tc := range []struct {
		in      common.Duration
		errType field.ErrorType // "" for valid
		detail  string
	}{
		{"2m", "", ""},
		{"0s", "", ""},
		{"1.5s", "", ""},
		{"", field.ErrorTypeInvalid, "must be a duration such as 30s, 5m or 1h30m"},
		{"-1s", field.ErrorTypeInvalid, "must be a duration such as 30s, 5m or 1h30m"},
		{"bogus", field.ErrorTypeInvalid, "must be a duration such as 30s, 5m or 1h30m"},
		{"1d", field.ErrorTypeInvalid, "must be a duration such as 30s, 5m or 1h30m"},
	} {
		d := tc.in
		errs := ValidateOptionalDuration(&d, fld)
		checkDurationErrors(t, fld, tc.in, errs, tc.errType, tc.detail)
	}
}

// checkDurationErrors expects no error when errType is empty, otherwise one
// error of that type on fld that shows the value as written and whose
// detail contains detail.
func checkDurationErrors(t *testing.T, fld *field.Path, in common.Duration, errs field.ErrorList, errType field.ErrorType, detail string) {
	t.Helper()
	if errType == "" {
		if len(errs) != 0 {
			t.Errorf("%q: unexpected errors %v", in, errs)
		}
		return
	}
	if len(errs) != 1 {
		t.Fatalf("%q: got %v, want one %s error", in, errs, errType)
	}
	e := errs[0]
	if e.Type != errType || e.Field != fld.String() || !strings.Contains(e.Detail, detail) {
		t.Errorf("%q: got %v, want %s with detail containing %q", in, e, errType, detail)
	}
	if errType == field.ErrorTypeInvalid && e.BadValue != string(in) {
		t.Errorf("%q: bad value %#v, want the text as written", in, e.BadValue)
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
