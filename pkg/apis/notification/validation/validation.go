// Package validation checks notification.toolkit.fluxcd.io objects the way
// Flux's CRD schemas (enums, lengths, patterns and CEL rules) do.
package validation

import (
	"regexp"
	"slices"
	"unicode/utf8"

	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/validation"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification"
)

// Length limits from Flux's CRD schemas.
const (
	maxProviderFieldLength = 2048
	maxSummaryLength       = 255
	maxReferenceLength     = 253
)

var (
	proxyPattern     = regexp.MustCompile(`^(http|https)://.*$`)
	issuerURLPattern = regexp.MustCompile(`^https?://`)
)

// ValidateAlert checks a new Alert.
func ValidateAlert(obj *notification.Alert) field.ErrorList {
	errs := validation.ValidateObjectMeta(&obj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateAlertSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateAlertUpdate checks a change to an Alert.
func ValidateAlertUpdate(newObj, oldObj *notification.Alert) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateAlertSpec(&newObj.Spec, field.NewPath("spec"))...)
}

// ValidateProvider checks a new Provider.
func ValidateProvider(obj *notification.Provider) field.ErrorList {
	errs := validation.ValidateObjectMeta(&obj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateProviderSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateProviderUpdate checks a change to a Provider.
func ValidateProviderUpdate(newObj, oldObj *notification.Provider) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateProviderSpec(&newObj.Spec, field.NewPath("spec"))...)
}

// ValidateReceiver checks a new Receiver.
func ValidateReceiver(obj *notification.Receiver) field.ErrorList {
	errs := validation.ValidateObjectMeta(&obj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateReceiverSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateReceiverUpdate checks a change to a Receiver's spec or metadata.
func ValidateReceiverUpdate(newObj, oldObj *notification.Receiver) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateReceiverSpec(&newObj.Spec, field.NewPath("spec"))...)
}

// ValidateReceiverStatusUpdate checks a write to a Receiver's status.
func ValidateReceiverStatusUpdate(newObj, oldObj *notification.Receiver) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&newObj.ObjectMeta, &oldObj.ObjectMeta, field.NewPath("metadata"))
	return append(errs, metav1validation.ValidateConditions(newObj.Status.Conditions, field.NewPath("status", "conditions"))...)
}

func validateAlertSpec(spec *notification.AlertSpec, fld *field.Path) field.ErrorList {
	errs := validation.ValidateLocalObjectReference(spec.ProviderRef, fld.Child("providerRef"))
	errs = append(errs, validation.ValidateOptionalEnum(spec.EventSeverity, fld.Child("eventSeverity"),
		notification.EventSeverityInfo, notification.EventSeverityError)...)
	if spec.EventSources == nil {
		errs = append(errs, field.Required(fld.Child("eventSources"), ""))
	}
	for i := range spec.EventSources {
		errs = append(errs, validateCrossNamespaceObjectReference(&spec.EventSources[i], fld.Child("eventSources").Index(i))...)
	}
	errs = append(errs, validateMaxLength(spec.Summary, maxSummaryLength, fld.Child("summary"))...)
	return errs
}

func validateProviderSpec(spec *notification.ProviderSpec, fld *field.Path) field.ErrorList {
	errs := validation.ValidateEnum(spec.Type, fld.Child("type"), notification.ProviderTypes...)
	errs = append(errs, validation.ValidateOptionalDuration(spec.Interval, fld.Child("interval"))...)
	errs = append(errs, validation.ValidateOptionalDuration(spec.Timeout, fld.Child("timeout"))...)
	errs = append(errs, validateMaxLength(spec.Channel, maxProviderFieldLength, fld.Child("channel"))...)
	errs = append(errs, validateMaxLength(spec.Username, maxProviderFieldLength, fld.Child("username"))...)
	errs = append(errs, validateMaxLength(spec.Address, maxProviderFieldLength, fld.Child("address"))...)
	if spec.Proxy != "" {
		errs = append(errs, validateMaxLength(spec.Proxy, maxProviderFieldLength, fld.Child("proxy"))...)
		if !proxyPattern.MatchString(spec.Proxy) {
			errs = append(errs, field.Invalid(fld.Child("proxy"), spec.Proxy, "must be an http:// or https:// URL"))
		}
	}
	errs = append(errs, validation.ValidateOptionalLocalObjectReference(spec.ProxySecretRef, fld.Child("proxySecretRef"))...)
	errs = append(errs, validation.ValidateOptionalLocalObjectReference(spec.SecretRef, fld.Child("secretRef"))...)
	errs = append(errs, validation.ValidateOptionalLocalObjectReference(spec.CertSecretRef, fld.Child("certSecretRef"))...)
	if spec.CommitStatusExpr != "" && !slices.Contains(notification.CommitStatusProviderTypes, spec.Type) {
		errs = append(errs, field.Forbidden(fld.Child("commitStatusExpr"),
			"spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types"))
	}
	return errs
}

