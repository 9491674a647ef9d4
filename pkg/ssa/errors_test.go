package ssa

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestObjectError_WithholdsSecretMessages(t *testing.T) {
	const value = "hunter2-very-secret"
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "db", field.ErrorList{
		field.Invalid(field.NewPath("data").Key("password"), value, "must be base64"),
	})
	err := objectError(secretKind, "Secret/apps/db", "apply", invalid)
	msg := err.Error()
	if strings.Contains(msg, value) {
		t.Fatalf("error shows the secret value: %s", msg)
	}
	for _, want := range []string{"Secret/apps/db apply failed", "Invalid", "data[password]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}

	cm := objectError(schema.GroupKind{Kind: "ConfigMap"}, "ConfigMap/apps/c", "apply", invalid)
	if !strings.Contains(cm.Error(), "must be base64") || !apierrors.IsInvalid(cm) {
		t.Errorf("non-Secret errors keep the message and the status: %v", cm)
	}

	plain := objectError(secretKind, "Secret/apps/db", "apply", errors.New("connection refused"))
	if !strings.Contains(plain.Error(), "connection refused") {
		t.Errorf("transport errors are kept: %v", plain)
	}
}

func TestIsImmutableError(t *testing.T) {
	gk := schema.GroupKind{Kind: "ConfigMap"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"configmap immutable", apierrors.NewInvalid(gk, "c", field.ErrorList{field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set")}), true},
		{"selector immutable", apierrors.NewInvalid(gk, "c", field.ErrorList{field.Invalid(field.NewPath("spec", "selector"), "x", "field is immutable")}), true},
		{"roleRef", apierrors.NewInvalid(gk, "c", field.ErrorList{field.Invalid(field.NewPath("roleRef"), "x", "cannot change roleRef")}), true},
		{"other invalid", apierrors.NewInvalid(gk, "c", field.ErrorList{field.Required(field.NewPath("spec"), "")}), false},
		{"conflict", apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "c", errors.New("immutable")), false},
		{"plain", errors.New("field is immutable"), false},
	}
	for _, tt := range tests {
		if got := isImmutableError(tt.err); got != tt.want {
			t.Errorf("%s: isImmutableError = %v, want %v", tt.name, got, tt.want)
		}
	}
}
