// Package validation holds the checks that every Flux API group shares:
// object metadata, durations, references and enums. Each returns a
// field.ErrorList naming the offending field, so callers can aggregate.
package validation

import (
	"errors"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// MaxNameLength is the longest object name a reference may carry.
const MaxNameLength = 253

// ValidateObjectMeta checks the metadata of a namespaced Flux object.
func ValidateObjectMeta(meta *metav1.ObjectMeta, fld *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMeta(meta, true, apimachineryvalidation.NameIsDNSSubdomain, fld)
}

// ValidateObjectMetaUpdate checks a metadata change of a namespaced Flux object.
func ValidateObjectMetaUpdate(newMeta, oldMeta *metav1.ObjectMeta, fld *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMetaUpdate(newMeta, oldMeta, fld)
}

// ValidateInterval requires a duration greater than zero in Flux's syntax.
func ValidateInterval(d common.Duration, fld *field.Path) field.ErrorList {
	if d == "" {
		return field.ErrorList{field.Required(fld, "must be a duration such as 30s, 5m or 1h30m")}
	}
	v, err := d.Parse()
	if err != nil {
		return field.ErrorList{durationError(d, err, fld)}
	}
	if v <= 0 {
		return field.ErrorList{field.Invalid(fld, string(d), "must be greater than zero")}
	}
	return nil
}

// ValidateOptionalDuration accepts nil or a duration in Flux's syntax
// (which has no negative values).
func ValidateOptionalDuration(d *common.Duration, fld *field.Path) field.ErrorList {
	if d == nil {
		return nil
	}
	if _, err := d.Parse(); err != nil {
		return field.ErrorList{durationError(*d, err, fld)}
	}
	return nil
}

// durationError turns an error of common.Duration.Parse into a field error
// that shows the value as written.
func durationError(d common.Duration, err error, fld *field.Path) *field.Error {
	detail := common.ErrDurationSyntax.Error()
	if errors.Is(err, common.ErrDurationRange) {
		detail = common.ErrDurationRange.Error()
	}
	return field.Invalid(fld, string(d), detail)
}

// ValidateName checks that name is a DNS-1123 subdomain, as object names are.
func ValidateName(name string, fld *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(fld, name, msg))
	}
	return errs
}

// ValidateNamespaceName checks an optional namespace (a DNS-1123 label).
func ValidateNamespaceName(ns string, fld *field.Path) field.ErrorList {
	if ns == "" {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsDNS1123Label(ns) {
		errs = append(errs, field.Invalid(fld, ns, msg))
	}
	return errs
}

// ValidateLocalObjectReference requires a valid name.
func ValidateLocalObjectReference(ref common.LocalObjectReference, fld *field.Path) field.ErrorList {
	return ValidateName(ref.Name, fld.Child("name"))
}

// ValidateOptionalLocalObjectReference accepts nil or a valid reference.
func ValidateOptionalLocalObjectReference(ref *common.LocalObjectReference, fld *field.Path) field.ErrorList {
	if ref == nil {
		return nil
	}
	return ValidateLocalObjectReference(*ref, fld)
}

// ValidateSecretKeyReference accepts nil or a reference with a valid name.
func ValidateSecretKeyReference(ref *common.SecretKeyReference, fld *field.Path) field.ErrorList {
	if ref == nil {
		return nil
	}
	return ValidateName(ref.Name, fld.Child("name"))
}

// ValidateNamespacedObjectReference requires a valid name and, if given, namespace.
func ValidateNamespacedObjectReference(ref common.NamespacedObjectReference, fld *field.Path) field.ErrorList {
	errs := ValidateName(ref.Name, fld.Child("name"))
	return append(errs, ValidateNamespaceName(ref.Namespace, fld.Child("namespace"))...)
}

// ValidateNamespacedObjectKindReference requires a kind among allowedKinds
// (any kind when none are given), a valid name and an optional namespace.
func ValidateNamespacedObjectKindReference(ref common.NamespacedObjectKindReference, fld *field.Path, allowedKinds ...string) field.ErrorList {
	var errs field.ErrorList
	if len(allowedKinds) > 0 {
		errs = append(errs, ValidateEnum(ref.Kind, fld.Child("kind"), allowedKinds...)...)
	} else if ref.Kind == "" {
		errs = append(errs, field.Required(fld.Child("kind"), ""))
	}
	errs = append(errs, ValidateName(ref.Name, fld.Child("name"))...)
	return append(errs, ValidateNamespaceName(ref.Namespace, fld.Child("namespace"))...)
}

// ValidateEnum requires value to be one of allowed.
func ValidateEnum(value string, fld *field.Path, allowed ...string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fld, "must be one of "+quoteAll(allowed))}
	}
	return ValidateOptionalEnum(value, fld, allowed...)
}

// ValidateOptionalEnum accepts an empty value or one of allowed.
func ValidateOptionalEnum(value string, fld *field.Path, allowed ...string) field.ErrorList {
	if value == "" {
		return nil
	}
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fld, value, allowed)}
}

// ValidateKubeConfigReference accepts nil or exactly one of secretRef and configMapRef.
func ValidateKubeConfigReference(ref *common.KubeConfigReference, fld *field.Path) field.ErrorList {
	if ref == nil {
		return nil
	}
	var errs field.ErrorList
	switch {
	case ref.SecretRef == nil && ref.ConfigMapRef == nil:
		errs = append(errs, field.Required(fld, "one of secretRef or configMapRef is required"))
	case ref.SecretRef != nil && ref.ConfigMapRef != nil:
		errs = append(errs, field.Forbidden(fld.Child("configMapRef"), "may not be set together with secretRef"))
	}
	errs = append(errs, ValidateSecretKeyReference(ref.SecretRef, fld.Child("secretRef"))...)
	return append(errs, ValidateOptionalLocalObjectReference(ref.ConfigMapRef, fld.Child("configMapRef"))...)
}

func quoteAll(values []string) string {
	s := ""
	for i, v := range values {
		if i > 0 {
			s += ", "
		}
		s += `"` + v + `"`
	}
	return s
}