func validateReceiverSpec(spec *notification.ReceiverSpec, fld *field.Path) field.ErrorList {
	errs := validation.ValidateEnum(spec.Type, fld.Child("type"), notification.ReceiverTypes...)
	errs = append(errs, validation.ValidateOptionalDuration(spec.Interval, fld.Child("interval"))...)
	if spec.Resources == nil {
		errs = append(errs, field.Required(fld.Child("resources"), ""))
	}
	for i := range spec.Resources {
		errs = append(errs, validateCrossNamespaceObjectReference(&spec.Resources[i].CrossNamespaceObjectReference, fld.Child("resources").Index(i))...)
	}
	oidc := spec.Type == notification.GenericOIDCReceiver
	switch {
	case oidc && spec.SecretRef != nil:
		errs = append(errs, field.Forbidden(fld.Child("secretRef"), "secretRef cannot be set when type is generic-oidc"))
	case !oidc && spec.SecretRef == nil:
		errs = append(errs, field.Required(fld.Child("secretRef"), "secretRef is required when type is not generic-oidc"))
	}
	errs = append(errs, validation.ValidateOptionalLocalObjectReference(spec.SecretRef, fld.Child("secretRef"))...)
	switch {
	case oidc && len(spec.OIDCProviders) == 0:
		errs = append(errs, field.Required(fld.Child("oidcProviders"), "generic-oidc receivers must define at least one oidcProvider"))
	case !oidc && len(spec.OIDCProviders) > 0:
		errs = append(errs, field.Forbidden(fld.Child("oidcProviders"), "oidcProviders can only be set when type is generic-oidc"))
	}
	return append(errs, validateOIDCProviders(spec.OIDCProviders, fld.Child("oidcProviders"))...)
}

func validateOIDCProviders(providers []notification.OIDCProvider, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i := range providers {
		p, pfld := &providers[i], fld.Index(i)
		switch {
		case p.IssuerURL == "":
			errs = append(errs, field.Required(pfld.Child("issuerURL"), ""))
		case !issuerURLPattern.MatchString(p.IssuerURL):
			errs = append(errs, field.Invalid(pfld.Child("issuerURL"), p.IssuerURL, "must be an http:// or https:// URL"))
		case seen[p.IssuerURL]:
			errs = append(errs, field.Duplicate(pfld.Child("issuerURL"), p.IssuerURL))
		}
		seen[p.IssuerURL] = true
		for j, v := range p.Variables {
			vfld := pfld.Child("variables").Index(j)
			if v.Name == "" {
				errs = append(errs, field.Required(vfld.Child("name"), ""))
			}
			if v.Expression == "" {
				errs = append(errs, field.Required(vfld.Child("expression"), ""))
			}
		}
		if len(p.Validations) == 0 {
			errs = append(errs, field.Required(pfld.Child("validations"), "at least one validation is required"))
		}
		for j, v := range p.Validations {
			if v.Expression == "" {
				errs = append(errs, field.Required(pfld.Child("validations").Index(j).Child("expression"), ""))
			}
		}
	}
	return errs
}

// validateCrossNamespaceObjectReference checks an event source or receiver
// resource. Names and namespaces may be "*", so only lengths are checked.
func validateCrossNamespaceObjectReference(ref *notification.CrossNamespaceObjectReference, fld *field.Path) field.ErrorList {
	errs := validation.ValidateEnum(ref.Kind, fld.Child("kind"), notification.CrossNamespaceObjectKinds...)
	if ref.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	}
	errs = append(errs, validateMaxLength(ref.Name, maxReferenceLength, fld.Child("name"))...)
	return append(errs, validateMaxLength(ref.Namespace, maxReferenceLength, fld.Child("namespace"))...)
}

// validateMaxLength counts characters, as CRD maxLength does.
func validateMaxLength(value string, maxLength int, fld *field.Path) field.ErrorList {
	if utf8.RuneCountInString(value) > maxLength {
		return field.ErrorList{field.TooLong(fld, value, maxLength)}
	}
	return nil
}
